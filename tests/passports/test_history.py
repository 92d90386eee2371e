"""Every version hashed and issued as an SD-JWT on write; anyone can verify with the published keys
alone, and /v1/verify names every tampering.

Independent checks use the RFC 9901 reference implementation (PyPI `sd-jwt`, on jwcrypto) and a JCS
written here from the RFC's rules for the values these tests use (ASCII keys, strings, integers,
short decimals), not the project's own code.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
from typing import Any

import pytest
from jwcrypto import jwk
from sd_jwt.verifier import SDJWTVerifier

from shared.platform.errors import ErrorCode, ServiceUnavailable
from shared.storage.cosmos import PASSPORTS, without_system
from tests.support.documents import enc, make_passport
from tests.support.presentations import b64json
from tests.support.results import assert_result


def independent_jcs(document: dict[str, Any]) -> bytes:
    body = {k: v for k, v in document.items() if k not in ("contentHash", "signature")}
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def independent_hash(document: dict[str, Any]) -> str:
    digest = hashlib.sha256(independent_jcs(document)).digest()
    return "sha256-" + base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def verify_with_jwks(presentation: str, jwks: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Verify like a third party, with the JWKS alone: (the JWT header, the disclosed claims)."""
    header = b64json(presentation.split(".", maxsplit=1)[0])
    (key,) = [k for k in jwks["keys"] if k["kid"] == header["kid"]]
    claims = SDJWTVerifier(presentation, lambda issuer, _: jwk.JWK(**key)).get_verified_payload()
    return header, claims


def jwt_digest(presentation: str) -> str:
    digest = hashlib.sha256(presentation.split("~", maxsplit=1)[0].encode("ascii")).digest()
    return "sha256-" + base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


@pytest.fixture
def history_passport(api, http, auth, create) -> dict[str, Any]:
    """A passport with four versions: create, merge patch, element update, delete."""
    document = create()
    url = f"{api}/v1/dpps/{enc(document['digitalProductPassportId'])}"
    assert http.patch(url, json={"dppStatus": "Inactive"}, headers=auth).status_code == 200
    assert (
        http.put(f"{url}/elements/nameplate/ManufacturerName", json="ACME Ltd", headers=auth).status_code
        == 200
    )
    return document


def test_every_version_verifies_with_an_independent_jose_library(api, http, auth, history_passport):
    dpp_id = history_passport["digitalProductPassportId"]
    url = f"{api}/v1/dpps/{enc(dpp_id)}"
    current = http.get(url).json()
    assert http.delete(url, headers=auth).status_code == 204
    jwks = http.get(f"{api}/v1/keys").json()
    assert jwks["keys"] and all(key["kty"] == "EC" and key["crv"] == "P-256" for key in jwks["keys"])
    assert all("d" not in key for key in jwks["keys"])  # never a private key

    header, claims = verify_with_jwks(current["signature"], jwks)
    assert current["contentHash"] == independent_hash(current)
    assert claims["document"] == {k: v for k, v in current.items() if k not in ("contentHash", "signature")}
    assert (header["alg"], header["typ"]) == ("ES256", "dpp+sd-jwt")
    assert (claims["dpp"]["id"], claims["dpp"]["version"], claims["dpp"]["operation"]) == (
        dpp_id,
        3,
        "updateElement",
    )

    history = http.get(f"{url}/history", headers=auth).json()["versions"]
    assert [v["version"] for v in history] == [1, 2, 3, 4]
    assert [v["operation"] for v in history] == ["create", "update", "updateElement", "delete"]
    assert history[0]["previousDigest"] is None
    for earlier, later in itertools.pairwise(history):
        assert later["previousDigest"] == earlier["versionDigest"] == jwt_digest(earlier["signature"])
    for record in history[:3]:
        at = http.get(
            f"{api}/v1/dppsByIdAndDate/{enc(dpp_id)}", params={"date": record["ts"]}, headers=auth
        ).json()
        assert at["contentHash"] == independent_hash(at) == record["contentHash"]
        _, signed = verify_with_jwks(at["signature"], jwks)
        assert signed["dpp"]["version"] == record["version"]
        assert signed["dpp"]["previousDigest"] == record["previousDigest"]
        assert jwt_digest(at["signature"]) == record["versionDigest"]


