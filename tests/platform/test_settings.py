"""Every setting the code reads is documented and present in the sample settings; the docs are one
page per area of the core, all linked from the README, whose map of packages matches the code."""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path

from shared.platform.settings import SETTING_NAMES, Settings, load_settings

REPO = Path(__file__).resolve().parents[2]
DOCS = REPO / "docs"
README_MAX_LINES = 150


def _packages() -> set[str]:
    return {path.parent.name for path in (REPO / "shared").glob("*/__init__.py")}


def test_every_setting_is_documented_and_in_the_sample():
    settings_page = (DOCS / "platform.md").read_text(encoding="utf-8")
    sample = json.loads((REPO / "local.settings.sample.json").read_text(encoding="utf-8"))["Values"]
    documented = set(re.findall(r"^\| `([A-Za-z_]+)` \|", settings_page, flags=re.MULTILINE))
    assert set(SETTING_NAMES) <= documented
    assert set(SETTING_NAMES) <= set(sample)


def test_config_reads_only_listed_settings():
    source = (REPO / "shared" / "platform" / "settings.py").read_text(encoding="utf-8")
    read = set(re.findall(r'env\.get\("([A-Za-z_]+)"', source)) | set(
        re.findall(r'_int\(env, "([A-Za-z_]+)"', source)
    )
    assert read
    assert read <= set(SETTING_NAMES)


def test_settings_come_from_the_environment_given():
    loaded = load_settings({"DPP_ENVIRONMENT": "LOCAL", "DPP_RETENTION_DAYS": "7", "COSMOS_DATABASE": ""})
    assert (loaded.environment, loaded.is_local, loaded.retention_days) == ("local", True, 7)
    assert loaded.cosmos_database == "dpp"  # blank means the default
    assert dataclasses.replace(loaded, environment="azure").is_local is False
    assert load_settings({}) == Settings()


def test_every_package_of_the_core_has_its_docs_page_linked_from_the_readme():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    linked = set(re.findall(r"\]\(docs/([a-z-]+\.md)\)", readme))
    pages = {path.name for path in DOCS.glob("*.md")}
    assert _packages() == {
        "platform",
        "storage",
        "integrity",
        "documents",
        "access",
        "passports",
        "publication",
        "onboarding",
        "connectors",
    }
    assert {f"{package}.md" for package in _packages()} <= pages
    assert pages == linked
    for page in pages:
        assert "](../README.md)" in (DOCS / page).read_text(encoding="utf-8"), page


def test_the_readme_is_short_and_its_map_matches_the_code():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert len(readme.splitlines()) <= README_MAX_LINES
    design = readme.split("\n## Design\n", 1)[1].split("\n## ", 1)[0]
    mapped = re.findall(r"^- `shared/([a-z]+)/`:", design, flags=re.MULTILINE)
    assert len(mapped) == len(set(mapped))
    assert set(mapped) == _packages()
