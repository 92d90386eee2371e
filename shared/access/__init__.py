"""Access: who the caller is (bearer tokens), the roles, the access policy, and every
authorization decision."""
