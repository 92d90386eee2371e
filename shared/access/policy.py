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
passport may carry its own policy (`dppAccessPolicy`, kept in its signed envelope), in the same
format; it can only narrow the deployment's: a part is readable when both policies allow it.
Header fields, the lifecycle and the integrity fields are always public; an artifact reference
(`dppArtifacts.<type>`) is governed by the rule of the section of the same name, and the
passport's own policy by a section rule named `dppAccessPolicy`.

What a reader is shown is decided over the version's SD-JWT disclosures (`withheld`): each
section, each element a policy restricts on its own, each artifact reference and the passport's
policy is one disclosure, and a reader gets a disclosure whole or not at all. A rule added after a
version was issued that falls inside a disclosure withholds that whole disclosure (fail closed).
"""

from __future__ import annotations

import functools
import json
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from shared.access.roles import PUBLIC, READ_ROLES
from shared.documents.element_paths import Segment, parse_jsonpath
from shared.documents.lifecycle import ARTIFACTS, LIFECYCLE
from shared.documents.members import ACCESS_POLICY, is_section
from shared.documents.model import HEADER_FIELDS
from shared.integrity.signatures import INTEGRITY_FIELDS
from shared.platform.errors import BadRequest, DppError, ErrorCode

POLICY_MEMBER = ACCESS_POLICY
DEFAULT_POLICY_FILE = Path(__file__).resolve().parent / "access-policy.json"
ALWAYS_PUBLIC: frozenset[str] = frozenset({*HEADER_FIELDS, *INTEGRITY_FIELDS, LIFECYCLE})

Path_ = tuple[Segment, ...]
RULE_CACHE_SIZE = 4096


@dataclass(frozen=True)
class Viewer:
    """Who reads: the reading roles of their token, and whether they own the passport."""

    roles: frozenset[str] = frozenset()
    owner: bool = False


ANONYMOUS_VIEWER = Viewer()


_NOT_ALNUM = re.compile(r"[^0-9a-z]+")
_URI_PARTS = re.compile(r"[/:#?=&]+")


def normal_name(name: str) -> str:
    """A rule's member name as it is matched: letters and digits only, lower case (NFKC first,
    so full-width letters count as letters)."""
    return _NOT_ALNUM.sub("", unicodedata.normalize("NFKC", name).casefold())


@functools.lru_cache(maxsize=4096)
def names_of(member: str) -> frozenset[str]:
    """Every name a document member answers to in rules: its normal name (`supplyChain`,
    `Supply-Chain`, `supply_chain` all are `supplychain`), and for a member keyed by a URI (a
    content specification id such as `https://spec.example/SupplyChain/1`) the normal name of each
    of its parts too. Matching any of them is enough for a rule to apply: rules fail closed."""
    found = {normal_name(member)}
    if _URI_PARTS.search(member):
        found.update(normal_name(part) for part in _URI_PARTS.split(member))
    found.discard("")
    return frozenset(found)


def covers(rule: Path_, path: Sequence[Any]) -> bool:
    """Rule path `rule` (normal names) names `path` (a document's member names) or an ancestor."""
    return len(rule) <= len(path) and all(
        isinstance(segment, str) and name in names_of(segment)
        for name, segment in zip(rule, path, strict=False)
    )


@dataclass(frozen=True)
class AccessPolicy:
    default: frozenset[str] | None = None
    # Keyed by member path in normal names: sections are one-segment paths, elements longer ones.
    rules: Mapping[Path_, frozenset[str]] = field(default_factory=dict)
    # rule_for is asked the same few paths on every read (each rule, each section): answered once.
    _decided: dict[Path_, frozenset[str] | None] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )
    # The rules that forbid each kind of viewer, for passports without a policy of their own.
    _forbidden: dict[Viewer, tuple[Path_, ...]] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    def rule_for(self, path: Path_) -> frozenset[str] | None:
        """The most specific rule covering `path`: the longest rule path that names it or an
        ancestor; when several equally long ones do (a member answering to two names), only roles
        every one of them admits."""
        try:
            return self._decided[path]
        except KeyError:
            pass
        rule = self._rule_for(path)
        if len(self._decided) >= RULE_CACHE_SIZE:
            self._decided.clear()  # member names come from documents: keep the cache bounded
        self._decided[path] = rule
        return rule

    def _rule_for(self, path: Path_) -> frozenset[str] | None:
        matching = [rule for rule in self.rules if covers(rule, path)]
        if not matching:
            return self.default
        longest = max(len(rule) for rule in matching)
        roles = [self.rules[rule] for rule in matching if len(rule) == longest]
        if any(PUBLIC in found for found in roles):
            roles = [found for found in roles if PUBLIC not in found] or roles
        return frozenset.intersection(*roles)

    def has_rules_below(self, path: Path_) -> bool:
        return any(len(rule) > len(path) and covers(rule[: len(path)], path) for rule in self.rules)


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
            normal = tuple(normal_name(str(segment)) for segment in path)
            if not all(normal):
                raise BadRequest(
                    f"'{where}.{key}.{name}' names no letters or digits", code=ErrorCode.INVALID_ACCESS_POLICY
                )
            found = _roles(roles, f"'{where}.{key}.{name}'")
            # Two spellings of one rule (`supplyChain`, `supplychain`): only what both admit.
            rules[normal] = rules[normal] & found if normal in rules else found
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


