"""Every setting the code reads is documented in the README and present in the sample settings."""

import json
import re
from pathlib import Path

from shared.platform.settings import SETTING_NAMES

REPO = Path(__file__).resolve().parents[2]


def test_every_setting_is_in_readme_and_sample():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    sample = json.loads((REPO / "local.settings.sample.json").read_text(encoding="utf-8"))["Values"]
    documented = set(re.findall(r"^\| `([A-Za-z_]+)` \|", readme, flags=re.MULTILINE))
    assert set(SETTING_NAMES) <= documented
    assert set(SETTING_NAMES) <= set(sample)


def test_config_reads_only_listed_settings():
    source = (REPO / "shared" / "platform" / "settings.py").read_text(encoding="utf-8")
    read = set(re.findall(r'env\.get\("([A-Za-z_]+)"', source)) | set(
        re.findall(r'_int\(env, "([A-Za-z_]+)"', source)
    )
    assert read
    assert read <= set(SETTING_NAMES)
