"""The AAS idShort of a passport member's key (IDTA-01001 AASd-002), one function for every part
that names members in AAS terms: the AAS export (`shared.publication.aas`), its import back
(`shared.onboarding.aas_files`) and the element API's idShort paths (`element_paths`), so that a
name the export gave is the name the others take.

A key that is a valid idShort (a letter first, then letters, digits, `_` or `-`, not ending with
`-`; at most 128 characters) is its own idShort; any other is mapped deterministically (`idshort`).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable

DPP_METADATA_SEMANTIC_ID = "https://admin-shell.io/idta/cds/dppMetadata/1"
METADATA_ID_SHORT = "DppMetadata"
ARTIFACTS_ID_SHORT = "Artifacts"
# The submodels beside the sections: a section is never exported under their idShorts.
RESERVED_SUBMODELS = frozenset({METADATA_ID_SHORT, ARTIFACTS_ID_SHORT})

_ID_SHORT = re.compile(r"[A-Za-z](?:[A-Za-z0-9_-]*[A-Za-z0-9_])?")
_NOT_ID_SHORT = re.compile(r"[^A-Za-z0-9_]")
MAX_ID_SHORT = 128
# Characters of the key's SHA-256 (hex) a mapped idShort ends with, and more on a collision.
_DIGEST_LENGTHS = (8, 16, 64)


def idshort(key: str, taken: Iterable[str] = ()) -> str:
    """The idShort a JSON key is exported under: itself when it is one; else every character other
    than a letter, digit or `_` replaced by `_`, `k` before it unless it starts with a letter, cut to
    fit, then `_` and the start of the key's SHA-256, longer where that is `taken` already."""
    used = set(taken)
    if _ID_SHORT.fullmatch(key) and len(key) <= MAX_ID_SHORT and key not in used:
        return key
    base = _NOT_ID_SHORT.sub("_", key)
    if not base[:1].isascii() or not base[:1].isalpha():
        base = "k" + base
    digest = hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()
    for length in _DIGEST_LENGTHS:
        candidate = f"{base[: MAX_ID_SHORT - length - 1]}_{digest[:length]}"
        if candidate not in used:
            return candidate
    raise ValueError(f"no free idShort for {key!r}")  # a collision of full SHA-256 digests


def id_shorts(keys: Iterable[str], taken: Iterable[str] = ()) -> dict[str, str]:
    """idShort -> key for the members `keys` of one object, in the order the export assigns them
    (each key's idShort is taken for the keys after it)."""
    used = set(taken)
    named: dict[str, str] = {}
    for key in keys:
        short = idshort(key, used)
        used.add(short)
        named[short] = key
    return named


def may_stand_for(short: str, key: str) -> bool:
    """Whether the export may have named `key` `short`: one of the idShorts `idshort` gives it,
    whatever was taken before it."""
    candidates: list[str] = []
    while len(candidates) <= len(_DIGEST_LENGTHS):
        try:
            candidate = idshort(key, candidates)
        except ValueError:  # every spelling of a key that is no idShort tried
            return False
        if candidate == short:
            return True
        candidates.append(candidate)
    return False
