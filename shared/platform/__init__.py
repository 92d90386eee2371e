"""Platform: settings, errors and their codes, the clock, encodings, cursors, Result objects,
telemetry and readiness. Imports nothing else of the service."""
