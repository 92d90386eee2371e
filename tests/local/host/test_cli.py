"""`python -m local.host` (local/host/cli.py) serving the project's own app."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import requests

REPO = Path(__file__).resolve().parents[3]


def test_cli_serves_the_project_app(tmp_path: Path) -> None:
    """`python -m local.host` with the real function_app: host.json prefix, 405 and 404 bodies."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    process = subprocess.Popen(
        [sys.executable, "-m", "local.host", "--port", "0", "--app", "function_app:app"],
        cwd=tmp_path,  # the app module must be found through the repo root, not the working directory
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        found = re.fullmatch(r"Serving (\d+) routes at (http://127\.0\.0\.1:\d+)\n", line)
        assert found, line
        assert int(found[1]) > 0
        base = found[2] + "/api"  # host.json's prefix is empty: the API's routes start with api/
        wrong_method = requests.get(f"{base}/v1/dpps", timeout=10)
        assert (wrong_method.status_code, wrong_method.headers["Allow"]) == (405, "POST")
        assert requests.get(f"{base}/no/such/route", timeout=10).json()["messages"][0]["code"] == "NotFound"
    finally:
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=10) == 0
