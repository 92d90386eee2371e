"""Re-issue passports stored before SD-JWT issuance: `python -m local.migrate`.

Reads the same settings as the function app (locally: `make run`'s environment; against Azure:
the app's settings, with an identity that may read and write the Cosmos DB account and sign with
the Key Vault key). Prints what it re-issued and what it refused (see shared/passports/migration.py).
"""

from __future__ import annotations

import json

from functions import app_root
from shared.passports.migration import Migration
from shared.platform.settings import load_settings


def main() -> None:
    root = app_root(load_settings())
    report = Migration(root.passports, root.issuance, root.keyring).run()
    print(json.dumps(report.summary(), indent=2))


if __name__ == "__main__":
    main()
