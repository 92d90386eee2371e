import copy

import pytest

from shared.merge_patch import apply_merge_patch

# RFC 7396 Appendix A, every row.
RFC_EXAMPLES = [
    ({"a": "b"}, {"a": "c"}, {"a": "c"}),
    ({"a": "b"}, {"b": "c"}, {"a": "b", "b": "c"}),
    ({"a": "b"}, {"a": None}, {}),
    ({"a": "b", "b": "c"}, {"a": None}, {"b": "c"}),
    ({"a": ["b"]}, {"a": "c"}, {"a": "c"}),
    ({"a": "c"}, {"a": ["b"]}, {"a": ["b"]}),
    ({"a": {"b": "c"}}, {"a": {"b": "d", "c": None}}, {"a": {"b": "d"}}),
    ({"a": [{"b": "c"}]}, {"a": [1]}, {"a": [1]}),
    (["a", "b"], ["c", "d"], ["c", "d"]),
    ({"a": "b"}, ["c"], ["c"]),
    ({"a": "foo"}, None, None),
    ({"a": "foo"}, "bar", "bar"),
    ({"e": None}, {"a": 1}, {"e": None, "a": 1}),
    ([1, 2], {"a": "b", "c": None}, {"a": "b"}),
    ({}, {"a": {"bb": {"ccc": None}}}, {"a": {"bb": {}}}),
]


@pytest.mark.parametrize(("target", "patch", "expected"), RFC_EXAMPLES)
def test_rfc7396_appendix_a(target, patch, expected):
    assert apply_merge_patch(target, patch) == expected


def test_inputs_are_not_mutated():
    target = {"a": {"b": [1, 2], "c": 1}, "d": 2}
    patch = {"a": {"b": [3], "c": None, "e": {"f": 1}}, "d": None}
    target_copy, patch_copy = copy.deepcopy(target), copy.deepcopy(patch)
    result = apply_merge_patch(target, patch)
    assert result == {"a": {"b": [3], "e": {"f": 1}}}
    assert target == target_copy
    assert patch == patch_copy
    result["a"]["e"]["f"] = 99
    assert patch["a"]["e"]["f"] == 1