def passport_policy(own: Any) -> AccessPolicy:
    """A passport's own policy (None: it has none); raises BadRequest when it is invalid."""
    return UNRESTRICTED if own is None else parse_policy(own)


# -- the decision --------------------------------------------------------------------------------


def _allows(rule: frozenset[str] | None, viewer: Viewer) -> bool:
    return rule is None or PUBLIC in rule or bool(rule & viewer.roles)


def _governing_path(path: Path_) -> Path_:
    # An artifact reference is data of the section it details.
    if len(path) >= 2 and path[0] == ARTIFACTS:
        return (path[1],)
    return path


def may_read(path: Path_, viewer: Viewer, policies: Iterable[AccessPolicy]) -> bool:
    """May `viewer` read the element at `path`, by the rules alone (see `withheld`)?"""
    if viewer.owner or not path or path[0] in ALWAYS_PUBLIC or path == (ARTIFACTS,):
        return True
    governing = _governing_path(path)
    # A loop, not all(<generator>) (a third slower): this runs for every rule on every read.
    for policy in policies:  # noqa: SIM110
        if not _allows(policy.rule_for(governing), viewer):
            return False
    return True


# -- disclosures -------------------------------------------------------------------------------

# Where the SD-JWT claims keep the document and the envelope members (see shared.passports.issuance).
DOCUMENT_CLAIM, ENVELOPE_CLAIM = "document", "dpp"
ARTIFACTS_CLAIM, POLICY_CLAIM = "artifacts", "accessPolicy"
ClaimPath = tuple[str, ...]


def policy_path(claim: ClaimPath) -> Path_:
    """The policy path that governs a disclosure at `claim`."""
    if claim[:1] == (DOCUMENT_CLAIM,):
        return claim[1:]
    if claim[:2] == (ENVELOPE_CLAIM, ARTIFACTS_CLAIM):
        return (ARTIFACTS, *claim[2:])
    if claim == (ENVELOPE_CLAIM, POLICY_CLAIM):
        return (POLICY_MEMBER,)
    return ()


def members_named(document: dict[str, Any], rule: Path_) -> list[Path_]:
    """The member paths of `document` that rule path `rule` (normal names) names exactly."""
    return _descend([((), document)], rule)


def _descend(found: list[tuple[tuple[str, ...], Any]], rule: Path_) -> list[Path_]:
    """From the members `found` (path, value), the paths one level deeper per name of `rule`."""
    for name in rule:
        found = [
            ((*path, key), child)
            for path, value in found
            if isinstance(value, dict)
            for key, child in value.items()
            if name in names_of(key)
        ]
    return [path for path, _ in found]


def _named_in(document: dict[str, Any], index: Mapping[str, list[str]], rule: Path_) -> list[Path_]:
    """`members_named(document, rule)`, its first level looked up in `index` (`_member_index`)."""
    if not rule:
        return members_named(document, rule)
    first = index.get(rule[0], []) if isinstance(rule[0], str) else []
    return _descend([((key,), document[key]) for key in first], rule[1:])


@functools.lru_cache(maxsize=1024)  # documents of one kind share their top-level members
def _member_index(keys: tuple[str, ...]) -> Mapping[str, list[str]]:
    """A document's top-level members (`keys`) by each name they answer to, in document order."""
    index: dict[str, list[str]] = {}
    for key in keys:
        for name in names_of(key):
            index.setdefault(name, []).append(key)
    return index


def _names(rule: Path_, member: tuple[str, ...]) -> bool:
    return len(rule) == len(member) and covers(rule, member)


def _leads_to(prefix: tuple[str, ...], member: tuple[str, ...]) -> bool:
    """`prefix` (member names) is a strict prefix of `member` (member names, or a rule's)."""
    return len(prefix) < len(member) and all(
        given == wanted or wanted in names_of(given) for given, wanted in zip(prefix, member, strict=False)
    )


