"""Issue 14: confusable ids (`urn:x:apple` written with a Cyrillic a) and ids in two Unicode forms
were accepted as new, distinct ids. New ids must be NFC and not mix look-alike scripts in a word."""

from __future__ import annotations

import unicodedata

import pytest

from shared.documents.model import validate_document
from shared.platform.errors import BadRequest
from tests.support.documents import enc, make_passport
from tests.support.results import assert_result

CYRILLIC_A = "\N{CYRILLIC SMALL LETTER A}"
GREEK_O = "\N{GREEK SMALL LETTER OMICRON}"


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (f"urn:x:{CYRILLIC_A}pple", "mixes Cyrillic and Latin"),
        (f"urn:x:b{GREEK_O}x", "mixes Greek and Latin"),
        (unicodedata.normalize("NFD", "urn:x:caf\N{LATIN SMALL LETTER E WITH ACUTE}"), "NFC"),
    ],
)
def test_ambiguous_new_ids_are_refused(value, reason):
    for field in ("digitalProductPassportId", "uniqueProductIdentifier", "economicOperatorId"):
        with pytest.raises(BadRequest) as refused:
            validate_document(make_passport(**{field: value}))
        assert refused.value.code == "InvalidPassport" and reason in refused.value.text


@pytest.mark.parametrize(
    "value",
    [
        "urn:ru:\N{CYRILLIC SMALL LETTER KA}\N{CYRILLIC SMALL LETTER O}\N{CYRILLIC SMALL LETTER EM}:item-1",
        "urn:x:caf\N{LATIN SMALL LETTER E WITH ACUTE}",
        "urn:jp:\N{CJK UNIFIED IDEOGRAPH-88FD}\N{CJK UNIFIED IDEOGRAPH-54C1}-abc",
        "https://id.gs1.org/01/09506000134352",
    ],
)
def test_single_script_words_and_nfc_ids_pass(value):
    validate_document(make_passport(digitalProductPassportId=value))


def test_a_confusable_id_is_a_400_over_http_and_nothing_is_stored(api, http, auth):
    document = make_passport(digitalProductPassportId=f"urn:x:{CYRILLIC_A}pple")
    assert_result(http.post(f"{api}/v1/dpps", json=document, headers=auth), 400, "InvalidPassport")
    assert_result(
        http.get(f"{api}/v1/dpps/{enc(document['digitalProductPassportId'])}"), 404, "PassportNotFound"
    )
