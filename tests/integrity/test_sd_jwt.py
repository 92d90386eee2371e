"""SD-JWT issuance and presentation (RFC 9901) without HTTP, checked with the reference
implementation from PyPI (`sd-jwt`, OpenWallet Foundation), which the service does not use."""

from __future__ import annotations

import json
from typing import Any

import pytest
from jwcrypto.jwk import JWK
from sd_jwt.verifier import SDJWTVerifier

from shared.integrity.sd_jwt import (
    DIGESTS,
    Unreferenced,
    decode_disclosure,
    encode_disclosure,
    find_reserved,
    issue,
    parse,
    present,
    unpack,
    version_digest,
)
from shared.integrity.signers import LocalSigner, ensure_local_key
from shared.platform.encoding import b64url_decode

CLAIMS = {
    "iss": "did:web:dpp.example.com:api:v1:operators:acme",
    "iat": 1767225600,
    "dpp": {"id": "urn:x", "version": 2, "artifacts": {"repair": {"hash": "sha256-r"}}},
    "document": {
        "digitalProductPassportId": "urn:x",
        "composition": {"fibres": "cotton", "supplierContract": "C-1"},
        "supplychain": {"tier1": "Spinner"},
    },
}
DISCLOSABLE = [
    ("document", "composition"),
    ("document", "composition", "supplierContract"),
    ("document", "supplychain"),
    ("dpp", "artifacts", "repair"),
]


@pytest.fixture(scope="module")
def signer(tmp_path_factory: pytest.TempPathFactory) -> LocalSigner:
    return LocalSigner(ensure_local_key(tmp_path_factory.mktemp("key") / "signing.pem"))


def _issue(signer: LocalSigner, claims: dict[str, Any] = CLAIMS) -> Any:
    kid = signer.public_jwk()["kid"]
    return issue(claims, DISCLOSABLE, {"kid": kid}, lambda data: signer.sign(data)[1])


def _reference(presentation: str, signer: LocalSigner) -> dict[str, Any]:
    key = JWK.from_json(json.dumps(signer.public_jwk()))
    return SDJWTVerifier(presentation, lambda issuer, header: key).get_verified_payload()


def _encoded(issued: Any, path: tuple[str, ...]) -> str:
    return next(d.encoded for d in issued.disclosures if d.path == path)


def test_everything_disclosed_gives_back_the_claims(signer: LocalSigner):
    issued = _issue(signer)
    everything = present(issued.jwt, [d.encoded for d in issued.disclosures])
    payload = _reference(everything, signer)
    assert payload["document"] == CLAIMS["document"]
    assert payload["dpp"] == CLAIMS["dpp"]
    assert unpack(parse(everything).payload, parse(everything).disclosures)["document"] == CLAIMS["document"]


def test_a_withheld_member_leaves_only_its_digest(signer: LocalSigner):
    issued = _issue(signer)
    chosen = [_encoded(issued, ("document", "composition"))]
    payload = _reference(present(issued.jwt, chosen), signer)
    assert payload["document"] == {"digitalProductPassportId": "urn:x", "composition": {"fibres": "cotton"}}
    assert payload["dpp"]["artifacts"] == {}
    signed_payload = b64url_decode(issued.jwt.split(".")[1]).decode()
    assert "Spinner" not in signed_payload and "C-1" not in signed_payload
    assert len(json.loads(signed_payload)["document"][DIGESTS]) == 2


def test_salts_differ_so_equal_values_get_different_digests(signer: LocalSigner):
    first, second = _issue(signer), _issue(signer)
    assert {d.digest for d in first.disclosures}.isdisjoint({d.digest for d in second.disclosures})
    salt, name, value = decode_disclosure(_encoded(first, ("document", "supplychain")))
    assert (name, value) == ("supplychain", {"tier1": "Spinner"})
    assert len(b64url_decode(salt)) == 16


def test_an_altered_or_foreign_disclosure_is_referenced_by_nothing(signer: LocalSigner):
    issued, other = _issue(signer), _issue(signer)
    salt, name, _ = decode_disclosure(_encoded(issued, ("document", "supplychain")))
    altered = encode_disclosure(salt, name, {"tier1": "Somebody else"})
    for stray in (altered, _encoded(other, ("document", "supplychain"))):
        parsed = parse(present(issued.jwt, [stray]))
        with pytest.raises(Unreferenced):
            unpack(parsed.payload, parsed.disclosures)
        # The reference verifier ignores what nothing references: the stray content is not returned.
        assert "supplychain" not in _reference(present(issued.jwt, [stray]), signer)["document"]


def test_a_changed_payload_fails_the_signature(signer: LocalSigner):
    issued = _issue(signer)
    header, payload, signature = issued.jwt.split(".")
    forged = f"{header}.{payload[:-2]}AA.{signature}"
    with pytest.raises(Exception):  # noqa: B017 - jwcrypto raises its own InvalidJWSSignature
        _reference(present(forged, []), signer)


def test_version_digest_and_parse_refuse_what_is_not_a_presentation(signer: LocalSigner):
    issued = _issue(signer)
    assert version_digest(issued.jwt).startswith("sha256-")
    for bad in ("", issued.jwt, issued.jwt + "~x", "a.b~"):
        with pytest.raises(ValueError):
            parse(bad)


def test_reserved_names_are_found_anywhere():
    assert find_reserved({"a": {"b": [{"_sd": []}]}}) == "$.a.b[0]._sd"
    assert find_reserved({"a": {"...": 1}}) == "$.a...."
    assert find_reserved({"a": {"b": [1, {"c": 2}]}}) is None
