"""Checkov, an outside IaC scanner, over infra/: no failed check and no file it cannot parse. Every
check that does not apply is skipped in the template itself (`#checkov:skip=CKV_...: reason`), and
docs/deploy.md lists the same skips. Checkov lives in its own virtualenv (`make setup`,
requirements-checkov.txt); a missing checkov fails this test rather than skipping it."""

from __future__ import annotations

import json
import re
import subprocess
from typing import Any

import pytest

from tests.support.documents import REPO

CHECKOV = REPO / ".venv-checkov" / "bin" / "checkov"
SKIP = re.compile(r"#checkov:skip=(CKV\w+):\s*(\S.*)")


def scan(directory: str = "infra") -> dict[str, Any]:
    assert CHECKOV.is_file(), "checkov is not installed: run `make setup` (requirements-checkov.txt)"
    # --skip-download: no call to the vendor's platform (guidelines, policies), the scan is offline.
    done = subprocess.run(
        [str(CHECKOV), "-d", directory, "--framework", "bicep", "-o", "json", "--skip-download"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    report = json.loads(done.stdout)
    return report[0] if isinstance(report, list) else report


@pytest.fixture(scope="module")
def report() -> dict[str, Any]:
    return scan()


def test_checkov_finds_no_failed_check_and_parses_every_file(report):
    summary = report["summary"]
    failed = [
        f"{c['check_id']} {c['file_path']} {c['resource']}"
        for c in report["results"].get("failed_checks", [])
    ]
    assert (summary["failed"], failed, summary["parsing_errors"]) == (0, [], 0)
    assert summary["passed"] > 0
    print(f"\ncheckov: {summary['passed']} passed, {summary['skipped']} skipped")


def template_skips() -> dict[str, set[str]]:
    """Every inline skip in the templates, check id -> the reasons given."""
    found: dict[str, set[str]] = {}
    for path in sorted((REPO / "infra").rglob("*.bicep")):
        for check, reason in SKIP.findall(path.read_text(encoding="utf-8")):
            found.setdefault(check, set()).add(reason)
    return found


def test_every_skip_gives_its_reason_and_docs_list_them(report):
    skips = template_skips()
    skipped = report["results"]["skipped_checks"]
    print(
        "\ncheckov skipped:",
        *sorted(f"{c['check_id']} {c['file_path']} {c['resource']}" for c in skipped),
        sep="\n  ",
    )
    # the skips checkov applied are exactly the ones written in the templates, none is stale
    assert {c["check_id"] for c in skipped} == set(skips)
    deploy = (REPO / "docs" / "deploy.md").read_text(encoding="utf-8")
    assert sorted(check for check in skips if f"`{check}`" not in deploy) == []
    assert all(len(reason) > 20 for reasons in skips.values() for reason in reasons)


def test_a_public_data_service_fails_the_scan(tmp_path):
    """The scan is a real gate: the storage account with public network access is a failed check."""
    source = (REPO / "infra" / "modules" / "storage.bicep").read_text(encoding="utf-8")
    broken = source.replace(
        "param publicNetworkAccess string = 'Disabled'", "param publicNetworkAccess string = 'Enabled'"
    )
    broken = broken.replace(
        "param firewallDefaultAction string = 'Deny'", "param firewallDefaultAction string = 'Allow'"
    )
    assert broken != source
    (tmp_path / "storage.bicep").write_text(broken, encoding="utf-8")
    failed = {c["check_id"] for c in scan(str(tmp_path))["results"].get("failed_checks", [])}
    assert "CKV_AZURE_35" in failed


def test_a_multi_line_conditional_is_a_parsing_error(tmp_path):
    """Why main.bicep keeps conditionals on one line: checkov 3.3 cannot parse the multi-line form."""
    (tmp_path / "main.bicep").write_text(
        "param a string = ''\nvar b = empty(a)\n  ? 'x'\n  : a\n"
        "resource s 'Microsoft.Storage/storageAccounts@2023-05-01' = {\n"
        "  name: b\n  location: 'westeurope'\n}\n",
        encoding="utf-8",
    )
    assert scan(str(tmp_path))["summary"]["parsing_errors"] == 1
