"""Which stakeholders may read which parts of a passport (EN 18222 4.2-4.5, element-level access).

A policy names, per content section and optionally per element below it, the roles that may
read it:

    {"default": ["public"],
     "sections": {"supplychain": ["authority", "recycler"]},
     "elements": {"$.composition.substancesOfConcern": ["authority", "recycler"]}}

`public` means everyone, tokens or not; the other roles are the app roles of a token
(`authority`, `recycler`, `repairer`, `operator`). The passport's owner reads everything. The
most specific rule wins: an element rule over its section's rule, a section rule over `default`.
Element paths name object members only (rules cannot select list items).

The deployment's policy is a file (`shared/access/access-policy.json`, or `DPP_ACCESS_POLICY_FILE`). A
passport may carry its own policy in its `dppAccessPolicy` member, in the same format; it can only
narrow the deployment's: a part is readable when both policies allow it. Header fields, the
lifecycle and the integrity fields are always public; an artifact reference (`dppArtifacts.<type>`)
is governed by the rule of the section of the same name.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from shared.access.roles import PUBLIC, READ_ROLES
from shared.documents.element_paths import Segment, parse_jsonpath
from shared.documents.lifecycle import ARTIFACTS, LIFECYCLE
from shared.documents.model import HEADER_FIELDS
from shared.integrity.signatures import INTEGRITY_FIELDS
from shared.platform.errors import BadRequest, DppError, ErrorCode

POLICY_MEMBER = "dppAccessPolicy"
DEFAULT_POLICY_FILE = Path(__file__).resolve().parent / "access-policy.json"
ALWAYS_PUBLIC: frozenset[str] = frozenset({*HEADER_FIELDS, *INTEGRITY_FIELDS, LIFECYCLE})

Path_ = tuple[Segment, ...]


@dataclass(frozen=True)
class Viewer:
    """Who reads: the reading roles of their token, and whether they own the passport."""

    roles: frozenset[str] = frozenset()
    owner: bool = False


ANONYMOUS_VIEWER = Viewer()


@dataclass(frozen=True)
class AccessPolicy:
    default: frozenset[str] | None = None
    # Keyed by member path: sections are one-segment paths, elements longer ones.
    rules: Mapping[Path_, frozenset[str]] = field(default_factory=dict)

    def rule_for(self, path: Path_) -> frozenset[str] | None:
        """The most specific rule covering `path`: the longest rule path that is a prefix of it."""
        for length in range(len(path), 0, -1):
            rule = self.rules.get(path[:length])
            if rule is not None:
                return rule
        return self.default

    def has_rules_below(self, path: Path_) -> bool:
        return any(len(rule) > len(path) and rule[: len(path)] == path for rule in self.rules)


UNRESTRICTED = AccessPolicy()


@dataclass(frozen=True)
class Disclosure:
    """What a viewer may see of a document; `complete` is False when anything was withheld."""

    document: dict[str, Any]
    complete: bool


# -- parsing -----------------------------------------------------------------------------------


def _roles(value: Any, where: str) -> frozenset[str]:
    if not isinstance(value, list) or not value or not all(isinstance(role, str) for role in value):
        raise BadRequest(f"{where} must be a non-empty list of roles", code=ErrorCode.INVALID_ACCESS_POLICY)
    unknown = sorted(set(value) - READ_ROLES - {PUBLIC})
    if unknown:
        allowed = ", ".join(sorted({PUBLIC, *READ_ROLES}))
        raise BadRequest(
            f"{where} names unknown roles {unknown}; allowed: {allowed}", code=ErrorCode.INVALID_ACCESS_POLICY
        )
    return frozenset(value)


def _element_rule_path(text: Any) -> Path_:
    if not isinstance(text, str):
        raise BadRequest("Element rule paths must be strings", code=ErrorCode.INVALID_ACCESS_POLICY)
    try:
        # Rule paths are text from a policy, not URL segments: nothing in them is percent-decoded.
        path = parse_jsonpath(text if text.startswith("$") else "$." + text)
    except BadRequest as exc:
        raise BadRequest(f"Element rule '{text}': {exc.text}", code=ErrorCode.INVALID_ACCESS_POLICY) from None
    if len(path) < 2 or not all(isinstance(segment, str) for segment in path):
        raise BadRequest(
            f"Element rule '{text}' must name a member below a section, by names only",
            code=ErrorCode.INVALID_ACCESS_POLICY,
        )
    return path


def parse_policy(data: Any, where: str = "dppAccessPolicy") -> AccessPolicy:
    """Validate a policy; raises BadRequest naming the first problem."""
    if not isinstance(data, dict):
        raise BadRequest(f"'{where}' must be a JSON object", code=ErrorCode.INVALID_ACCESS_POLICY)
    unknown = sorted(set(data) - {"default", "sections", "elements", "$comment"})
    if unknown:
        raise BadRequest(f"'{where}' has unknown members {unknown}", code=ErrorCode.INVALID_ACCESS_POLICY)
    default = _roles(data["default"], f"'{where}.default'") if "default" in data else None
    rules: dict[Path_, frozenset[str]] = {}
    for key in ("sections", "elements"):
        entries = data.get(key, {})
        if not isinstance(entries, dict):
            raise BadRequest(f"'{where}.{key}' must be a JSON object", code=ErrorCode.INVALID_ACCESS_POLICY)
        for name, roles in entries.items():
            path = (name,) if key == "sections" else _element_rule_path(name)
            if path[0] in ALWAYS_PUBLIC or path[0] == ARTIFACTS:
                raise BadRequest(
                    f"'{path[0]}' is always public and takes no rule", code=ErrorCode.INVALID_ACCESS_POLICY
                )
            rules[path] = _roles(roles, f"'{where}.{key}.{name}'")
    return AccessPolicy(default, rules)


def load_policy_file(path: str) -> AccessPolicy:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        return parse_policy(data, where=f"access policy file {path}")
    except (OSError, ValueError, BadRequest) as exc:
        # A broken deployment policy must not silently open restricted data: refuse to serve.
        raise DppError(
            f"The service's access policy cannot be loaded: {exc}", code=ErrorCode.ACCESS_POLICY_INVALID
        ) from exc


def deployment_policy(path: str | None) -> AccessPolicy:
    """The deployment's policy: the file at `path`, or the default shipped with the service."""
    return load_policy_file(path or str(DEFAULT_POLICY_FILE))


