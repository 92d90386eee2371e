import copy
import json
from urllib.parse import quote

import jsonpath_rfc9535
import pytest

from shared.documents.element_paths import (
    assign,
    expand_id_short_paths,
    locate,
    normalized_path,
    parse_element_path,
    parse_jsonpath,
    resolve,
)
from shared.platform.errors import BadRequest, NotFound

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
        'say "hi"': 5,
        "tab\there": 6,
        "\U0001f600": 7,
        "\b\f\n\r\t/\\": 8,
    },
    "ProductIdentification": {"ModelIdentifier": "M-1"},
}


def enc(text: str) -> str:
    """Percent-encode everything but unreserved characters, as a client placing one URL segment."""
    return quote(text, safe="")


# (JSONPath as written, segments it parses to, value it selects in DOC)
JSONPATH_CASES = [
    (
        "$['nameplate']['ProductName'][0]",
        ("nameplate", "ProductName", 0),
        {"value": "Shirt", "language": "en"},
    ),
    ("$.ProductIdentification.ModelIdentifier", ("ProductIdentification", "ModelIdentifier"), "M-1"),
    ("$.nameplate.Materials[1].name", ("nameplate", "Materials", 1, "name"), "Elastane"),
    ("$['nameplate'].Materials[-1]", ("nameplate", "Materials", -1), {"name": "Elastane"}),
    ('$["nameplate"]["it\'s"]', ("nameplate", "it's"), 2),
    ("$['nameplate']['it\\'s']", ("nameplate", "it's"), 2),
    ("$['nameplate']['say \"hi\"']", ("nameplate", 'say "hi"'), 5),
    ('$["nameplate"]["say \\"hi\\""]', ("nameplate", 'say "hi"'), 5),
    ("$['nameplate']['a/b:c#d']", ("nameplate", "a/b:c#d"), 1),
    ("$['nameplate']['a\\/b:c#d']", ("nameplate", "a/b:c#d"), 1),
    ("$['nameplate']['x]y.z w']", ("nameplate", "x]y.z w"), 3),
    ("$['nameplate']['tab\\there']", ("nameplate", "tab\there"), 6),
    ("$['nameplate']['0']", ("nameplate", "0"), "key zero"),
    ("$[ 'nameplate' ][\t-2\n].name", ("nameplate", -2, "name"), None),
    ("$['nameplate']['\\u00fcn\\u00EF']", ("nameplate", "ünï"), 4),
    ("$.nameplate.ünï", ("nameplate", "ünï"), 4),
    ("$['nameplate']['\\ud83d\\ude00']", ("nameplate", "\U0001f600"), 7),
    ("$.nameplate.\U0001f600", ("nameplate", "\U0001f600"), 7),
    ("$ .nameplate ['Materials'] [0]", ("nameplate", "Materials", 0), {"name": "Cotton"}),
    ("$['nameplate']['\\b\\f\\n\\r\\t\\/\\\\']", ("nameplate", "\b\f\n\r\t/\\"), 8),
    ("$._x9", ("_x9",), None),
]


@pytest.mark.parametrize(("path", "expected", "_value"), JSONPATH_CASES)
def test_jsonpath_form_percent_encoded_once(path, expected, _value):
    assert parse_element_path(enc(path)) == expected


@pytest.mark.parametrize(("path", "expected", "_value"), JSONPATH_CASES)
def test_jsonpath_form_unencoded_where_the_url_allows(path, expected, _value):
    # A literal `$` starts the JSONPath form as well as `%24` does.
    assert parse_element_path(path) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("%24%5B%27nameplate%27%5D%5B%27ProductName%27%5D%5B0%5D", ("nameplate", "ProductName", 0)),
        ("%24%5b%27nameplate%27%5d%5b%27ProductName%27%5d%5b0%5d", ("nameplate", "ProductName", 0)),
        ("%24.ProductIdentification.ModelIdentifier", ("ProductIdentification", "ModelIdentifier")),
        # `%2F` in the JSONPath form is part of the name, never a separator.
        ("%24%5B%27a%2Fb%27%5D", ("a/b",)),
        # Decoded exactly once: `%2541` is the three characters `%41`, not `A`.
        ("%24%5B%27%2541%27%5D", ("%41",)),
        ("%24%5B%27%C3%BC%27%5D", ("ü",)),
    ],
)
def test_jsonpath_form_examples(raw, expected):
    assert parse_element_path(raw) == expected


