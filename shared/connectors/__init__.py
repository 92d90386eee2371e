"""Live PIM synchronization: connectors pull products from a PIM into passports (docs/connectors.md)."""
