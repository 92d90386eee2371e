"""Multi-language values and product names, as every reader-facing surface picks them."""

from __future__ import annotations

from shared.documents.text import is_multi_language, languages, localized, matching_language, product_name

NAMES = [{"value": "Polo shirt", "language": "en-GB"}, {"value": "Poloshirt", "language": "de-DE"}]


def test_a_language_is_matched_exactly_then_by_primary_subtag_then_the_first_is_taken():
    assert localized(NAMES, "de-DE") == "Poloshirt"
    assert localized(NAMES, "de") == "Poloshirt" and localized(NAMES, "de-AT") == "Poloshirt"
    assert localized(NAMES, "en") == "Polo shirt"
    assert localized(NAMES, "fr") == "Polo shirt"  # the first given
    assert matching_language("EN-gb", ["de-DE", "en-GB"]) == "en-GB"
    assert matching_language("fr", ["de-DE", "en-GB"]) is None


def test_what_counts_as_multi_language_and_which_languages_a_document_offers():
    assert is_multi_language(NAMES)
    assert (
        not is_multi_language([{"value": "x"}]) and not is_multi_language([]) and not is_multi_language("x")
    )
    document = {
        "nameplate": {"ProductName": NAMES},
        "care": {"steps": [[{"value": "Wash", "language": "en"}]]},
    }
    assert languages(document) == {"en-GB", "de-DE", "en"}


def test_the_product_name_is_the_first_non_blank_one_in_the_language_asked():
    content = {"composition": {"name": " "}, "nameplate": {"ProductName": NAMES}}
    assert product_name(content, "de") == "Poloshirt"
    assert product_name({"nameplate": {"productName": "Trail shoe"}}, "de") == "Trail shoe"
    assert product_name({"nameplate": {"brand": "ACME"}}, "en") is None


def test_an_exact_match_wins_over_an_earlier_language_of_the_same_primary_subtag():
    assert matching_language("en-GB", ["en-US", "en-GB"]) == "en-GB"
    assert matching_language("EN-gb", ["en-us", "en-GB"]) == "en-GB"
    # The primary subtag is the first one: fr-CA finds fr, and a region alone matches nothing.
    assert matching_language("fr-CA", ["de", "fr"]) == "fr"
    assert matching_language("CA", ["fr-CA"]) is None