def test_client_supplied_integrity_fields_are_replaced(api, http, auth):
    document = make_passport(contentHash="sha256-forged", signature="forged..sig")
    assert http.post(f"{api}/v1/dpps", json=document, headers=auth).status_code == 201
    stored = http.get(f"{api}/v1/dpps/{enc(document['digitalProductPassportId'])}").json()
    assert stored["contentHash"] == independent_hash(stored) != "sha256-forged"
    verify_with_jwks(stored["signature"], http.get(f"{api}/v1/keys").json())


def _verify(http, api, body: dict[str, Any]) -> dict[str, Any]:
    response = http.post(f"{api}/v1/verify", json=body)
    assert response.status_code == 200, response.text
    return response.json()


def _reencode_header(presentation: str, **changes: Any) -> str:
    jwt, rest = presentation.split("~", 1)
    header_b64, payload, sig = jwt.split(".")
    header = {**b64json(header_b64), **changes}
    encoded = base64.urlsafe_b64encode(json.dumps(header).encode()).rstrip(b"=").decode()
    return f"{encoded}.{payload}.{sig}~{rest}"


def test_verify_accepts_an_untouched_response_and_names_each_tampering(api, http, create):
    document = create()
    stored = http.get(f"{api}/v1/dpps/{enc(document['digitalProductPassportId'])}").json()
    untouched = _verify(http, api, stored)
    assert (untouched["valid"], untouched["failedChecks"]) == (True, [])
    assert untouched["disclosed"]["document"]["nameplate"] == stored["nameplate"]

    changed_field = {**stored, "dppStatus": "Recalled"}
    assert _verify(http, api, changed_field)["failedChecks"] == ["content"]
    rehashed = {**changed_field, "contentHash": independent_hash(changed_field)}
    assert _verify(http, api, rehashed)["failedChecks"] == ["content", "contentHash"]
    jwt, rest = stored["signature"].split("~", 1)
    head, payload, sig = jwt.split(".")
    flipped = sig[:-2] + ("A" if sig[-2] != "A" else "B") + sig[-1]
    tampered = {**stored, "signature": f"{head}.{payload}.{flipped}~{rest}"}
    assert _verify(http, api, tampered)["failedChecks"] == ["signature"]
    unknown_kid = _reencode_header(stored["signature"], kid="local:someone-elses-key")
    assert _verify(http, api, {**stored, "signature": unknown_kid})["failedChecks"] == ["kid"]
    assert _verify(http, api, {**stored, "signature": "not-an-sd-jwt"})["failedChecks"] == ["signatureFormat"]
    removed = {k: v for k, v in stored.items() if k != "signature"}
    assert_result(http.post(f"{api}/v1/verify", json=removed), 400, "InvalidBody")


def test_verify_by_id_checks_the_whole_chain(api, http, auth, root, history_passport):
    dpp_id = history_passport["digitalProductPassportId"]
    assert _verify(http, api, {"dppId": dpp_id})["valid"] is True
    assert _verify(http, api, {"dppId": dpp_id, "version": 1})["valid"] is True
    store = root.store

    v2 = store.read(PASSPORTS, "v0000000002", dpp_id)
    tampered = without_system(v2)
    tampered["document"] = {**tampered["document"], "dppStatus": "Rewritten"}
    store.replace(PASSPORTS, tampered, v2["_etag"])
    assert _verify(http, api, {"dppId": dpp_id})["failedChecks"] == ["claims", "contentHash"]
    assert _verify(http, api, {"dppId": dpp_id, "version": 2})["failedChecks"] == ["claims", "contentHash"]
    # version 1 and its (empty) history are untouched, so it still verifies
    assert _verify(http, api, {"dppId": dpp_id, "version": 1})["valid"] is True
    store.replace(
        PASSPORTS,
        without_system(v2),
        store.read(PASSPORTS, "v0000000002", dpp_id)["_etag"],
    )
    assert _verify(http, api, {"dppId": dpp_id})["valid"] is True

    store.delete(PASSPORTS, store.read(PASSPORTS, "v0000000002", dpp_id), dpp_id)
    broken = _verify(http, api, {"dppId": dpp_id})
    assert broken["valid"] is False
    assert broken["failedChecks"] == ["chain", "sequence"]


def test_verify_rejects_bad_requests(api, http, create):
    assert_result(http.post(f"{api}/v1/verify", json=[1]), 400, "InvalidBody")
    assert_result(http.post(f"{api}/v1/verify", json={"foo": 1}), 400, "InvalidBody")
    document = create()
    assert_result(
        http.post(f"{api}/v1/verify", json={"dppId": document["digitalProductPassportId"], "version": 9}),
        400,
        "InvalidVersion",
    )
    assert_result(http.post(f"{api}/v1/verify", json={"dppId": "urn:unknown"}), 404, "PassportNotFound")


