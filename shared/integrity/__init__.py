"""Integrity: RFC 8785 canonical JSON, content hashes and detached JWS seals, signers (a local key
or Key Vault), the key ring of every key that signed, verification, and the issuer's did:web."""