@pytest.mark.parametrize(("path", "_segments", "value"), [c for c in JSONPATH_CASES if c[2] is not None])
def test_selection_agrees_with_the_rfc9535_reference_implementation(path, _segments, value):
    nodes = jsonpath_rfc9535.find(path, DOC)
    assert len(nodes) == 1
    segments = parse_element_path(enc(path))
    assert resolve(DOC, segments) == value == nodes[0].value
    assert normalized_path(locate(DOC, segments)) == nodes[0].path()


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("nameplate/Materials/0", ("nameplate", "Materials", "0")),
        ("nameplate/" + enc("a/b:c#d"), ("nameplate", "a/b:c#d")),
        ("nameplate/" + enc("x]y.z w"), ("nameplate", "x]y.z w")),
        ("nameplate/it's", ("nameplate", "it's")),
        ("nameplate/%C3%BCn%C3%AF", ("nameplate", "ünï")),
        ("nameplate/%2541", ("nameplate", "%41")),
        ("dppStatus", ("dppStatus",)),
        ("-1", ("-1",)),
    ],
)
def test_idshort_form(raw, expected):
    assert parse_element_path(raw) == expected


MALFORMED = [
    "$[",
    "$.",
    "$",
    "$ ",
    "$['a'] ",
    "$..a",
    "$.a..b",
    "$[*]",
    "$.*",
    "$['a'",
    "$['a",
    "$['a']x",
    "$a",
    "$[01]",
    "$[-0]",
    "$[-01]",
    "$[-]",
    "$[1:2]",
    "$['a','b']",
    "$[?@.a]",
    "$[9007199254740992]",
    "$[-9007199254740992]",
    "$[" + "9" * 5000 + "]",
    "$.1abc",
    "$[a]",
    "$['a\\x']",
    '$["a\\\'"]',
    "$['a\\\"']",
    "$['\\ud83d']",
    "$['\\ud83dx']",
    "$['\\ud83d\\u0041']",
    "$['\\ude00']",
    "$['\\u12']",
    "$['a\x01']",
    "$['a\\",
]


@pytest.mark.parametrize("path", MALFORMED)
def test_malformed_jsonpaths_are_400(path):
    with pytest.raises(BadRequest) as raised:
        parse_element_path(enc(path))
    assert raised.value.status == 400
    assert raised.value.code == "InvalidElementPath"


@pytest.mark.parametrize("path", [p for p in MALFORMED if p != "$"])
def test_the_reference_implementation_rejects_them_too(path):
    # `$` alone is a valid query, refused here only because it names the passport, not an element.
    try:
        query = jsonpath_rfc9535.compile(path)
    except (jsonpath_rfc9535.JSONPathError, ValueError):
        # ValueError: the library hands a 5000-digit index to int(), which refuses it.
        return
    assert not query.singular_query()


@pytest.mark.parametrize(
    "raw",
    ["%24", "%24%5B", "%24%5b%27a", "", "/a", "a//b", "a/", "/", "%FF%FE", "a/%C3", "%24%FF", "$%C3%28"],
)
def test_malformed_paths_are_400(raw):
    with pytest.raises(BadRequest) as raised:
        parse_element_path(raw)
    assert raised.value.code == "InvalidElementPath"


@pytest.mark.parametrize(
    ("path", "where"),
    [
        ("$['a']x", "found 'x' at position 6"),
        ("$[01]", "at position 2"),
        ("$['a", "never closed at position 2"),
        ("$['a'", "expected ']' at position 5"),
        ("$.a..b", "('..') can select many elements; not accepted at position 3"),
        ("$[*]", "at position 2"),
        ("$[1:2]", "slices and selector lists can select many elements; not accepted at position 3"),
    ],
)
def test_syntax_errors_say_where(path, where):
    with pytest.raises(BadRequest) as raised:
        parse_element_path(enc(path))
    assert where in raised.value.text
    assert path in raised.value.text


def test_resolve_examples():
    assert resolve(DOC, ("nameplate", "Materials", 1, "name")) == "Elastane"
    assert resolve(DOC, ("nameplate", "Materials", "1", "name")) == "Elastane"
    assert resolve(DOC, ("nameplate", "Materials", -1)) == {"name": "Elastane"}
    assert resolve(DOC, ("nameplate", "Materials", -2, "name")) == "Cotton"
    assert resolve(DOC, ("nameplate", "0")) == "key zero"
    assert resolve(DOC, ("dppStatus",)) == "Active"
    assert resolve(DOC, parse_element_path("nameplate/" + enc("a/b:c#d"))) == 1
    assert resolve(DOC, ()) is DOC


def test_locate_gives_the_normalized_location():
    assert locate(DOC, ("nameplate", "Materials", "1")) == ("nameplate", "Materials", 1)
    assert locate(DOC, ("nameplate", "Materials", -2)) == ("nameplate", "Materials", 0)
    assert locate(DOC, ("nameplate", "0")) == ("nameplate", "0")


