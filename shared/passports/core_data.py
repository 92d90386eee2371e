"""Core data for offline reading: a compact signed token the data carrier's URI carries.

The carrier (QR code, DataMatrix, NFC) encodes `<carrier URI>#core=<token>`: the canonical GS1
Digital Link URI on the resolver host (or the short URL `/p/{dppId}` for other ids), and in its
fragment, which never reaches a server, a compact JWS (RFC 7515, ES256, its `kid` in `/v1/keys`)
over a small set of public fields:

    {"v": 1, "u": <carrier URI>, "id": <product id, unless u is its Digital Link URI>,
     "o": <economic operator>, "n": <product name>,
     "s": <status>, "l": <version label>, "vf": <valid from, date>, "vt": <valid to, date>,
     "f": {<figure>: <value>}, "iat": <seconds>}

`f` holds the main public figures: the composition and carbon footprint, where the public document
has them. Only what anonymous readers may see goes in. The token is issued on write with the
version; when its claims are those of the previous version's token, that token is kept (no
second signature for an edit that changes none of them). To keep the carrier printable (QR
version 20 or below at error correction M: 666 bytes), optional fields are shortened, then
dropped, before the token would outgrow its budget; the signature is never dropped.
"""

from __future__ import annotations

import base64
import json
import re
from typing import Any
from urllib.parse import quote

from shared.documents.digital_link import canonical_uri
from shared.documents.members import sections
from shared.documents.text import is_multi_language, localized, product_name

VERSION = 1
TYP = "dpp-core+jwt"
# Bytes a QR code of version 20 at error correction M holds in byte mode (ISO/IEC 18004 table 7).
CARRIER_BUDGET = 666
NAME_CHARS, FIGURE_CHARS = (48, 24, 12), (60, 30)
_CARBON = re.compile(r"carbon|co2|footprint", re.IGNORECASE)
# Carriers are printed once for every reader: their text is English where a value has several.
LANGUAGE = "en"


def carrier_uri(product_id: str, dpp_id: str, base: str) -> str:
    return canonical_uri(product_id, base) or f"{base.rstrip('/')}/p/{quote(dpp_id, safe='')}"


def _text(value: Any) -> str:
    if is_multi_language(value):
        return localized(value, LANGUAGE)
    if isinstance(value, dict):
        return ", ".join(f"{k} {_text(v)}" for k, v in value.items())
    if isinstance(value, list):
        return ", ".join(_text(item) for item in value)
    return str(value)


def _figures(content: dict[str, dict[str, Any]]) -> dict[str, str]:
    figures: dict[str, str] = {}
    if "composition" in content:
        figures["composition"] = _text(content["composition"])
    for section in content.values():
        for key, value in section.items():
            if (
                _CARBON.search(key)
                and not isinstance(value, dict | list)
                and "carbonFootprint" not in figures
            ):
                figures["carbonFootprint"] = str(value)
    return figures


def claims(record: dict[str, Any], public_document: dict[str, Any], base: str) -> dict[str, Any]:
    """The full core claims of a version (before fitting them to the carrier)."""
    content = sections(public_document)
    lifecycle = record["lifecycle"]
    gs1 = canonical_uri(record["productId"], base)
    found: dict[str, Any] = {
        "v": VERSION,
        "u": gs1 or carrier_uri(record["productId"], record["dppId"], base),
        # A Digital Link URI already is the identification; any other product id is carried as given.
        "id": None if gs1 else record["productId"],
        "o": public_document["economicOperatorId"],
        "n": product_name(content, LANGUAGE),
        "s": "Revoked" if record.get("deleted") else lifecycle["status"],
        "l": lifecycle["versionLabel"],
        "vf": (lifecycle.get("validFrom") or "")[:10],
        "vt": (lifecycle.get("validTo") or "")[:10] or None,
        "f": _figures(content),
    }
    return {key: value for key, value in found.items() if value not in (None, {}, "")}


def _shortened(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def fit(full: dict[str, Any], budget: int) -> list[dict[str, Any]]:
    """Ever shorter variants of `full`, the caller takes the first whose token fits `budget`."""
    variants = []
    for name_chars, figure_chars in ((None, None), *zip(NAME_CHARS, (*FIGURE_CHARS, 0), strict=True)):
        variant = dict(full)
        if name_chars is not None and "n" in variant:
            variant["n"] = _shortened(variant["n"], name_chars)
        if figure_chars is not None and "f" in variant:
            kept = {k: _shortened(v, figure_chars) for k, v in variant["f"].items()} if figure_chars else {}
            variant["f"] = kept
            if not kept:
                variant.pop("f")
        variants.append(variant)
    variants.append(
        {key: value for key, value in full.items() if key in ("v", "u", "id", "o", "s", "l", "vf")}
    )
    return variants


def payload_of(token: str) -> dict[str, Any]:
    """The claims of a core token (not verified: for comparing with the next version's)."""
    part = token.split(".")[1]
    decoded = json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
    return decoded if isinstance(decoded, dict) else {}


def token_budget(uri: str) -> int:
    """Characters left for the token once the carrier holds `uri` and `#core=`."""
    return CARRIER_BUDGET - len(carrier_text(uri, ""))


def carrier_text(uri: str, token: str | None) -> str:
    """What the carrier encodes."""
    return f"{uri}#core={token}" if token is not None else uri
