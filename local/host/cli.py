"""The command line of the local host (`python -m local.host`): serve an app's functions, timers and
blob triggers locally."""

from __future__ import annotations

import argparse
import logging
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    pass

from local.host.blob_triggers import DEFAULT_BLOB_POLL_SECONDS
from local.host.cosmos_triggers import DEFAULT_COSMOS_POLL_SECONDS
from local.host.functions_index import load_app
from local.host.server import LocalHTTPServer, make_server

log = logging.getLogger("local.host")


def _positive_seconds(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be a positive number of seconds, not {text}")
    return value


def cli_server(argv: list[str] | None = None) -> LocalHTTPServer:
    """The server `python -m local.host` runs, built from its arguments (not yet serving)."""
    parser = argparse.ArgumentParser(description="Serve a FunctionApp's functions locally")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", default=7071, type=int)
    parser.add_argument("--app", default="function_app:app", help="module:attribute of the FunctionApp")
    parser.add_argument("--no-timers", action="store_true", help="do not run timer-triggered functions")
    parser.add_argument(
        "--no-blob-triggers", action="store_true", help="do not poll for blob-triggered functions"
    )
    parser.add_argument(
        "--blob-poll-seconds",
        default=DEFAULT_BLOB_POLL_SECONDS,
        type=_positive_seconds,
        help=f"how often blob triggers list their containers (default {DEFAULT_BLOB_POLL_SECONDS:g})",
    )
    parser.add_argument(
        "--no-cosmos-triggers", action="store_true", help="do not poll for Cosmos DB-triggered functions"
    )
    parser.add_argument(
        "--cosmos-poll-seconds",
        default=DEFAULT_COSMOS_POLL_SECONDS,
        type=_positive_seconds,
        help=f"how often Cosmos DB triggers query their containers (default {DEFAULT_COSMOS_POLL_SECONDS:g})",
    )
    args = parser.parse_args(argv)
    return make_server(
        load_app(args.app),
        args.host,
        args.port,
        timers=not args.no_timers,
        blob_triggers=not args.no_blob_triggers,
        blob_poll_seconds=args.blob_poll_seconds,
        cosmos_triggers=not args.no_cosmos_triggers,
        cosmos_poll_seconds=args.cosmos_poll_seconds,
    )


def _describe(server: LocalHTTPServer, function: Any) -> None:
    name = function.get_function_name()
    runner, blobs = server.timer_runner, server.blob_triggers
    types = {binding.type for binding in function.get_bindings()}
    if runner is not None and name in runner.schedules:
        log.info("timer %s: %s (UTC)", name, runner.schedules[name].expression)
    elif blobs is not None and "blobTrigger" in types:
        watch = next((w for w in blobs.watches if w.function.name == name), None)
        if watch is not None:  # else it is in error, which was logged
            log.info(
                "blob trigger %s: %s/%s (source %s, listed every %g s)",
                name,
                watch.path.container,
                watch.path.pattern,
                watch.function.source or "LogsAndContainerScan",
                blobs.poll_seconds,
            )
    elif server.cosmos_triggers is not None and "cosmosDBTrigger" in types:
        if name not in server.cosmos_triggers.errors:
            log.info("Cosmos DB trigger %s: polled every %g s", name, server.cosmos_triggers.poll_seconds)
    else:
        why = {
            "timerTrigger": ", timers off",
            "blobTrigger": ", blob triggers off",
            "cosmosDBTrigger": ", Cosmos DB triggers off",
        }
        off = "".join(why.get(kind, "") for kind in sorted(types))
        log.info("not served (no HTTP trigger%s): %s", off, name)


def main(argv: list[str] | None = None) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # The Azure SDKs log every HTTP exchange at INFO; that drowns the app's own messages.
    logging.getLogger("azure").setLevel(logging.WARNING)
    server = cli_server(argv)
    functions_host = server.functions_host
    for function in functions_host.non_http_functions:
        _describe(server, function)
    prefix = f"/{functions_host.route_prefix}" if functions_host.route_prefix else ""
    host, port = server.server_address[:2]
    print(f"Serving {len(functions_host.routes)} routes at http://{host}:{port}{prefix}", flush=True)
    server.start_timers()
    server.start_blob_triggers()
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop_triggers()
        server.server_close()


if __name__ == "__main__":
    main()
