"""Checking an SD-JWT presentation, a stored version, or a passport's whole history.

Every check has a name, so a verifier learns exactly what failed: `signatureFormat`, `kid`
(signed with a key the signer does not hold), `signature` (ES256 does not verify), `disclosures`
(a disclosure is referenced by no digest of the signed JWT: altered, or taken from another
passport or version), `contentHash` (the document is not the one hashed), `claims` (what the
version's JWT says is not what its record holds), `issuer` (the JWT names another operator), and
for histories `sequence` (a version is missing or out of order), `chain` (a predecessor digest
does not match), `header` (the signed envelope names another passport, version or operation),
`owner` (the economic operator changed between versions, or a record names another one than its
signed document), `head` (what readers are served is not the newest version as stored) and
`current` (versions exist beyond the head: it was rolled back). The history checks are composed
in `shared.passports.history`, which knows the version records.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from shared.integrity.sd_jwt import ALGORITHM, TYP, parse, unpack
from shared.integrity.signatures import content_hash, parse_jws, signed_payload, signing_input
from shared.platform.encoding import b64url_decode

JwkLookup = Callable[[str], dict[str, Any] | None]


@dataclass(frozen=True)
class Check:
    check: str
    passed: bool
    detail: str
    version: int | None = None


def verify_es256(jwk: dict[str, Any], data: bytes, raw_signature: bytes) -> bool:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

    if len(raw_signature) != 64 or jwk.get("kty") != "EC" or jwk.get("crv") != "P-256":
        return False
    try:
        x = int.from_bytes(b64url_decode(jwk["x"]), "big")
        y = int.from_bytes(b64url_decode(jwk["y"]), "big")
        key = ec.EllipticCurvePublicNumbers(x, y, ec.SECP256R1()).public_key()
        der = encode_dss_signature(
            int.from_bytes(raw_signature[:32], "big"), int.from_bytes(raw_signature[32:], "big")
        )
        key.verify(der, data, ec.ECDSA(hashes.SHA256()))
    except (InvalidSignature, ValueError, KeyError):
        return False
    return True


def verify_presentation(
    presentation: Any, jwk_for: JwkLookup, version: int | None = None
) -> tuple[list[Check], dict[str, Any] | None, dict[str, Any] | None]:
    """Checks of an SD-JWT presentation, its JOSE header, and the claims it discloses (None when
    the signature or a disclosure fails)."""
    checks: list[Check] = []

    def add(name: str, passed: bool, detail: str) -> None:
        checks.append(Check(name, passed, detail, version))

    try:
        parsed = parse(presentation)
    except (ValueError, TypeError) as exc:
        add("signatureFormat", False, str(exc))
        return checks, None, None
    header = parsed.header
    if header.get("alg") != ALGORITHM or header.get("typ") != TYP or not isinstance(header.get("kid"), str):
        add("signatureFormat", False, f"the JWT header must name alg {ALGORITHM}, typ {TYP} and a kid")
        return checks, header, None
    add("signatureFormat", True, f"SD-JWT (RFC 9901), {ALGORITHM}")
    jwk = jwk_for(header["kid"])
    if jwk is None:
        add("kid", False, f"key {header['kid']!r} is not one of the keys the signer holds")
        return checks, header, None
    add("kid", True, header["kid"])
    valid = verify_es256(jwk, parsed.signing_input, parsed.signature)
    add("signature", valid, "verifies with the published key" if valid else "does not verify")
    if not valid:
        return checks, header, None
    try:
        claims = unpack(parsed.payload, parsed.disclosures)
    except ValueError as exc:
        add("disclosures", False, str(exc))
        return checks, header, None
    add("disclosures", True, f"{len(parsed.disclosures)} disclosure(s), each referenced by the signed JWT")
    return checks, header, claims


def verify_legacy_document(
    document: dict[str, Any], jwk_for: JwkLookup, version: int | None = None
) -> tuple[list[Check], dict[str, Any] | None]:
    """Checks of a document signed before SD-JWT issuance (a detached JWS over its JCS form), and
    its signed JWS header when it could be read; the migration re-issues only what passes."""
    checks: list[Check] = []

    def add(name: str, passed: bool, detail: str) -> None:
        checks.append(Check(name, passed, detail, version))

    claimed = document.get("contentHash")
    actual = content_hash(document)
    add(
        "contentHash",
        claimed == actual,
        "matches the document" if claimed == actual else f"document hashes to {actual}, claims {claimed!r}",
    )
    try:
        encoded_header, header, raw = parse_jws(document.get("signature"))  # type: ignore[arg-type]
    except (ValueError, TypeError) as exc:
        add("signatureFormat", False, str(exc))
        return checks, None
    if header.get("alg") != "ES256" or not isinstance(header.get("kid"), str):
        add("signatureFormat", False, "JWS header must name alg ES256 and a kid")
        return checks, header
    add("signatureFormat", True, "compact JWS, detached payload, ES256")
    jwk = jwk_for(header["kid"])
    if jwk is None:
        add("kid", False, f"key {header['kid']!r} is not one of the keys the signer holds")
        return checks, header
    add("kid", True, header["kid"])
    valid = verify_es256(jwk, signing_input(encoded_header, signed_payload(document)), raw)
    add("signature", valid, "verifies with the published key" if valid else "does not verify")
    return checks, header


# What a head does not share with the version it copies.
OWN = frozenset({"id", "type"})


def verify_head(head: dict[str, Any], version: dict[str, Any] | None) -> Check:
    """Readers are served the head: it must be the very version it names."""
    number = head.get("version")
    if version is None:
        return Check("head", False, f"the head names version {number}, which is not stored", number)
    # Every member but the item's own id and type, and Cosmos DB's system properties.
    names = sorted(name for name in {*head, *version} if not name.startswith("_") and name not in OWN)
    differing = [name for name in names if head.get(name) != version.get(name)]
    if differing:
        return Check(
            "head", False, f"the head differs from version {number} in {', '.join(differing)}", number
        )
    return Check("head", True, f"the head is version {number} as stored", number)


def verify_current(head: dict[str, Any], later: list[dict[str, Any]]) -> Check:
    """No stored version is newer than the head (one being written right now excepted)."""
    number = head.get("version")
    if later:
        found = ", ".join(str(item.get("version")) for item in later)
        return Check("current", False, f"versions {found} exist beyond the head (version {number})", number)
    return Check("current", True, "the head is the newest version", number)


def report(checks: list[Check]) -> dict[str, Any]:
    failed = [check for check in checks if not check.passed]
    return {
        "valid": not failed and bool(checks),
        "failedChecks": sorted({check.check for check in failed}),
        "checks": [{k: v for k, v in asdict(check).items() if v is not None} for check in checks],
    }
