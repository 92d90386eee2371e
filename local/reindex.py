"""Derive the indexes again after an upgrade that added to them: `python -m local.reindex`.

Passports whose search-index mark is of an older format than the code's (`shared.publication.
derived.FORMAT`) get their entries derived again from their heads: the search entries, the
reverse relations, the AAS listing partitions, the status list bits. Others are left as they are,
so the command may run again, or beside the change feed, at any time. Reads the same settings as
the function app (locally `make run`'s environment; against Azure the app's settings, with an
identity that may read and write the Cosmos DB account).
"""

from __future__ import annotations

import json

from functions import app_root
from shared.platform.settings import load_settings


def main() -> None:
    root = app_root(load_settings())
    print(json.dumps({"passportsReindexed": root.derived.rebuild()}))


if __name__ == "__main__":
    main()
