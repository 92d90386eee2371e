"""Start and stop the local backing services: Azurite (Blob, Queue, Table) and the
Cosmos-compatible server `@vercel/cosmosdb-server`, both from node_modules (npm ci).

    python -m local.stack --data-dir .local --cosmos-port 8081 --blob-port 10000 \
        --queue-port 10001 --table-port 10002
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import os
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import NoReturn

REPO = Path(__file__).resolve().parent.parent
NODE_BIN = REPO / "node_modules" / ".bin"
# Starts cosmosdb-server with a fix for its 500-instead-of-404 on missing items (see the file).
LAUNCHER = Path(__file__).resolve().parent / "cosmosdb-server.cjs"
HOST = "127.0.0.1"
# Well-known, public development keys of the emulators (not secrets).
COSMOS_EMULATOR_KEY = (
    "C2y6yDjf5/R+ob0N8A7Cgv30VRDJIWEHLM+4QDU5DE2nQ9nDuVTqobD4b8mGGyPMbIZnqyMsEcaGQy67XIw/Jw=="
)
AZURITE_ACCOUNT = "devstoreaccount1"
AZURITE_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
START_TIMEOUT = 60.0
STOP_GRACE = 5.0
# The order of Stack.processes.
SERVICES = ("cosmos", "azurite")
LOG_TAIL_CHARS = 2000


class StackError(RuntimeError):
    """The stack could not start: missing tools, a taken port, or a service that did not come up."""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def port_in_use(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex((HOST, port)) == 0


def node_binary(name: str) -> Path:
    path = NODE_BIN / name
    if not path.exists():
        raise StackError(f"{path} is missing: run `npm ci` in {REPO} (make setup does)")
    return path


def _node() -> str:
    node = shutil.which("node")
    if node is None:
        raise StackError("node is not on PATH: install Node.js 20 (the local stack runs on it)")
    return node


@dataclass
class Stack:
    data_dir: Path
    cosmos_port: int
    blob_port: int
    queue_port: int
    table_port: int
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)

    @property
    def cosmos_endpoint(self) -> str:
        return f"http://{HOST}:{self.cosmos_port}"

    @property
    def storage_connection_string(self) -> str:
        return (
            f"DefaultEndpointsProtocol=http;AccountName={AZURITE_ACCOUNT};AccountKey={AZURITE_KEY};"
            f"BlobEndpoint=http://{HOST}:{self.blob_port}/{AZURITE_ACCOUNT};"
            f"QueueEndpoint=http://{HOST}:{self.queue_port}/{AZURITE_ACCOUNT};"
            f"TableEndpoint=http://{HOST}:{self.table_port}/{AZURITE_ACCOUNT};"
        )

    def env(self) -> dict[str, str]:
        return {
            "DPP_ENVIRONMENT": "local",
            "COSMOS_ENDPOINT": self.cosmos_endpoint,
            "COSMOS_KEY": COSMOS_EMULATOR_KEY,
            "COSMOS_VERIFY_TLS": "false",
            "AzureWebJobsStorage": self.storage_connection_string,
        }

    def stop(self) -> None:
        """Stop both services (SIGTERM, SIGKILL after 5 s); calling it again does nothing."""
        for process in self.processes:
            _signal_group(process, signal.SIGTERM)
        deadline = time.monotonic() + STOP_GRACE
        for process in self.processes:
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                _signal_group(process, signal.SIGKILL)
                process.wait()
        self.processes.clear()

    # Fault runs (bench/load.py, tests/storage/test_outages.py) stop one service and bring it back.

    def _service(self, name: str) -> subprocess.Popen[bytes]:
        return self.processes[SERVICES.index(name)]

    def freeze(self, name: str) -> None:
        """SIGSTOP a service ("cosmos" or "azurite"): connections open, nothing answers."""
        _signal_group(self._service(name), signal.SIGSTOP)

    def thaw(self, name: str) -> None:
        _signal_group(self._service(name), signal.SIGCONT)

    def stop_azurite(self) -> None:
        """Stop Azurite alone; its data stays in data_dir for `start_azurite`. (The Cosmos server
        keeps its data in memory only, so it cannot be stopped this way without losing it.)"""
        process = self._service("azurite")
        _signal_group(process, signal.SIGTERM)
        try:
            process.wait(timeout=STOP_GRACE)
        except subprocess.TimeoutExpired:
            _signal_group(process, signal.SIGKILL)
            process.wait()

    def start_azurite(self) -> None:
        """Start Azurite again on its ports and data; returns once it answers."""
        log_file = self.data_dir / "azurite.log"
        process = _spawn(_azurite_command(self), log_file)
        self.processes[SERVICES.index("azurite")] = process
        _wait_for_azurite(self, process, log_file, time.monotonic() + START_TIMEOUT)

    def __enter__(self) -> Stack:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _signal_group(process: subprocess.Popen[bytes], signum: signal.Signals) -> None:
    # The whole group: whatever node spawned goes too, even if node itself already exited.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signum)


def _spawn(command: list[str], log_file: Path) -> subprocess.Popen[bytes]:
    with log_file.open("ab") as log:
        # Own process group (session), so stop() can take down the service and its children.
        return subprocess.Popen(
            command,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            cwd=REPO,
        )


def _answers_http(port: int, path: str) -> bool:
    """Any HTTP status counts: the server accepted the connection and speaks HTTP.

    http.client rather than urllib, which would route loopback calls through an HTTP(S)_PROXY.
    """
    connection = http.client.HTTPConnection(HOST, port, timeout=2)
    try:
        connection.request("GET", path)
        connection.getresponse().read()
        return True
    except (OSError, http.client.HTTPException):
        return False
    finally:
        connection.close()


def _log_tail(log_file: Path) -> str:
    return log_file.read_text(errors="replace")[-LOG_TAIL_CHARS:] if log_file.exists() else ""


def _wait_until_up(
    process: subprocess.Popen[bytes], name: str, *, port: int, path: str, log_file: Path, deadline: float
) -> None:
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        if _answers_http(port, path):
            return
        time.sleep(0.1)
    state = f"exited with code {process.returncode}" if process.poll() is not None else "timed out"
    raise StackError(
        f"{name} did not answer on http://{HOST}:{port}{path} ({state}); {log_file} ends with:\n"
        f"{_log_tail(log_file)}"
    )


def choose_ports(*requested: int) -> list[int]:
    """The requested ports, with 0 replaced by a free loopback port; fails if any is taken."""
    ports: list[int] = []
    for port in requested:
        chosen = port or free_port()
        while port == 0 and chosen in ports:  # the OS may hand out a just-released port again
            chosen = free_port()
        ports.append(chosen)
    if len(set(ports)) != len(ports):
        raise StackError(f"each service needs its own port, got {ports}")
    busy = [port for port in ports if port_in_use(port)]
    if busy:
        raise StackError(f"port(s) already in use on {HOST}: {busy} (is another local stack still running?)")
    return ports


def _azurite_command(stack: Stack) -> list[str]:
    return [
        str(node_binary("azurite")),
        "--silent",
        "--skipApiVersionCheck",
        "--loose",
        "--location",
        str(stack.data_dir / "azurite"),
        "--blobHost",
        HOST,
        "--blobPort",
        str(stack.blob_port),
        "--queueHost",
        HOST,
        "--queuePort",
        str(stack.queue_port),
        "--tableHost",
        HOST,
        "--tablePort",
        str(stack.table_port),
    ]


def _cosmos_command(stack: Stack) -> list[str]:
    node_binary("cosmosdb-server")  # present, or a clear message to run npm ci
    return [_node(), str(LAUNCHER), "--no-ssl", "--host", HOST, "-p", str(stack.cosmos_port)]


def start_stack(
    data_dir: Path, cosmos_port: int = 0, blob_port: int = 0, queue_port: int = 0, table_port: int = 0
) -> Stack:
    """Start Azurite and the Cosmos-compatible server; returns once both answer HTTP."""
    # Absolute: the services run with the repo as working directory, not the caller's.
    data_dir = Path(data_dir).resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    stack = Stack(data_dir, *choose_ports(cosmos_port, blob_port, queue_port, table_port))
    cosmos_log, azurite_log = data_dir / "cosmosdb-server.log", data_dir / "azurite.log"
    try:
        cosmos = _spawn(_cosmos_command(stack), cosmos_log)
        stack.processes.append(cosmos)
        azurite = _spawn(_azurite_command(stack), azurite_log)
        stack.processes.append(azurite)
        deadline = time.monotonic() + START_TIMEOUT
        _wait_until_up(
            cosmos,
            "cosmosdb-server",
            port=stack.cosmos_port,
            path="/",
            log_file=cosmos_log,
            deadline=deadline,
        )
        _wait_for_azurite(stack, azurite, azurite_log, deadline)
    except BaseException:
        stack.stop()
        raise
    return stack


def _wait_for_azurite(
    stack: Stack, azurite: subprocess.Popen[bytes], log_file: Path, deadline: float
) -> None:
    # Azurite opens its three services independently; the app may use any of them at once.
    for service, port, path in (
        ("Azurite Blob", stack.blob_port, f"/{AZURITE_ACCOUNT}?comp=list"),
        ("Azurite Queue", stack.queue_port, f"/{AZURITE_ACCOUNT}?comp=list"),
        ("Azurite Table", stack.table_port, f"/{AZURITE_ACCOUNT}/Tables"),
    ):
        _wait_until_up(azurite, service, port=port, path=path, log_file=log_file, deadline=deadline)


def _interrupt(signum: int, frame: FrameType | None) -> NoReturn:
    raise KeyboardInterrupt  # SIGTERM takes the same way out as Ctrl-C, through stop()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Run Azurite and the Cosmos-compatible server")
    parser.add_argument("--data-dir", default=REPO / ".local", type=Path)
    parser.add_argument("--cosmos-port", default=8081, type=int)
    parser.add_argument("--blob-port", default=10000, type=int)
    parser.add_argument("--queue-port", default=10001, type=int)
    parser.add_argument("--table-port", default=10002, type=int)
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        stack = start_stack(args.data_dir, args.cosmos_port, args.blob_port, args.queue_port, args.table_port)
    except StackError as error:
        raise SystemExit(f"local stack: {error}") from error
    try:
        for key, value in stack.env().items():
            print(f"{key}={value}", flush=True)
        while True:
            signal.pause()
    except KeyboardInterrupt:
        pass
    finally:
        stack.stop()


if __name__ == "__main__":
    main()
