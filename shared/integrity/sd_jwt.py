"""SD-JWT (RFC 9901): issuing a version once, on write, and presenting parts of it on read.

Issuing turns a claims object into an issuer-signed JWT in which every member at a *disclosable*
path is replaced by the digest of its disclosure (`[salt, name, value]`, base64url), listed in the
`_sd` array of the object that held it. Members below a disclosable member may be disclosable in
turn (an element inside a section): the outer disclosure's value then carries their digests.
Presenting is string concatenation, `<issuer-signed JWT>~<disclosure>~...~`: no key, no signer
call, so readers cost a hash at most. Verification is the other half: the signature, then every
presented disclosure's digest must appear in the JWT or in another presented disclosure.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from shared.platform.encoding import b64url, b64url_decode
from shared.platform.json_input import read_json

SD_ALG = "sha-256"
TYP = "dpp+sd-jwt"
ALGORITHM = "ES256"
DIGESTS = "_sd"
DIGEST_ALG = "_sd_alg"
LIST_ITEM = "..."
# Claim names RFC 9901 reserves; a document using them could not be told apart from the format.
RESERVED_NAMES = frozenset({DIGESTS, DIGEST_ALG, LIST_ITEM})
SEPARATOR = "~"

ClaimPath = tuple[str, ...]


@dataclass(frozen=True)
class Disclosure:
    """One selectively disclosable member: where it sits in the claims, and its encoded form."""

    path: ClaimPath
    encoded: str

    @property
    def digest(self) -> str:
        return digest(self.encoded)

    def decoded(self) -> tuple[str, str, Any]:
        return decode_disclosure(self.encoded)


@dataclass(frozen=True)
class Issued:
    jwt: str
    disclosures: tuple[Disclosure, ...]


def digest(encoded: str) -> str:
    """base64url(SHA-256(ASCII(disclosure))), the value listed in `_sd`."""
    return b64url(hashlib.sha256(encoded.encode("ascii")).digest())


def encode_disclosure(salt: str, name: str, value: Any) -> str:
    return b64url(json.dumps([salt, name, value], ensure_ascii=False, separators=(",", ":")).encode("utf-8"))


def decode_disclosure(encoded: str) -> tuple[str, str, Any]:
    decoded = read_json(b64url_decode(encoded))
    if (
        not isinstance(decoded, list)
        or len(decoded) != 3
        or not isinstance(decoded[0], str)
        or not isinstance(decoded[1], str)
    ):
        raise ValueError("a disclosure must be a JSON array [salt, claim name, value]")
    if decoded[1] in RESERVED_NAMES:
        raise ValueError(f"a disclosure must not name '{decoded[1]}'")
    return decoded[0], decoded[1], decoded[2]


def _salt() -> str:
    # 128 bits, as RFC 9901 section 9.3 recommends: a withheld part reveals its digest only.
    return b64url(secrets.token_bytes(16))


def _conceal(value: Any, path: ClaimPath, disclosable: frozenset[ClaimPath], out: list[Disclosure]) -> Any:
    if not isinstance(value, dict):
        return value
    kept: dict[str, Any] = {}
    digests: list[str] = []
    for name, member in value.items():
        member_path = (*path, name)
        concealed = _conceal(member, member_path, disclosable, out)
        if member_path in disclosable:
            disclosure = Disclosure(member_path, encode_disclosure(_salt(), name, concealed))
            out.append(disclosure)
            digests.append(disclosure.digest)
        else:
            kept[name] = concealed
    if digests:
        # Sorted, so the order of digests reveals nothing about the order of members.
        kept[DIGESTS] = sorted(digests)
    return kept


def _encoded(value: dict[str, Any]) -> str:
    return b64url(json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))


def compact_jws(payload: dict[str, Any], header: dict[str, Any], sign: Callable[[bytes], bytes]) -> str:
    """A compact JWS (RFC 7515) with an attached payload, ES256."""
    signing_input = f"{_encoded({'alg': ALGORITHM, **header})}.{_encoded(payload)}"
    return f"{signing_input}.{b64url(sign(signing_input.encode('ascii')))}"


def compact_jws_length(payload: dict[str, Any], header: dict[str, Any]) -> int:
    """The length `compact_jws` would give, without signing (an ES256 signature is 86 characters)."""
    return len(_encoded({"alg": ALGORITHM, **header})) + len(_encoded(payload)) + 2 + 86


def issue(
    claims: dict[str, Any],
    disclosable: Iterable[ClaimPath],
    header: dict[str, Any],
    sign: Callable[[bytes], bytes],
) -> Issued:
    """Sign `claims` once, with each member at a `disclosable` path concealed behind its digest."""
    disclosures: list[Disclosure] = []
    payload = _conceal(claims, (), frozenset(disclosable), disclosures)
    payload[DIGEST_ALG] = SD_ALG
    protected = {"alg": ALGORITHM, "typ": TYP, **header}
    encoded_header = b64url(json.dumps(protected, separators=(",", ":")).encode("utf-8"))
    encoded_payload = b64url(json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))
    signing_input = f"{encoded_header}.{encoded_payload}".encode("ascii")
    jwt = f"{encoded_header}.{encoded_payload}.{b64url(sign(signing_input))}"
    return Issued(jwt, tuple(disclosures))


def present(jwt: str, disclosures: Iterable[str]) -> str:
    """The SD-JWT presentation of exactly `disclosures` (no key binding): `jwt~d1~d2~`."""
    return SEPARATOR.join([jwt, *disclosures, ""])


def version_digest(jwt: str) -> str:
    """What the next version names as its predecessor: a digest of the issuer-signed JWT."""
    return "sha256-" + b64url(hashlib.sha256(jwt.encode("ascii")).digest())


@dataclass(frozen=True)
class Parsed:
    """A presentation taken apart (nothing verified yet)."""

    jwt: str
    encoded_header: str
    header: dict[str, Any]
    payload: dict[str, Any]
    signing_input: bytes
    signature: bytes
    disclosures: tuple[str, ...]


def parse(presentation: str) -> Parsed:
    """Split a compact presentation; ValueError if it is not one (key binding JWTs are refused)."""
    if not isinstance(presentation, str) or SEPARATOR not in presentation:
        raise ValueError("not an SD-JWT presentation: expected '<JWT>~<disclosures>~'")
    parts = presentation.split(SEPARATOR)
    if parts[-1] != "":
        raise ValueError("the presentation must end with '~' (key binding is not used)")
    jwt, disclosures = parts[0], tuple(parts[1:-1])
    pieces = jwt.split(".")
    if len(pieces) != 3 or not all(pieces):
        raise ValueError("the issuer-signed JWT is not a compact JWS")
    header = read_json(b64url_decode(pieces[0]))
    payload = read_json(b64url_decode(pieces[1]))
    if not isinstance(header, dict) or not isinstance(payload, dict):
        raise ValueError("the JWT header and payload must be JSON objects")
    signing_input = f"{pieces[0]}.{pieces[1]}".encode("ascii")
    return Parsed(jwt, pieces[0], header, payload, signing_input, b64url_decode(pieces[2]), disclosures)


class Unreferenced(ValueError):
    """A presented disclosure that no digest in the JWT or another disclosure names."""


def unpack(payload: dict[str, Any], disclosures: Iterable[str]) -> dict[str, Any]:
    """The claims with the presented disclosures put back (RFC 9901 section 7.1, steps 3-5).

    Raises Unreferenced for a disclosure nothing points at (altered, or taken from another
    SD-JWT) and ValueError for a malformed or repeated one.
    """
    by_digest: dict[str, tuple[str, str, Any]] = {}
    for encoded in disclosures:
        key = digest(encoded)
        if key in by_digest:
            raise ValueError("a disclosure is presented twice")
        by_digest[key] = decode_disclosure(encoded)
    used: set[str] = set()

    def walk(value: Any) -> Any:
        if isinstance(value, list):
            return [walk(item) for item in value]
        if not isinstance(value, dict):
            return value
        out = {name: walk(member) for name, member in value.items() if name not in (DIGESTS, DIGEST_ALG)}
        for entry in value.get(DIGESTS, []):
            if entry in used:
                raise ValueError("a digest appears twice")
            found = by_digest.get(entry)
            if found is None:
                continue
            used.add(entry)
            _, name, member = found
            if name in out:
                raise ValueError(f"disclosed claim '{name}' is already present")
            out[name] = walk(member)
        return out

    claims = walk(payload)
    stray = [key for key in by_digest if key not in used]
    if stray:
        raise Unreferenced(
            f"{len(stray)} disclosure(s) are referenced by no digest of this SD-JWT: altered, or taken "
            "from another passport or version"
        )
    return claims


def find_reserved(value: Any, where: str = "$") -> str | None:
    """The path of the first member named as RFC 9901 reserves (`_sd`, `_sd_alg`, `...`), if any."""
    if isinstance(value, dict):
        for name, member in value.items():
            if name in RESERVED_NAMES:
                return f"{where}.{name}"
            found = find_reserved(member, f"{where}.{name}")
            if found:
                return found
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found = find_reserved(item, f"{where}[{index}]")
            if found:
                return found
    return None