@pytest.mark.parametrize(
    "segments",
    [
        ("nope",),
        ("nameplate", "Materials", 2),
        ("nameplate", "Materials", "2"),
        ("nameplate", "Materials", -3),
        ("nameplate", "Materials", "01"),
        ("nameplate", "Materials", "-1"),
        ("nameplate", "Materials", "+1"),
        ("nameplate", "Materials", "x"),
        ("nameplate", "Materials", "\u0661"),  # ARABIC-INDIC DIGIT ONE
        ("nameplate", "Materials", "9" * 5000),
        ("nameplate", 0),
        ("dppStatus", "deeper"),
        ("dppStatus", 0),
        ("nameplate", "it's", "deeper"),
    ],
)
def test_paths_to_nothing_are_404(segments):
    with pytest.raises(NotFound) as raised:
        resolve(DOC, segments)
    assert raised.value.status == 404
    assert raised.value.code == "ElementNotFound"


def test_not_found_names_the_path_and_where_it_stopped():
    with pytest.raises(NotFound) as raised:
        resolve(DOC, ("nameplate", "Materials", "5", "name"))
    assert raised.value.text == (
        "No element at $['nameplate']['Materials'][5]['name'] ($['nameplate']['Materials'][5] does not exist)"
    )
    with pytest.raises(NotFound) as raised:
        resolve(DOC, ("nameplate", "Missing"))
    assert raised.value.text == "No element at $['nameplate']['Missing']"


def test_assign_replaces_an_existing_element_without_mutating_input():
    before = copy.deepcopy(DOC)
    updated = assign(DOC, ("nameplate", "Materials", "0", "name"), "Linen")
    assert updated["nameplate"]["Materials"] == [{"name": "Linen"}, {"name": "Elastane"}]
    assert before == DOC
    assert {k: v for k, v in updated.items() if k != "nameplate"} == {
        k: v for k, v in before.items() if k != "nameplate"
    }

    replaced = assign(DOC, ("nameplate", "Materials", -1), {"name": "Wool"})
    assert replaced["nameplate"]["Materials"] == [{"name": "Cotton"}, {"name": "Wool"}]
    assert assign(DOC, ("dppStatus",), "Inactive")["dppStatus"] == "Inactive"
    assert before == DOC


def test_assign_shares_nothing_with_its_inputs():
    value = {"name": "Hemp", "tags": ["a"]}
    updated = assign(DOC, ("nameplate", "Materials", 1), value)
    value["tags"].append("b")
    updated["nameplate"]["ProductName"][0]["value"] = "changed"
    assert updated["nameplate"]["Materials"][1] == {"name": "Hemp", "tags": ["a"]}
    assert DOC["nameplate"]["ProductName"][0]["value"] == "Shirt"


@pytest.mark.parametrize(
    "segments",
    [("nameplate", "Missing"), ("nameplate", "Materials", 2), ("dppStatus", "x"), ("nope", "deeper")],
)
def test_assign_to_a_missing_element_is_404(segments):
    before = copy.deepcopy(DOC)
    with pytest.raises(NotFound) as raised:
        assign(DOC, segments, 1)
    assert raised.value.code == "ElementNotFound"
    assert before == DOC


def test_assign_to_the_whole_document_is_400():
    with pytest.raises(BadRequest) as raised:
        assign(DOC, (), {})
    assert raised.value.code == "InvalidElementPath"
    assert "an update needs the path of an element, not of the whole passport" in raised.value.text


def test_normalized_path_escapes():
    assert normalized_path(("nameplate", "it's", 0, "a\\b\n")) == "$['nameplate']['it\\'s'][0]['a\\\\b\\n']"
    assert normalized_path(("\b\f\r\t", "\x00\x0b\x1f\x7f", 'q"/é')) == (
        "$['\\b\\f\\r\\t']['\\u0000\\u000b\\u001f\x7f']['q\"/é']"
    )
    assert normalized_path(()) == "$"
    assert normalized_path(("0", 0, -1)) == "$['0'][0][-1]"


def test_normalized_path_round_trips_through_the_parser():
    segments = ("it's", "a\\b", "\x01\n", "x]y", 'q"', "ü", 3)
    assert parse_element_path(enc(normalized_path(segments))) == segments


