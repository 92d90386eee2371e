import copy
import random
from typing import Any

import pytest

from shared.documents.merge_patch import apply_merge_patch

# RFC 7396 Appendix A, every row, in the RFC's order: (original, patch, result).
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


def _json_value(rng: random.Random, depth: int) -> Any:
    """A random JSON value over few keys (so patches and targets overlap), nulls included."""
    kind = rng.randrange(6 if depth < 3 else 4)
    if kind == 0:
        return None
    if kind == 1:
        return rng.choice([0, 1, -2, 3.5, True, False])
    if kind == 2:
        return rng.choice(["a", "b", ""])
    if kind == 3:
        return [_json_value(rng, depth + 1) for _ in range(rng.randrange(3))]
    return {rng.choice("abcd"): _json_value(rng, depth + 1) for _ in range(rng.randrange(4))}


def test_it_agrees_with_an_independent_implementation_on_random_documents():
    """The json-merge-patch library (not ours) as the oracle, over 3,000 seeded random pairs."""
    import json_merge_patch

    rng = random.Random(7396)
    for _ in range(3000):
        target, patch = _json_value(rng, 0), _json_value(rng, 0)
        expected = json_merge_patch.merge(copy.deepcopy(target), copy.deepcopy(patch))
        assert apply_merge_patch(target, patch) == expected, (target, patch)


@pytest.mark.parametrize(("target", "patch", "expected"), RFC_EXAMPLES, ids=[f"A.{n}" for n in range(1, 16)])
def test_rfc7396_appendix_a(target, patch, expected):
    target_before, patch_before = copy.deepcopy(target), copy.deepcopy(patch)
    assert apply_merge_patch(target, patch) == expected
    assert target == target_before
    assert patch == patch_before


def test_inputs_are_not_mutated_nor_shared_with_the_result():
    target = {"a": {"b": [1, 2], "c": 1}, "d": 2, "keep": {"deep": [{"x": 1}]}}
    patch = {"a": {"b": [3], "c": None, "e": {"f": 1}}, "d": None, "new": [{"y": 2}]}
    target_copy, patch_copy = copy.deepcopy(target), copy.deepcopy(patch)

    result = apply_merge_patch(target, patch)

    assert result == {"a": {"b": [3], "e": {"f": 1}}, "keep": {"deep": [{"x": 1}]}, "new": [{"y": 2}]}
    assert target == target_copy
    assert patch == patch_copy
    # Changing the result afterwards must not reach back into either input.
    result["a"]["e"]["f"] = 99
    result["a"]["b"].append(4)
    result["keep"]["deep"][0]["x"] = 99
    result["new"][0]["y"] = 99
    assert target == target_copy
    assert patch == patch_copy


def test_non_object_patch_result_is_a_copy():
    patch = [{"a": 1}]
    result = apply_merge_patch({"x": 1}, patch)
    assert result == [{"a": 1}]
    result[0]["a"] = 2
    assert patch == [{"a": 1}]


def test_member_order_is_the_targets_then_the_new_members():
    result = apply_merge_patch({"z": 1, "y": {"q": 1}, "x": 3}, {"w": 0, "y": {"p": 2}, "x": None})
    assert list(result) == ["z", "y", "w"]
    assert list(result["y"]) == ["q", "p"]


def test_null_for_a_missing_member_is_a_no_op():
    assert apply_merge_patch({"a": 1}, {"b": None}) == {"a": 1}
