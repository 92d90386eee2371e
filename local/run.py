"""`make run`: the whole system on this machine.

Starts Azurite and the Cosmos-compatible server, creates the dev token issuer, the database and
containers, seeds the PierrieCardin polo passport, writes local.settings.json, and serves the API
at http://127.0.0.1:7071/api: through Azure Functions Core Tools when `func` is on PATH, else
through the project's local host (local/host/), which serves the same registered functions.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from shared.composition import Root

REPO = Path(__file__).resolve().parent.parent
SEED = Path(__file__).resolve().parent / "seed" / "pierriecardin-polo.json"


def local_settings(env: dict[str, str]) -> dict[str, Any]:
    values = {"FUNCTIONS_WORKER_RUNTIME": "python", **env}
    return {"IsEncrypted": False, "Values": values, "Host": {"LocalHttpPort": 7071}}


def dev_environment(stack_env: dict[str, str], issuer_dir: Path) -> dict[str, str]:
    from local.tokens import AUDIENCE, ISSUER, ensure_issuer
    from shared.integrity.signers import ensure_local_key

    jwks = ensure_issuer(issuer_dir)
    signing_key = ensure_local_key(issuer_dir.parent / "signing" / "signing-key.pem")
    return {
        "DPP_SIGNING_KEY_FILE": str(signing_key),
        **stack_env,
        # The change-feed trigger's connection, which the local host polls (its own client).
        "COSMOS_CHANGES": (
            f"AccountEndpoint={stack_env['COSMOS_ENDPOINT']};AccountKey={stack_env['COSMOS_KEY']};"
        ),
        "COSMOS_DATABASE": "dpp",
        "AUTH_ISSUER": ISSUER,
        "AUTH_AUDIENCE": AUDIENCE,
        "AUTH_JWKS_FILE": str(jwks),
        "AUTH_OPERATOR_CLAIM": "economicOperatorId",
        # Two local instances may name each other's passports (over http, on loopback).
        "DPP_OUTBOUND_ALLOW_HTTP": "true",
        "DPP_OUTBOUND_ALLOWED_NETWORKS": "127.0.0.0/8,::1/128",
    }


SEED_ARTIFACTS = {
    "composition": ("composition.json", "application/json"),
    "supplychain": ("supplychain.ttl", "text/turtle"),
}


# The seed operator's namespaces: its URNs, and the GS1 company prefix of its example products
# (the Akeneo export in tests/fixtures/imports).
SEED_OPERATOR = "did:pierriecardin:manufacturing:europe"
SEED_PREFIXES, SEED_COMPANY_PREFIXES = ["urn:pierriecardin:"], ["4012345"]


def assign_namespaces(
    root: Root, operator_id: str, prefixes: list[str], companies: list[str] | None = None
) -> None:
    """What an authority does before an operator can issue passports: assign its namespaces
    (`make run` for the seed operator, the tests and the benchmarks for theirs)."""
    from shared.access.authentication import Principal
    from shared.access.roles import AUTHORITY

    body = {"productIdPrefixes": prefixes, "gs1CompanyPrefixes": companies or []}
    root.operators.assign(operator_id, body, Principal("local-authority", frozenset({AUTHORITY})))


def seed(root: Root) -> str:
    """Assign the seed operator its namespaces, then create the seed passport and its artifacts
    unless present; returns what happened."""
    from shared.access.authentication import Principal
    from shared.access.roles import OPERATOR
    from shared.platform.errors import Conflict

    document = json.loads(SEED.read_text(encoding="utf-8"))
    dpp_id = document["digitalProductPassportId"]
    assign_namespaces(root, SEED_OPERATOR, SEED_PREFIXES, SEED_COMPANY_PREFIXES)
    owner = Principal("local-seed", frozenset({OPERATOR}), document["economicOperatorId"])
    service = root.service
    try:
        service.create(document, owner)
        done = f"seeded {dpp_id}"
    except Conflict:
        done = f"seed present: {dpp_id}"
    stored = service.read(dpp_id)["artifacts"]
    for artifact_type, (name, media_type) in SEED_ARTIFACTS.items():
        if artifact_type not in stored:
            data = (SEED.parent / "artifacts" / name).read_bytes()
            service.put_artifact(dpp_id, artifact_type, (data, media_type), owner, None)
    return done


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data-dir", default=str(REPO / ".local"), type=Path)
    parser.add_argument("--port", default=7071, type=int)
    parser.add_argument("--cosmos-port", default=8081, type=int)
    parser.add_argument("--blob-port", default=10000, type=int)
    parser.add_argument("--queue-port", default=10001, type=int)
    parser.add_argument("--table-port", default=10002, type=int)
    parser.add_argument("--no-func", action="store_true", help="use the local host even if func is on PATH")
    args = parser.parse_args(argv)
    # Turn SIGTERM into a normal exit so the finally below stops the child servers.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))

    from local.stack import start_stack

    stack = start_stack(
        args.data_dir,
        cosmos_port=args.cosmos_port,
        blob_port=args.blob_port,
        queue_port=args.queue_port,
        table_port=args.table_port,
    )
    try:
        env = dev_environment(stack.env(), args.data_dir / "dev-issuer")
        # The DIDs this instance signs under name its own port: a second instance (another
        # --port and --data-dir) is another provider.
        env["DPP_PUBLIC_URL"] = os.environ.get("DPP_PUBLIC_URL") or f"http://127.0.0.1:{args.port}"
        os.environ.update(env)
        # The default instance's settings are the repository's (what `func start` reads); another
        # instance's (another --data-dir) stay beside its data.
        default = args.data_dir.resolve() == (REPO / ".local").resolve()
        settings_file = REPO / "local.settings.json" if default else args.data_dir / "local.settings.json"
        settings_file.write_text(json.dumps(local_settings(env), indent=2) + "\n")
        from functions import app_root
        from shared.platform.settings import load_settings

        print(seed(app_root(load_settings())), flush=True)
        serve(args.port, env, use_func=not args.no_func and shutil.which("func") is not None)
    finally:
        stack.stop()


def serve(port: int, env: dict[str, str], *, use_func: bool) -> None:
    print(f"API: http://127.0.0.1:{port}/api   (make token ROLE=operator OPERATOR=...)", flush=True)
    if use_func:
        process = subprocess.Popen(
            ["func", "start", "--port", str(port)], cwd=REPO, env={**os.environ, **env}
        )
        try:
            process.wait()
        finally:
            process.terminate()
            process.wait()
        return
    from local.host.cli import main as host_main

    with contextlib.suppress(KeyboardInterrupt):
        host_main(["--host", "127.0.0.1", "--port", str(port), "--app", "function_app:app"])


if __name__ == "__main__":
    sys.path.insert(0, str(REPO))
    main()