def passport_policy(document: dict[str, Any]) -> AccessPolicy:
    if POLICY_MEMBER not in document:
        return UNRESTRICTED
    return parse_policy(document[POLICY_MEMBER])


# -- the decision --------------------------------------------------------------------------------


def _allows(rule: frozenset[str] | None, viewer: Viewer) -> bool:
    return rule is None or PUBLIC in rule or bool(rule & viewer.roles)


def _governing_path(path: Path_) -> Path_:
    # An artifact reference is data of the section it details.
    if len(path) >= 2 and path[0] == ARTIFACTS:
        return (path[1],)
    return path


def may_read(path: Path_, viewer: Viewer, policies: Iterable[AccessPolicy]) -> bool:
    """THE decision: may `viewer` read the element at `path`? Every read surface asks it."""
    if viewer.owner or not path or path[0] in ALWAYS_PUBLIC or path == (ARTIFACTS,):
        return True
    governing = _governing_path(path)
    return all(_allows(policy.rule_for(governing), viewer) for policy in policies)


class _Withheld:
    pass


_WITHHELD = _Withheld()


def _filtered(value: Any, path: Path_, viewer: Viewer, policies: tuple[AccessPolicy, ...]) -> Any:
    readable = may_read(path, viewer, policies)
    deeper = isinstance(value, dict) and (
        path == (ARTIFACTS,) or any(policy.has_rules_below(_governing_path(path)) for policy in policies)
    )
    if not deeper:
        return value if readable else _WITHHELD
    kept = {}
    for key, member in value.items():
        result = _filtered(member, (*path, key), viewer, policies)
        if result is not _WITHHELD:
            kept[key] = result
    # Nothing left of something that held data: withhold it whole rather than show that it exists.
    if not kept and (value or not readable):
        return _WITHHELD
    # Nothing withheld: the very same object, so `disclose` sees completeness without comparing.
    return value if _unchanged(kept, value) else kept


def _unchanged(kept: dict[str, Any], original: dict[str, Any]) -> bool:
    return len(kept) == len(original) and all(kept[key] is original[key] for key in kept)


def disclose(document: dict[str, Any], viewer: Viewer, deployment: AccessPolicy) -> Disclosure:
    """The part of `document` that `viewer` may read (the owner's view is the document itself)."""
    if viewer.owner:
        return Disclosure(document, True)
    policies = (deployment, passport_policy(document))
    shown: dict[str, Any] = {}
    for key, member in document.items():
        result = _filtered(member, (key,), viewer, policies)
        if result is not _WITHHELD:
            shown[key] = result
    return Disclosure(shown, _unchanged(shown, document))


def element_value(
    document: dict[str, Any], segments: Path_, value: Any, viewer: Viewer, deployment: AccessPolicy
) -> tuple[bool, Any]:
    """Whether the element at `segments` may be read, and what of its value may be shown."""
    policies = (deployment, passport_policy(document))
    if viewer.owner:
        return True, value
    shown = _filtered(value, segments, viewer, policies)
    if shown is _WITHHELD:
        return False, None
    return True, shown