class _CountingSigner:
    def __init__(self, inner: Any):
        self.inner, self.calls = inner, 0

    def public_jwk(self) -> dict[str, Any]:
        return self.inner.public_jwk()

    def sign(self, data: bytes) -> tuple[str, bytes]:
        self.calls += 1
        return self.inner.sign(data)

    def trusted_jwks(self) -> list[dict[str, Any]]:
        return self.inner.trusted_jwks()


class _ThrottledSigner(_CountingSigner):
    def sign(self, data: bytes) -> tuple[str, bytes]:
        raise ServiceUnavailable("throttled", code=ErrorCode.SIGNER_THROTTLED, headers={"Retry-After": "7"})


@pytest.fixture
def swap_signer(root):
    keyring = root.keyring
    original = keyring.signer

    def swap(replacement: Any) -> Any:
        keyring.signer = replacement
        return replacement

    yield swap
    keyring.signer = original


def test_reads_never_call_the_signer(api, http, auth, create, swap_signer, root):
    root.status_lists.allocate()  # this process's block of status list indices, and its list, made
    counting = swap_signer(_CountingSigner(root.sealer.signer))
    document = create()
    assert counting.calls == 3  # the version's SD-JWT, its offline core token, its UNTP credential
    dpp_id, product_id = document["digitalProductPassportId"], document["uniqueProductIdentifier"]
    for path in (
        f"dpps/{enc(dpp_id)}",
        f"dpps/{enc(dpp_id)}?representation=full",
        f"dppsByProductId/{enc(product_id)}",
        f"dppsByIdAndDate/{enc(dpp_id)}?date=2999-01-01T00:00:00Z",
        f"dpps/{enc(dpp_id)}/history",
        f"dpps/{enc(dpp_id)}/elements/nameplate",
        f"dpps/{enc(dpp_id)}/carrier",
        f"dpps/{enc(dpp_id)}/page",
        f"dpp/{enc(product_id)}/latest?format=untp",
        "status-lists/0",
        "keys",
    ):
        assert http.get(f"{api}/v1/{path}").status_code == 200, path
    assert http.post(f"{api}/v1/verify", json={"dppId": dpp_id}).status_code == 200
    assert counting.calls == 3
    assert (
        http.patch(f"{api}/v1/dpps/{enc(dpp_id)}", json={"dppStatus": "x"}, headers=auth).status_code == 200
    )
    # One SD-JWT; neither the core token's claims nor the UNTP credential changed, so both are kept.
    assert counting.calls == 4


def test_signing_outage_is_503_and_stores_nothing(api, http, auth, create, swap_signer, root):
    existing = create()
    url = f"{api}/v1/dpps/{enc(existing['digitalProductPassportId'])}"
    before = http.get(url).text
    swap_signer(_ThrottledSigner(root.sealer.signer))
    fresh = make_passport()
    response = http.post(f"{api}/v1/dpps", json=fresh, headers=auth)
    message = assert_result(response, 503, "SignerThrottled")
    assert response.headers["Retry-After"] == "7"
    assert message["text"]
    assert_result(http.patch(url, json={"dppStatus": "x"}, headers=auth), 503, "SignerThrottled")
    swap_signer(root.sealer.signer.inner)
    assert_result(
        http.get(f"{api}/v1/dpps/{enc(fresh['digitalProductPassportId'])}"), 404, "PassportNotFound"
    )
    by_product = http.get(f"{api}/v1/dppsByProductId/{enc(fresh['uniqueProductIdentifier'])}")
    assert_result(by_product, 404, "PassportNotFound")
    # Nothing at all: the product's lookup, created before the signature was asked for, went too.
    assert root.passports.lookup(fresh["uniqueProductIdentifier"]) is None
    assert http.get(url).text == before


def test_did_web_document_lists_the_published_keys(api, http, create):
    create()
    response = http.get(f"{api}/did.json")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/did+json")
    document = response.json()
    host = api.split("//", 1)[1].split("/", 1)[0]
    assert document["id"] == "did:web:" + host.replace(":", "%3A") + ":api"
    jwks = http.get(f"{api}/v1/keys").json()
    assert [m["publicKeyJwk"] for m in document["verificationMethod"]] == jwks["keys"]
    assert document["assertionMethod"] == [m["id"] for m in document["verificationMethod"]]
    assert all(
        m["id"].startswith(document["id"] + "#") and m["controller"] == document["id"]
        for m in document["verificationMethod"]
    )


