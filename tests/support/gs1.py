"""GS1's own Digital Link toolkit (npm `digital-link.js`, installed by `make setup`), which the
service does not use: the outside judge of every Digital Link URI the tests see."""

from __future__ import annotations

import json
import shutil
import subprocess

from tests.support.documents import REPO


def gs1_verdicts(uris: list[str]) -> list[bool]:
    """What GS1's digital-link.js says of each URI (isValid)."""
    node = shutil.which("node")
    assert node, "node is needed for GS1's digital-link.js"
    script = (
        "const { DigitalLink } = require('digital-link.js');"
        "const uris = JSON.parse(process.argv[1]);"
        "console.log(JSON.stringify(uris.map(u => { try { return DigitalLink(u).isValid(); }"
        " catch (e) { return false; } })));"
    )
    done = subprocess.run(
        [node, "-e", script, json.dumps(uris)],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return json.loads(done.stdout)
