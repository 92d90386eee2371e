"""Passports: the versioned repository (atomic signed writes), artifacts, the life cycle and fine
granular operations, and the signed history."""