def test_key_vault_rotation_keeps_old_versions_verifiable(api, http, auth, create, swap_signer, root):
    """The API's write path signing through Key Vault (the HTTPS test double, real SDK), rotated midway."""
    from azure.keyvault.keys._shared import http_challenge_cache

    from tests.doubles.keyvault import KEY, KeyVaultDouble, make_signer

    http_challenge_cache.clear()
    root.status_lists.allocate()  # this process's block of status list indices, and its list, made
    with KeyVaultDouble() as vault:
        first_kid = vault.create_key(KEY)
        swap_signer(make_signer(vault, version_check_interval=0))
        document = create()
        dpp_id = document["digitalProductPassportId"]
        url = f"{api}/v1/dpps/{enc(dpp_id)}"
        second_kid = vault.rotate(KEY)
        assert second_kid != first_kid
        assert http.patch(url, json={"dppStatus": "Rotated"}, headers=auth).status_code == 200
        # create: SD-JWT, core token and UNTP credential; the patch: its SD-JWT
        assert vault.sign_count == 4

        # The keys come from the vault itself: both versions, and nothing the database holds.
        jwks = http.get(f"{api}/v1/keys").json()
        assert [key["kid"] for key in jwks["keys"]] == [first_kid, second_kid]
        history = http.get(f"{url}/history").json()["versions"]
        headers = []
        for record in history:
            at = http.get(f"{api}/v1/dppsByIdAndDate/{enc(dpp_id)}", params={"date": record["ts"]}).json()
            headers.append(verify_with_jwks(at["signature"], jwks)[0]["kid"])
        assert headers == [first_kid, second_kid]
        assert _verify(http, api, {"dppId": dpp_id})["valid"] is True

        # Disabling a version in the vault (a compromised key) withdraws the trust in what it signed.
        vault.disable(first_kid)
        swap_signer(make_signer(vault, version_check_interval=0))  # a fresh instance: no cached keys
        assert [key["kid"] for key in http.get(f"{api}/v1/keys").json()["keys"]] == [second_kid]
        report = _verify(http, api, {"dppId": dpp_id})
        assert report["valid"] is False
        assert report["failedChecks"] == ["kid"]


# -- tampering with what readers are served ------------------------------------------------------


def _item(root: Any, dpp_id: str, item_id: str) -> dict[str, Any]:
    found = root.store.read(PASSPORTS, item_id, dpp_id)
    assert found is not None, item_id
    return found


def _rewrite(root: Any, dpp_id: str, item_id: str, **changes: Any) -> None:
    """A database writer's edit of one stored item, behind the service's back."""
    stored = _item(root, dpp_id, item_id)
    edited = without_system(stored) | changes
    root.store.replace(PASSPORTS, edited, stored["_etag"])


def _three_versions(create: Any, http: Any, api: str, auth: dict[str, str]) -> str:
    document = create()
    url = f"{api}/v1/dpps/{enc(document['digitalProductPassportId'])}"
    for status in ("Inactive", "Active"):
        assert http.patch(url, json={"dppStatus": status}, headers=auth).status_code == 200
    return document["digitalProductPassportId"]


