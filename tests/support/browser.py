"""A real browser for the tests: Debian's Chromium (headless) through chromium-driver and
Selenium, and a static page server whose pages come from origins other than the API's.

`*.localhost` names resolve to the loopback interface in Chromium, so `http://app.localhost:<port>`
and `http://other.localhost:<port>` are two origins served by one local server.
"""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from tests.support.documents import REPO

ARTIFACTS = REPO / ".test-artifacts"
AXE = REPO / "node_modules" / "axe-core" / "axe.min.js"
BLANK_PAGE = (
    b"<!doctype html><html lang=en><head><meta charset=utf-8><title>page</title></head><body></body></html>"
)


class _Pages(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(BLANK_PAGE)))
        self.end_headers()
        self.wfile.write(BLANK_PAGE)

    def log_message(self, format: str, *args: Any) -> None:
        pass


class PageServer:
    """Serves a blank page at every path, on a port bound at construction."""

    def __init__(self) -> None:
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _Pages)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def origin(self, name: str) -> str:
        return f"http://{name}.localhost:{self.port}"

    def __enter__(self) -> PageServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


@contextmanager
def chromium(width: int = 1280, height: int = 900) -> Iterator[Any]:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    binary, driver_path = shutil.which("chromium"), shutil.which("chromedriver")
    assert binary and driver_path, "install chromium and chromium-driver (make browser does it)"
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"):
        options.add_argument(flag)
    options.add_argument(f"--window-size={width},{height}")
    driver = webdriver.Chrome(service=Service(driver_path), options=options)
    driver.set_script_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()


def artifact_path(name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS / name


def axe_violations(browser: Any) -> list[dict[str, Any]]:
    """axe-core's rule violations on the page the browser shows (id, impact, help)."""
    browser.execute_script(AXE.read_text(encoding="utf-8"))
    result = browser.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "axe.run(document).then("
        "r => done(r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help}))),"
        " e => done([{id: 'axe-error', impact: 'critical', help: String(e)}]));"
    )
    return list(result)
