"""The consumer page in a real browser (Debian's Chromium): what a person sees at phone and desktop
widths, the language switch, markup in data shown as text, and axe-core's accessibility rules."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.browser import artifact_path, axe_violations
from tests.support.documents import enc

WIDTHS = {"phone": (390, 844), "desktop": (1280, 900)}


@pytest.fixture(scope="module")
def seeded(api: str, seed_copy: Any) -> dict[str, Any]:
    """`make run`'s seed passport under its own ids, with markup in its English product name."""

    def with_markup(document: dict[str, Any]) -> None:
        document["nameplate"]["ProductName"][0]["value"] = (
            "Polo <script>document.title='owned'</script> Green"
        )

    document = seed_copy(with_markup)
    return {**document, "page": f"{api}/v1/dpps/{enc(document['digitalProductPassportId'])}/page"}


@pytest.mark.parametrize("width", list(WIDTHS))
def test_the_seeded_passport_reads_well_at_phone_and_desktop_widths(
    width: str, browser: Any, seeded: dict[str, Any]
):
    browser.set_window_size(*WIDTHS[width])
    browser.get(seeded["page"])
    from selenium.webdriver.common.by import By

    status = browser.find_element(By.CSS_SELECTOR, "[role=status]")
    assert status.is_displayed() and status.text.startswith("Valid since")
    heading = browser.find_element(By.TAG_NAME, "h1")
    assert heading.text == "Polo <script>document.title='owned'</script> Green"  # shown as text
    assert browser.title.startswith("Polo <script>") and browser.title != "owned"
    assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == "en-GB"
    assert browser.find_element(By.ID, "sustainability").is_displayed()
    # Nothing is wider than the screen.
    assert browser.execute_script("return document.documentElement.scrollWidth") <= WIDTHS[width][0]
    artifact_path(f"page-{width}.png").write_bytes(browser.get_screenshot_as_png())
    serious = [v for v in axe_violations(browser) if v["impact"] in ("serious", "critical")]
    assert serious == [], serious


def test_the_seed_as_make_run_serves_it(api: str, seed_copy: Any, browser: Any):
    """The README's screenshot: the seed passport itself, at phone width."""
    document = seed_copy()
    browser.set_window_size(*WIDTHS["phone"])
    browser.get(f"{api}/v1/dpps/{enc(document['digitalProductPassportId'])}/page")
    from selenium.webdriver.common.by import By

    assert browser.find_element(By.TAG_NAME, "h1").text == "PierrieCardin Polo Shirt - Green, Size M"
    artifact_path("page-seed-phone.png").write_bytes(browser.get_screenshot_as_png())


def test_the_language_switch_follows_lang_and_the_browser(browser: Any, seeded: dict[str, Any]):
    from selenium.webdriver.common.by import By

    browser.get(seeded["page"] + "?lang=de")
    assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == "de-DE"
    assert browser.find_element(By.TAG_NAME, "h1").text == "PierrieCardin Poloshirt - Gruen, Groesse M"
    browser.get(seeded["page"] + "?lang=fr")  # no French: the browser's language (English) answers
    assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == "en-GB"
