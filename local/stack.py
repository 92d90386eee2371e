"""Start and stop the local backing services: Azurite (Blob, Queue, Table) and the
Cosmos-compatible server `@vercel/cosmosdb-server`, both from node_modules (npm ci).

    python -m local.stack --data-dir .local --cosmos-port 8081
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

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


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def _port_in_use(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex((HOST, port)) == 0


def _binary(name: str) -> Path:
    path = NODE_BIN / name
    if not path.exists():
        raise RuntimeError(f"{path} is missing: run `npm ci` in {REPO} (make setup does)")
    return path


@dataclass
class Stack:
    data_dir: Path
    cosmos_port: int
    blob_port: int
    queue_port: int
    table_port: int
    processes: list[subprocess.Popen] = field(default_factory=list)

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
        for process in self.processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + 5
        for process in self.processes:
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        self.processes.clear()

    def __enter__(self) -> Stack:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _spawn(command: list[str], log_file: Path) -> subprocess.Popen:
    with log_file.open("ab") as log:
        # Own process group: stop() takes down node and anything it spawned.
        return subprocess.Popen(
            command,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            cwd=REPO,
        )


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2):  # noqa: S310 (loopback URL we built)
            return True
    except urllib.error.HTTPError:
        return True  # any HTTP status means the server is up
    except (urllib.error.URLError, OSError):
        return False


def _wait(process: subprocess.Popen, url: str, log_file: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        if _answers(url):
            return
        time.sleep(0.1)
    tail = log_file.read_text(errors="replace")[-2000:] if log_file.exists() else ""
    raise RuntimeError(f"{url} did not come up (exit code {process.poll()}); log tail:\n{tail}")


def start_stack(
    data_dir: Path, cosmos_port: int = 0, blob_port: int = 0, queue_port: int = 0, table_port: int = 0
) -> Stack:
    data_dir = Path(data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    ports = [port or free_port() for port in (cosmos_port, blob_port, queue_port, table_port)]
    busy = [port for port in ports if _port_in_use(port)]
    if busy:
        raise RuntimeError(f"ports already in use: {busy} (is another `make run` still running?)")
    stack = Stack(data_dir, *ports)
    try:
        cosmos_log, azurite_log = data_dir / "cosmosdb-server.log", data_dir / "azurite.log"
        _binary("cosmosdb-server")  # present, or a clear message to run npm ci
        cosmos = _spawn(
            ["node", str(LAUNCHER), "--no-ssl", "--host", HOST, "-p", str(stack.cosmos_port)], cosmos_log
        )
        stack.processes.append(cosmos)
        azurite = _spawn(
            [
                str(_binary("azurite")),
                "--silent",
                "--skipApiVersionCheck",
                "--loose",
                "--location",
                str(data_dir / "azurite"),
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
            ],
            azurite_log,
        )
        stack.processes.append(azurite)
        _wait(cosmos, f"{stack.cosmos_endpoint}/", cosmos_log)
        _wait(azurite, f"http://{HOST}:{stack.blob_port}/{AZURITE_ACCOUNT}?comp=list", azurite_log)
    except BaseException:
        stack.stop()
        raise
    return stack


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Run Azurite and the Cosmos-compatible server")
    parser.add_argument("--data-dir", default=str(REPO / ".local"), type=Path)
    parser.add_argument("--cosmos-port", default=8081, type=int)
    parser.add_argument("--blob-port", default=10000, type=int)
    parser.add_argument("--queue-port", default=10001, type=int)
    parser.add_argument("--table-port", default=10002, type=int)
    args = parser.parse_args(argv)
    stack = start_stack(args.data_dir, args.cosmos_port, args.blob_port, args.queue_port, args.table_port)
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    try:
        for key, value in stack.env().items():
            print(f"{key}={value}", flush=True)
        signal.pause()
    except KeyboardInterrupt:
        pass
    finally:
        stack.stop()


if __name__ == "__main__":
    main()
