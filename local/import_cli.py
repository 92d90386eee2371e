"""Upload a spreadsheet or PIM export to the running service and watch it import.

    python -m local.import_cli products.csv --mapping akeneo --operator did:example:acme
    python -m local.import_cli passports.jsonl            # JSON Lines of passport documents
    python -m local.import_cli sheet.xlsx --mapping my-mapping.yaml --api http://127.0.0.1:7071/api

It asks the API for an import (`POST /api/v1/imports`, with a token from the local development
issuer unless `--token` is given), uploads the file to the write-only link it gets back, and polls
the import's status with a progress bar until the report is ready. Exit status: 0 when every row
was imported, 3 when some rows failed (see the report), 1 when the file as a whole failed.
Only the standard library is used, so it runs from any checkout with `make run` going.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

REPO = Path(__file__).resolve().parent.parent
DEFAULT_API = "http://127.0.0.1:7071/api"
DEFAULT_OPERATOR = "did:pierriecardin:manufacturing:europe"
BAR = 30
COUNTERS = ("created", "updated", "unchanged", "failed")


def _call(method: str, url: str, body: bytes | None = None, headers: dict[str, str] | None = None) -> Any:
    request = urllib.request.Request(url, data=body, method=method, headers=headers or {})  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            raw = response.read()
    except urllib.error.HTTPError as exc:
        detail = exc.read().decode("utf-8", "replace")
        raise SystemExit(f"{method} {url.split('?', maxsplit=1)[0]} answered {exc.code}: {detail}") from None
    return json.loads(raw) if raw else None


def _token(args: argparse.Namespace) -> str:
    if args.token:
        return args.token
    from local.tokens import mint

    return mint(REPO / ".local" / "dev-issuer", roles=["operator"], operator=args.operator)


def _mapping(value: str | None) -> Any:
    """A shipped mapping's name stays a name; a file is read (YAML, which includes JSON)."""
    if value is None or not Path(value).is_file():
        return value
    import yaml

    return yaml.safe_load(Path(value).read_text(encoding="utf-8"))


def progress_line(status: dict[str, Any]) -> str:
    total, done = status.get("total"), status.get("processed", 0)
    filled = int(BAR * done / total) if total else 0
    counts = " ".join(
        f"{name} {status.get(name, 0)}" for name in ("created", "updated", "unchanged", "failed")
    )
    return (
        f"[{'#' * filled}{'.' * (BAR - filled)}] {done}/{total if total is not None else '?'} rows  {counts}"
    )


def upload_headers(grant: dict[str, Any], authorization: str) -> dict[str, str]:
    """The upload's headers; the token too when the link is the service's own upload route
    (DPP_STORAGE_LINKS=app), never to a SAS link, which carries its own authorization."""
    own = urlsplit(grant["uploadUrl"])[:2] == urlsplit(grant["statusUrl"])[:2]
    return {**grant["uploadHeaders"], **({"Authorization": authorization} if own else {})}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("file", type=Path)
    parser.add_argument("--mapping", help="a shipped mapping (akeneo, pimcore) or a mapping file")
    parser.add_argument("--format", help="csv, xlsx, json or jsonl (default: from the file name)")
    parser.add_argument("--operator", default=DEFAULT_OPERATOR, help="economicOperatorId to import for")
    parser.add_argument("--api", default=DEFAULT_API)
    parser.add_argument("--token", help="bearer token (default: one from the local dev issuer)")
    parser.add_argument("--timeout", type=float, default=3600, help="seconds to wait for the report")
    args = parser.parse_args(argv)

    auth = {"Authorization": f"Bearer {_token(args)}", "Content-Type": "application/json"}
    request = {"fileName": args.file.name, "mapping": _mapping(args.mapping), "format": args.format}
    grant = _call(
        "POST", f"{args.api}/v1/imports", json.dumps({k: v for k, v in request.items() if v}).encode(), auth
    )
    print(f"import {grant['importId']}: uploading {args.file} ({args.file.stat().st_size} bytes)", flush=True)
    _call("PUT", grant["uploadUrl"], args.file.read_bytes(), upload_headers(grant, auth["Authorization"]))
    deadline = time.monotonic() + args.timeout
    status = grant
    while status["state"] not in ("done", "failed") and time.monotonic() < deadline:
        time.sleep(0.5)
        status = _call("GET", grant["statusUrl"], headers={"Authorization": auth["Authorization"]})
        print("\r" + progress_line(status), end="", flush=True)
    print()
    if status["state"] == "failed":
        print(f"the file failed: {status.get('reason')}")
        return 1
    if status["state"] != "done":
        print("still running; status:", grant["statusUrl"])
        return 1
    for failure in status.get("failures", []):
        print(f"  row {failure['row']} column {failure['column']}: {failure['reason']}")
    for kind, url in status.get("report", {}).items():
        print(f"report ({kind}): {url}")
    return 3 if status.get("failed") else 0


if __name__ == "__main__":
    sys.path.insert(0, str(REPO))
    sys.exit(main())
