"""The independent Akeneo-compatible server, PyPI's `akeneo-mock-server` (not ours, not an official
Akeneo product: a FastAPI emulator of Akeneo's REST API from Akeneo's own OpenAPI description,
keeping its data in PostgreSQL), run for the tests on free loopback ports.

It needs Python 3.12 and PostgreSQL: `make setup` installs it into `.venv-akeneo` with a Python
3.12 it finds (pyenv's, or `python3.12` on the PATH; requirements-akeneo-mock.txt), and this module
starts a throwaway PostgreSQL cluster from Debian's binaries (as the `postgres` user when run as
root, which PostgreSQL refuses to run as) and the server in front of it. What it does not check:
credentials (its token endpoint answers any request), so the OAuth exchange is tested against the
test double (tests/support/akeneo_double.py) instead.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import requests

from tests.support.ports import free_port

REPO = Path(__file__).resolve().parents[2]
VENV_PYTHON = REPO / ".venv-akeneo" / "bin" / "python"
POSTGRES_BIN = Path("/usr/lib/postgresql/15/bin")
SERVE = """
import sys
from akeneo_mock_server.database import init_db
import uvicorn
init_db()
uvicorn.run("akeneo_mock_server.app:app", host="127.0.0.1", port=int(sys.argv[1]), log_level="warning")
"""


class MockServerMissing(RuntimeError):
    pass


def _as_postgres(command: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


def _wait(check: object, what: str, seconds: float = 60.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with suppress(requests.RequestException, OSError):
            if check():  # type: ignore[operator]
                return
        time.sleep(0.3)
    raise MockServerMissing(f"{what} did not start within {seconds:g} s")


@contextmanager
def postgres() -> Iterator[str]:
    """A PostgreSQL cluster of its own; yields its URL (user and database `akeneo`)."""
    if not (POSTGRES_BIN / "initdb").is_file():
        raise MockServerMissing(f"PostgreSQL is not installed ({POSTGRES_BIN}): apt-get install postgresql")
    # A folder of its own under /tmp: the `postgres` user must reach it (pytest's are root's only).
    directory = Path(tempfile.mkdtemp(prefix="dpp-akeneo-pg-"))
    if os.geteuid() == 0:
        shutil.chown(directory, "postgres")
    data, port = directory / "data", free_port()
    subprocess.run(
        _as_postgres([str(POSTGRES_BIN / "initdb"), "-D", str(data), "-U", "akeneo", "--auth=trust"]),
        check=True,
        capture_output=True,
    )
    options = f"-p {port} -h 127.0.0.1 -k {directory}"
    start = [str(POSTGRES_BIN / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(directory / "log"), "-w"]
    subprocess.run(_as_postgres([*start, "start"]), check=True, capture_output=True)
    try:
        url = f"postgresql://akeneo@127.0.0.1:{port}/akeneo"
        create = [
            str(POSTGRES_BIN / "createdb"),
            "-h",
            "127.0.0.1",
            "-p",
            str(port),
            "-U",
            "akeneo",
            "akeneo",
        ]
        subprocess.run(create, check=True, capture_output=True)
        yield url
    finally:
        stop = [str(POSTGRES_BIN / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"]
        subprocess.run(_as_postgres(stop), check=False, capture_output=True)
        shutil.rmtree(directory, ignore_errors=True)


@contextmanager
def akeneo_mock_server(directory: Path) -> Iterator[str]:
    """The server's base URL, with an empty catalogue."""
    if not VENV_PYTHON.is_file():
        raise MockServerMissing(
            "akeneo-mock-server is not installed: run `make setup` (it needs a Python 3.12)"
        )
    with postgres() as database_url:
        port = free_port()
        env = {**os.environ, "AKENEO_DATABASE_URL": database_url}
        log = (directory / "server.log").open("wb")
        server = subprocess.Popen([str(VENV_PYTHON), "-c", SERVE, str(port)], env=env, stdout=log, stderr=log)
        base = f"http://127.0.0.1:{port}"
        try:
            _wait(
                lambda: requests.get(f"{base}/api/rest/v1", timeout=2).status_code < 500, "akeneo-mock-server"
            )
            yield base
        finally:
            server.terminate()
            server.wait(10)
            log.close()
