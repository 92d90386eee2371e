import copy
from urllib.parse import quote

import pytest

from shared.element_path import assign, normalized_path, parse_element_path, resolve
from shared.errors import BadRequest, NotFound

DOC = {
    "dppStatus": "Active",
    "nameplate": {
        "ProductName": [{"value": "Shirt", "language": "en"}],
        "Materials": [{"name": "Cotton"}, {"name": "Elastane"}],
        "a/b:c#d": 1,
        "it's": 2,
        "x]y.z w": 3,
        "ünï": 4,
        "0": "key zero",
    },
}


def enc(text: str) -> str:
    return quote(text, safe="")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (enc("$['nameplate']['ProductName'][0]"), ("nameplate", "ProductName", 0)),
        ("%24%5B%27nameplate%27%5D%5B%27ProductName%27%5D%5B0%5D", ("nameplate", "ProductName", 0)),
        ("%24.ProductIdentification.ModelIdentifier", ("ProductIdentification", "ModelIdentifier")),
        ("$.nameplate.Materials[1]", ("nameplate", "Materials", 1)),
        (enc('$["nameplate"]["it\'s"]'), ("nameplate", "it's")),
        (enc("$['nameplate']['it\\'s']"), ("nameplate", "it's")),
        (enc("$['nameplate']['a/b:c#d']"), ("nameplate", "a/b:c#d")),
        (enc("$['nameplate']['x]y.z w']"), ("nameplate", "x]y.z w")),
        (enc("$[ 'nameplate' ][ -1 ]"), ("nameplate", -1)),
        (enc("$['\\u00fcn\\u00ef']"), ("ünï",)),
        (enc("$['\\ud83d\\ude00']"), ("\U0001f600",)),
        (enc("$.ünï"), ("ünï",)),
        ("nameplate/Materials/0", ("nameplate", "Materials", "0")),
        ("nameplate/" + enc("a/b:c#d"), ("nameplate", "a/b:c#d")),
        ("dppStatus", ("dppStatus",)),
    ],
)
def test_parses_both_forms(raw, expected):
    assert parse_element_path(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "%24%5B",
        "$[",
        "$.",
        "$",
        "$..a",
        "$[*]",
        "$['a'",
        "$['a']x",
        "$[01]",
        "$[-0]",
        "$[?@.a]",
        "$.1abc",
        enc("$['a\\x']"),
        enc('$["a\\\'"]'),
        enc("$['\\ud83d']"),
        "",
        "/a",
        "a//b",
        "a/",
        "%FF%FE",
        "$%FF",
    ],
)
def test_malformed_paths_are_400(raw):
    with pytest.raises(BadRequest) as raised:
        parse_element_path(raw)
    assert raised.value.code == "InvalidElementPath"


def test_resolve_examples():
    assert resolve(DOC, ("nameplate", "Materials", 1, "name")) == "Elastane"
    assert resolve(DOC, ("nameplate", "Materials", "1", "name")) == "Elastane"
    assert resolve(DOC, ("nameplate", "Materials", -1)) == {"name": "Elastane"}
    assert resolve(DOC, ("nameplate", "0")) == "key zero"
    assert resolve(DOC, ()) is DOC


@pytest.mark.parametrize(
    "segments",
    [
        ("nope",),
        ("nameplate", "Materials", 2),
        ("nameplate", "Materials", -3),
        ("nameplate", "Materials", "01"),
        ("nameplate", "Materials", "x"),
        ("nameplate", 0),
        ("dppStatus", "deeper"),
    ],
)
def test_paths_to_nothing_are_404(segments):
    with pytest.raises(NotFound) as raised:
        resolve(DOC, segments)
    assert raised.value.code == "ElementNotFound"


def test_assign_replaces_an_existing_element_without_mutating_input():
    before = copy.deepcopy(DOC)
    updated = assign(DOC, ("nameplate", "Materials", "0", "name"), "Linen")
    assert updated["nameplate"]["Materials"][0] == {"name": "Linen"}
    assert before == DOC
    with pytest.raises(NotFound):
        assign(DOC, ("nameplate", "Missing"), 1)
    with pytest.raises(BadRequest):
        assign(DOC, (), 1)


def test_normalized_path_escapes():
    assert normalized_path(("nameplate", "it's", 0, "a\\b\n")) == "$['nameplate']['it\\'s'][0]['a\\\\b\\n']"
