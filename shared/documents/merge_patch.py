"""JSON Merge Patch (RFC 7396)."""

from __future__ import annotations

import copy
from typing import Any


def apply_merge_patch(target: Any, patch: Any) -> Any:
    """The result of applying `patch` to `target`; neither input is modified or shared with the result.

    null removes a member, objects merge recursively, anything else (arrays included) replaces.
    """
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    # RFC 7396: a non-object target is replaced by an empty object before merging.
    source = target if isinstance(target, dict) else {}
    result: dict[str, Any] = {}
    # Members keep their place in the target; each untouched subtree is copied exactly once.
    for name, value in source.items():
        if name not in patch:
            result[name] = copy.deepcopy(value)
        elif patch[name] is not None:
            result[name] = apply_merge_patch(value, patch[name])
    for name, value in patch.items():
        if name not in source and value is not None:
            result[name] = apply_merge_patch(None, value)
    return result