def disclosable(
    document: dict[str, Any],
    artifacts: dict[str, Any],
    own_policy: dict[str, Any] | None,
    deployment: AccessPolicy,
) -> list[ClaimPath]:
    """What a version's SD-JWT makes selectively disclosable: every content section, every element
    a policy restricts on its own, every artifact reference, and the passport's own policy."""
    paths: list[ClaimPath] = [
        (DOCUMENT_CLAIM, name) for name, value in document.items() if is_section(name, value)
    ]
    for policy in (deployment, passport_policy(own_policy)):
        for rule in policy.rules:
            if len(rule) < 2:
                continue
            for member in members_named(document, rule):
                claim = (DOCUMENT_CLAIM, *(str(segment) for segment in member))
                if claim not in paths:
                    paths.append(claim)
    paths.extend((ENVELOPE_CLAIM, ARTIFACTS_CLAIM, name) for name in artifacts)
    if own_policy is not None:
        paths.append((ENVELOPE_CLAIM, POLICY_CLAIM))
    return paths


def _forbidden_rules(viewer: Viewer, policies: tuple[AccessPolicy, AccessPolicy]) -> tuple[Path_, ...]:
    """The rules of `policies` (the deployment's, the passport's) that forbid `viewer`, in order.

    Without a policy of its own (most passports), the answer depends on the viewer alone and is
    kept on the deployment's policy: it is asked on every read."""
    deployment, own = policies
    if own is UNRESTRICTED:
        cached = deployment._forbidden.get(viewer)
        if cached is not None:
            return cached
    found = tuple(
        rule for policy in policies for rule in policy.rules if not may_read(rule, viewer, policies)
    )
    if own is UNRESTRICTED:
        if len(deployment._forbidden) >= RULE_CACHE_SIZE:
            deployment._forbidden.clear()
        deployment._forbidden[viewer] = found
    return found


def withheld(
    paths: Iterable[ClaimPath],
    viewer: Viewer,
    deployment: AccessPolicy,
    own_policy: dict[str, Any] | None,
    document: dict[str, Any] | None = None,
) -> frozenset[ClaimPath]:
    """THE decision of every read: the disclosures `viewer` of a version may not have.

    A disclosure is withheld when its policy path may not be read, or when a rule that forbids
    this viewer names an element of the version's `document` strictly inside it (a rule added
    after the version was issued, which its disclosures cannot honour). Without the document,
    every rule is taken to name something (fail closed)."""
    if viewer.owner:
        return frozenset()
    policies = (deployment, passport_policy(own_policy))
    present = set(paths)
    refused = {path for path in present if not may_read(policy_path(path), viewer, policies)}
    # Each rule a reader may not read is looked for in the document: index its members once.
    index: Mapping[str, list[str]] | None = None
    for rule in _forbidden_rules(viewer, policies):
        # Without the document, every rule is taken to name something (fail closed): the
        # disclosure it names, if the version has one, else something inside a disclosure.
        members: list[Path_]
        if document is not None:
            index = _member_index(tuple(document)) if index is None else index
            members = _named_in(document, index, rule)
        else:
            exact: list[Path_] = [
                path[1:] for path in present if path[:1] == (DOCUMENT_CLAIM,) and _names(rule, path[1:])
            ]
            members = exact or [rule]
        for member in members:
            claim = (DOCUMENT_CLAIM, *(str(segment) for segment in member))
            if claim in present:
                continue
            holders = [
                path for path in present if path[:1] == (DOCUMENT_CLAIM,) and _leads_to(path[1:], claim[1:])
            ]
            if holders:
                refused.add(max(holders, key=len))
    return frozenset(refused)


def is_withheld(path: ClaimPath, refused: frozenset[ClaimPath]) -> bool:
    """Withheld itself, or inside something withheld."""
    return any(path[: len(prefix)] == prefix for prefix in refused)


def prune(value: dict[str, Any], base: ClaimPath, refused: frozenset[ClaimPath]) -> dict[str, Any]:
    """`value` (the claims at `base`) without the members at withheld paths; shares unchanged parts."""
    below = [path[len(base) :] for path in refused if len(path) > len(base) and path[: len(base)] == base]
    if not below:
        return value
    kept: dict[str, Any] = {}
    for name, member in value.items():
        child = (*base, name)
        if child in refused:
            continue
        kept[name] = prune(member, child, refused) if isinstance(member, dict) else member
    return kept


def disclose(
    document: dict[str, Any],
    viewer: Viewer,
    deployment: AccessPolicy,
    own_policy: dict[str, Any] | None = None,
) -> Disclosure:
    """The part of `document` that `viewer` may read, disclosure by disclosure (as a version
    issued now would be shown); the owner's view is the document itself."""
    paths = disclosable(document, {}, own_policy, deployment)
    refused = withheld(paths, viewer, deployment, own_policy, document)
    shown = prune(document, (DOCUMENT_CLAIM,), refused)
    return Disclosure(shown, shown is document)