# Each refusal says why and where (a position in the decoded path, which it shows).
REFUSALS = {
    "$": "'$' alone is the whole passport, not an element; expected a segment at position 1",
    "$ ": "blank space after the last segment at position 2",
    "$['a'] ": "blank space after the last segment at position 7",
    "$.": "expected a member name (a letter, '_' or non-ASCII character) at position 2",
    "$.1abc": "expected a member name (a letter, '_' or non-ASCII character) at position 2",
    "$[": "unterminated '[' at position 2",
    "$[X]": "expected a quoted name or an index at position 2",
    "$[*]": "wildcard and filter selectors can select many elements; not accepted at position 2",
    "$[1X]": "expected ']' but found 'X' at position 3",
    "$[12": "unterminated '['; expected ']' at position 4",
    "$[-]": "expected digits after '-' at position 3",
    "$[-0]": "an index has no leading zeros and '-0' is not an index at position 2",
    "$[9007199254740992]": "index beyond +/-9007199254740991 at position 2",
    "$['a\x01']": "unescaped control character in a name at position 4",
    "$['a\\x']": "invalid escape '\\x' at position 4",
    "$['\\udc00']": "low surrogate without a high surrogate before it at position 3",
    "$['\\udfff']": "low surrogate without a high surrogate before it at position 3",
    "$['\\ud83dx']": "high surrogate not followed by a '\\u' low surrogate at position 3",
    "$['\\ud83d\\u0041']": "high surrogate not followed by a low surrogate at position 9",
    "$['\\ud800\\ue000']": "high surrogate not followed by a low surrogate at position 9",
    "$['\\u12']": "'\\u' must be followed by four hex digits at position 3",
}


@pytest.mark.parametrize(("path", "reason"), REFUSALS.items())
def test_a_refusal_says_why_and_where(path, reason):
    with pytest.raises(BadRequest) as raised:
        parse_element_path(enc(path))
    assert raised.value.text == f"Malformed element path: {reason} of {json.dumps(path, ensure_ascii=False)}"


def test_a_long_path_is_shown_in_part_and_non_ascii_as_it_is():
    for shown in ("$['" + "a" * 196 + "'", "$['ü'"):  # 200 characters at most are shown whole
        with pytest.raises(BadRequest) as whole:
            parse_element_path(enc(shown))
        assert whole.value.text.endswith(f' of "{shown}"')
    long = "$['" + "a" * 300 + "'"
    with pytest.raises(BadRequest) as cut:
        parse_element_path(enc(long))
    assert cut.value.text.endswith(f' of "{long[:200]}..."')


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("%24%FF", "the percent-encoding of the path is not UTF-8"),
        ("a/%C3", "the percent-encoding of segment 2 is not UTF-8"),
        ("", "the path is empty"),
        ("a//b", 'segment 2 of the idShort path "a//b" is empty'),
        ("/a", 'segment 1 of the idShort path "/a" is empty'),
    ],
)
def test_a_refused_url_path_says_which_part(raw, reason):
    with pytest.raises(BadRequest) as raised:
        parse_element_path(raw)
    assert raised.value.text == f"Malformed element path: {reason}"


def test_a_policy_path_must_start_with_a_dollar():
    with pytest.raises(BadRequest) as raised:
        parse_jsonpath("nameplate.serial")
    assert raised.value.text == "Malformed element path: a JSONPath query starts with '$'"


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("$.z", ("z",)),
        ("$.Z", ("Z",)),
        ("$.A", ("A",)),
        ("$.\x80x", ("\x80x",)),  # RFC 9535 name-first: %x80 and up
        ("$['\\ue000']", ("\ue000",)),
        ("$['\\ud800\\udc00']", ("\U00010000",)),
        ("$['\\udbff\\udfff']", ("\U0010ffff",)),
        ("$[9007199254740991]", (9007199254740991,)),
        ("$[-9007199254740991]", (-9007199254740991,)),
    ],
)
def test_the_edges_of_what_is_accepted(path, expected):
    assert parse_element_path(enc(path)) == expected


def test_a_long_text_index_on_a_list_is_named_as_an_index():
    with pytest.raises(NotFound) as raised:
        resolve(DOC, ("nameplate", "Materials", "9" * 16))
    assert raised.value.text == f"No element at $['nameplate']['Materials'][{'9' * 16}]"


@pytest.mark.parametrize(
    ("segments", "expected"),
    [
        (("nameplate.Materials[1].name",), ("nameplate", "Materials", 1, "name")),
        (("nameplate", "Materials[0]"), ("nameplate", "Materials", 0)),
        # a member named with a dot is found before any idShortPath reading of it
        (("nameplate", "odd.name"), ("nameplate", "odd.name")),
        # not idShortPaths, or leading nowhere: kept as given
        (("nameplate.Materials[01]",), ("nameplate.Materials[01]",)),
        (("nameplate..Materials",), ("nameplate..Materials",)),
        (("[0]",), ("[0]",)),
        (("nameplate.Materials[9].name",), ("nameplate.Materials[9].name",)),
        (("nope.x", "nameplate.Materials[0]"), ("nope.x", "nameplate.Materials[0]")),
    ],
)
def test_aas_id_short_paths_expand_only_to_elements_that_exist(segments, expected):
    document = {"nameplate": {"Materials": [{"name": "Cotton"}, {"name": "Elastane"}], "odd.name": 1}}
    assert expand_id_short_paths(document, segments) == expected