def test_a_key_added_to_the_database_is_not_trusted(api, http, auth, create, root):
    """A database writer stores its own key and re-signs a tampered version with it."""
    from cryptography.hazmat.primitives.asymmetric import ec

    from shared.integrity.sd_jwt import issue, version_digest
    from shared.integrity.signatures import content_hash
    from shared.integrity.signers import ec_public_jwk, jwk_thumbprint
    from shared.passports.issuance import claims

    dpp_id = _three_versions(create, http, api, auth)
    forger = ec.generate_private_key(ec.SECP256R1())
    anonymous = ec_public_jwk(forger.public_key(), "")
    forged_jwk = {**anonymous, "kid": f"local:{jwk_thumbprint(anonymous)}"}
    # The attacker's key goes into the database the service uses, next to the passport.
    raw = root.store.container(PASSPORTS)
    raw.upsert_item({"id": "forged-key", "dppId": dpp_id, "type": "signingKey", "jwk": forged_jwk})

    def forge_sign(data: bytes) -> bytes:
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

        r, s = decode_dss_signature(forger.sign(data, ec.ECDSA(hashes.SHA256())))
        return r.to_bytes(32, "big") + s.to_bytes(32, "big")

    v3 = _item(root, dpp_id, "v0000000003")
    tampered = {**v3, "document": {**v3["document"], "dppStatus": "Recalled"}}
    paths = [tuple(entry["path"]) for entry in v3["disclosures"]]
    issuer = b64json(v3["sdJwt"].split(".")[1])["iss"]
    forged = issue(claims(tampered, issuer), paths, {"kid": forged_jwk["kid"]}, forge_sign)
    for item_id in ("v0000000003", "head"):
        _rewrite(
            root,
            dpp_id,
            item_id,
            document=tampered["document"],
            contentHash=content_hash(tampered["document"]),
            sdJwt=forged.jwt,
            disclosures=[{"path": list(d.path), "disclosure": d.encoded} for d in forged.disclosures],
            versionDigest=version_digest(forged.jwt),
        )
    report = _verify(http, api, {"dppId": dpp_id})
    assert report["valid"] is False
    assert report["failedChecks"] == ["kid"]
    assert forged_jwk["kid"] not in {key["kid"] for key in http.get(f"{api}/v1/keys").json()["keys"]}
    assert _verify(http, api, http.get(f"{api}/v1/dpps/{enc(dpp_id)}").json())["failedChecks"] == ["kid"]


def test_an_edited_head_is_named(api, http, auth, create, root):
    dpp_id = _three_versions(create, http, api, auth)
    head = _item(root, dpp_id, "head")
    _rewrite(root, dpp_id, "head", document={**head["document"], "dppStatus": "Recalled"})
    report = _verify(http, api, {"dppId": dpp_id})
    assert report["failedChecks"] == ["head"]
    assert any("document" in check["detail"] for check in report["checks"] if check["check"] == "head")


def test_a_changed_owner_in_the_head_is_named(api, http, auth, create, root):
    dpp_id = _three_versions(create, http, api, auth)
    head = _item(root, dpp_id, "head")
    squatter = "did:example:operator:squatter"
    _rewrite(
        root,
        dpp_id,
        "head",
        economicOperatorId=squatter,
        document={**head["document"], "economicOperatorId": squatter},
    )
    assert _verify(http, api, {"dppId": dpp_id})["failedChecks"] == ["head"]


def test_a_changed_owner_in_a_version_is_named(api, http, auth, create, root):
    dpp_id = _three_versions(create, http, api, auth)
    _rewrite(root, dpp_id, "v0000000002", economicOperatorId="did:example:operator:squatter")
    assert _verify(http, api, {"dppId": dpp_id})["failedChecks"] == ["owner"]


def test_a_deleted_version_is_named(api, http, auth, create, root):
    dpp_id = _three_versions(create, http, api, auth)
    root.store.remove(PASSPORTS, "v0000000002", dpp_id)
    assert _verify(http, api, {"dppId": dpp_id})["failedChecks"] == ["chain", "sequence"]
    newest = _three_versions(create, http, api, auth)
    root.store.remove(PASSPORTS, "v0000000003", newest)  # the version the head copies
    assert _verify(http, api, {"dppId": newest})["failedChecks"] == ["head"]


def test_a_head_rolled_back_is_named_once_no_write_can_be_under_way(api, http, auth, create, root):
    from datetime import timedelta

    from shared.access.authentication import ANONYMOUS
    from shared.passports.history import PassportHistory
    from shared.platform.clock import utcnow

    dpp_id = _three_versions(create, http, api, auth)
    v1 = _item(root, dpp_id, "v0000000001")
    _rewrite(
        root,
        dpp_id,
        "head",
        **{k: v for k, v in v1.items() if not k.startswith("_") and k not in ("id", "type")},
    )
    # The head is version 1 as stored, so readers see a signed, valid-looking old version ...
    assert http.get(f"{api}/v1/dpps/{enc(dpp_id)}").json()["dppStatus"] == "Active"
    # ... but versions 2 and 3 exist beyond it. Right after a write that is a write under way; a
    # minute later it is a roll-back.
    assert _verify(http, api, {"dppId": dpp_id})["valid"] is True
    later = PassportHistory(
        root.passports, root.keyring, root.access, clock=lambda: utcnow() + timedelta(minutes=2)
    )
    report = later.verify({"dppId": dpp_id}, ANONYMOUS)
    assert report["failedChecks"] == ["current"]
