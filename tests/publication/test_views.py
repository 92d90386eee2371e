"""The seed API contract over real HTTP: JSON-LD views, status, revocation, version labels,
artifacts in Azurite with SAS downloads, search, and caching headers.

What is "signed" is checked with the RFC 9901 reference implementation (PyPI `sd-jwt`) and the
keys of `/v1/keys` alone: each response's `signature` is an SD-JWT presentation of what it shows."""

from __future__ import annotations

import base64
import hashlib
import json
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.support.documents import OWNER, enc, make_passport
from tests.support.presentations import jcs_hash
from tests.support.presentations import verified as verified_with
from tests.support.results import assert_result

SEED_DIR = Path(__file__).resolve().parents[2] / "local" / "seed"
SEED_PRODUCT = "urn:pierriecardin:product:pc-polo-green"
SEED_ISSUER = "did:pierriecardin:manufacturing:europe"
LD = "application/ld+json"
INTEGRITY = ("contentHash", "signature")
SERVICE_MEMBERS = {"dppLifecycle", "dppArtifacts", "dppAccessPolicy"}


def sha256_b64url(data: bytes) -> str:
    return "sha256-" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def bearer(token_value: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token_value}"}


@pytest.fixture(scope="module")
def keys(api: str, http: Any) -> dict[str, Any]:
    return http.get(f"{api}/v1/keys").json()


@pytest.fixture(scope="module")
def verified(keys: dict[str, Any]) -> Any:
    """The claims an SD-JWT presentation discloses, as the reference implementation verifies them."""

    return lambda presentation: verified_with(presentation, keys)


def document_of(body: dict[str, Any]) -> dict[str, Any]:
    """An EN 18222 read without its integrity members: the document it shows."""
    return {key: value for key, value in body.items() if key not in INTEGRITY}


def signed_lifecycle(http: Any, api: str, dpp_id: str, verified: Any) -> dict[str, Any]:
    """The passport's current lifecycle from its endpoint, checked against its presentation."""
    response = http.get(f"{api}/v1/dpps/{enc(dpp_id)}/lifecycle")
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"digitalProductPassportId", "version", "lifecycle", "labels", "signature"}
    claims = verified(body["signature"])["dpp"]
    assert (claims["id"], claims["version"]) == (dpp_id, body["version"])
    assert (claims["lifecycle"], claims["labels"]) == (body["lifecycle"], body["labels"])
    return body["lifecycle"]


@pytest.fixture(scope="module")
def seeded(root: Any, api: str) -> dict[str, Any]:
    """The PierrieCardin polo as `make run` seeds it (passport, label v1.2.0, two artifacts)."""
    from local.run import seed

    seed(root)
    return json.loads((SEED_DIR / "pierriecardin-polo.json").read_text(encoding="utf-8"))


@pytest.fixture
def authority(token) -> dict[str, str]:
    return bearer(token("authority", operator=None))


def product_passport(create, **overrides: Any) -> dict[str, Any]:
    suffix = uuid.uuid4().hex[:10]
    document = make_passport(uniqueProductIdentifier=f"urn:acme:product:p-{suffix}", **overrides)
    return create(document)


def view_url(api: str, product_id: str, label: str, tail: str = "") -> str:
    return f"{api}/v1/dpp/{enc(product_id)}/{enc(label)}{tail}"


def result_code(response: Any) -> str:
    """The code of an error answer, once it is checked to be a whole Result object."""
    return assert_result(response, response.status_code)["code"]


# -- the seed's example responses, in shape --------------------------------------------------------


def test_seed_full_view_has_the_seed_fields_with_the_seed_names(api, http, seeded, authority, verified):
    response = http.get(view_url(api, SEED_PRODUCT, "v1.2.0"), headers={**authority, "Accept": LD})
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith(LD)
    body = response.json()
    seed_example_fields = {
        "type",
        "subject",
        "issuer",
        "issuedAt",
        "status",
        "lifecycle",
        "contentHash",
        "signature",
        "compositionInline",
        "compositionByRef",
        "supplychainByRef",
        "certificationInline",
        "sustainabilityInline",
    }
    assert seed_example_fields <= set(body)
    assert body["type"] == "dpp:Passport"
    assert body["subject"] == "urn:pierriecardin:product:pc-polo-green:v1.2.0"
    assert body["issuer"] == SEED_ISSUER
    assert body["status"] == "Valid"
    assert body["compositionInline"] == seeded["composition"]
    assert body["certificationInline"] == seeded["certification"]
    assert body["sustainabilityInline"] == seeded["sustainability"]
    assert set(body["compositionByRef"]) == {"uri", "hash", "mediaType", "size"}
    assert body["compositionByRef"]["mediaType"] == "application/json"
    assert body["supplychainByRef"]["mediaType"] == "text/turtle"
    assert body["supplychainByRef"]["size"] == len((SEED_DIR / "artifacts" / "supplychain.ttl").read_bytes())
    assert body["lifecycle"]["versionLabel"] == "v1.2.0"
    # the hash is that of the signed EN 18222 document, and the signature presents the same issued
    # version: its document, and the lifecycle and references the view shows beside it
    dpp_id = seeded["digitalProductPassportId"]
    document = http.get(f"{api}/v1/dpps/{enc(dpp_id)}", headers=authority).json()
    assert not SERVICE_MEMBERS & set(document)
    assert body["contentHash"] == document["contentHash"] == jcs_hash(document_of(document))
    assert body["signature"].split("~")[0] == document["signature"].split("~")[0]
    claims = verified(body["signature"])
    assert claims["document"] == document_of(document)
    assert claims["dpp"]["lifecycle"] == body["lifecycle"] == signed_lifecycle(http, api, dpp_id, verified)
    assert claims["dpp"]["artifacts"] == {
        "composition": body["compositionByRef"],
        "supplychain": body["supplychainByRef"],
    }
    assert verified(document["signature"])["document"] == document_of(document)
    assert body["disclosure"]["signedDocument"].endswith(
        f"/v1/dpps/{enc(seeded['digitalProductPassportId'])}"
    )


def test_seed_lite_view_is_public_and_inline_only(api, http, seeded):
    response = http.get(view_url(api, SEED_PRODUCT, "v1.2.0") + "?lite=true")
    assert response.status_code == 200
    body = response.json()
    assert not [key for key in body if key.endswith("ByRef")]
    assert body["compositionInline"] == seeded["composition"]
    assert body["disclosure"] == {**body["disclosure"], "view": "lite", "complete": False}
    assert response.headers["Cache-Control"] == "public, max-age=300"
    assert response.headers["Vary"] == "Authorization, Accept"


def test_seed_status_and_artifact_and_search(api, http, seeded, verified, derived):
    status = http.get(view_url(api, SEED_PRODUCT, "v1.2.0", "/status")).json()
    assert status == {
        "@context": status["@context"],
        "signature": status["signature"],
        "subject": "urn:pierriecardin:product:pc-polo-green:v1.2.0",
        "status": "Valid",
        "validFrom": "2025-01-01T00:00:00.000Z",
        "validTo": "2026-12-31T23:59:59.000Z",
        "supersededBy": None,
        "supersededByVersion": None,
        "revokedAt": None,
        "revocationReason": None,
    }
    # the status is what the label's version signs (it is the current one: no currentSignature)
    signed = verified(status["signature"])["dpp"]
    assert signed["id"] == seeded["digitalProductPassportId"]
    assert signed["lifecycle"]["versionLabel"] == "v1.2.0"
    assert (
        signed["lifecycle"]["status"],
        signed["lifecycle"]["validFrom"],
        signed["lifecycle"]["validTo"],
    ) == (
        status["status"],
        status["validFrom"],
        status["validTo"],
    )
    artifact = http.get(view_url(api, SEED_PRODUCT, "v1.2.0", "/artifact/composition")).json()
    assert {"uri", "hash", "mediaType", "size", "downloadUrl", "signature"} <= set(artifact)
    # the presentation discloses this reference and no other
    assert verified(artifact["signature"])["dpp"]["artifacts"] == {
        "composition": {key: artifact[key] for key in ("uri", "hash", "mediaType", "size")}
    }
    downloaded = http.get(artifact["downloadUrl"])
    assert downloaded.status_code == 200
    expected = (SEED_DIR / "artifacts" / "composition.json").read_bytes()
    assert downloaded.content == expected
    assert artifact["hash"] == sha256_b64url(downloaded.content)
    assert artifact["size"] == len(expected)
    derived()  # search follows the change feed; the seed may have been written a moment ago
    found = http.get(
        f"{api}/v1/dpp/search", params={"issuer": SEED_ISSUER, "status": "Valid", "keyword": "polo"}
    )
    assert found.status_code == 200
    previews = {item["subject"]: item for item in found.json()}
    preview = previews["urn:pierriecardin:product:pc-polo-green:v1.2.0"]
    assert {"subject", "issuer", "status", "issuedAt", "litePreview", "contentHash", "signature"} <= set(
        preview
    )
    assert preview["litePreview"]["compositionInline"]["materials"] == seeded["composition"]["materials"]
    assert preview["litePreview"]["certificationInline"]["labels"] == seeded["certification"]["labels"]
    disclosed = verified(preview["signature"])["document"]
    inline = {key.removesuffix("Inline"): value for key, value in preview["litePreview"].items()}
    assert inline == {key: value for key, value in disclosed.items() if isinstance(value, dict)}
    assert preview["contentHash"] == jcs_hash(disclosed)


def test_context_is_served_and_named_by_every_view(api, http, seeded):
    view = http.get(view_url(api, SEED_PRODUCT, "latest") + "?lite=true").json()
    context = http.get(view["@context"])
    assert context.status_code == 200
    assert context.headers["Content-Type"].startswith(LD)
    terms = context.json()["@context"]
    for term in ("type", "subject", "issuer", "issuedAt", "status", "contentHash", "signature"):
        assert term in terms
    status = http.get(view_url(api, SEED_PRODUCT, "latest", "/status")).json()
    assert status["@context"] == view["@context"]


# -- access to the full view -----------------------------------------------------------------------


def test_full_view_needs_a_reading_role(api, http, seeded, token):
    url = view_url(api, SEED_PRODUCT, "v1.2.0")
    anonymous = http.get(url)
    assert anonymous.status_code == 401
    assert result_code(anonymous) == "AuthenticationRequired"
    assert anonymous.headers["WWW-Authenticate"].startswith("Bearer")
    no_role = http.get(url, headers=bearer(token([], operator=None)))
    assert no_role.status_code == 403
    assert result_code(no_role) == "RoleRequired"
    for role in ("authority", "recycler", "repairer"):
        assert http.get(url, headers=bearer(token(role, operator=None))).status_code == 200
    bad_lite = http.get(url + "?lite=maybe")
    assert bad_lite.status_code == 400
    assert result_code(bad_lite) == "InvalidParameter"


def test_full_view_caching_is_private_and_304_on_match(api, http, seeded, authority):
    url = view_url(api, SEED_PRODUCT, "v1.2.0")
    first = http.get(url, headers=authority)
    assert first.headers["Cache-Control"] == "private, no-store"
    assert first.headers["Vary"] == "Authorization, Accept"
    again = http.get(url, headers={**authority, "If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304
    lite = http.get(url + "?lite=true")
    assert lite.headers["ETag"] != first.headers["ETag"]
    assert http.get(url + "?lite=true", headers={"If-None-Match": lite.headers["ETag"]}).status_code == 304


def test_unknown_product_or_label_is_404_and_malformed_label_400(api, http, seeded):
    missing = http.get(view_url(api, "urn:nobody:product:none", "v1") + "?lite=true")
    assert missing.status_code == 404
    assert result_code(missing) == "PassportNotFound"
    assert_result(http.get(view_url(api, SEED_PRODUCT, "v9.9.9", "/status")), 404, "PassportNotFound")
    malformed = http.get(view_url(api, SEED_PRODUCT, "v1 2", "/status"))
    assert malformed.status_code == 400
    assert result_code(malformed) == "InvalidVersionLabel"


# -- version labels, supersession, validity -----------------------------------------------------------


def test_publishing_a_label_supersedes_the_previous_one(api, http, auth, create, verified):
    document = product_passport(create, dppLifecycle={"versionLabel": "v1.0.0"})
    product, dpp_id = document["uniqueProductIdentifier"], document["digitalProductPassportId"]
    published = http.post(
        f"{api}/v1/dpps/{enc(dpp_id)}/publish",
        json={"versionLabel": "v1.1.0", "validTo": "2030-01-01T00:00:00Z"},
        headers=auth,
    )
    assert published.status_code == 200, published.text
    assert not SERVICE_MEMBERS & set(published.json())
    lifecycle = signed_lifecycle(http, api, dpp_id, verified)
    # the publication is a signed version of its own, and its response presents it
    assert verified(published.json()["signature"])["dpp"]["lifecycle"] == lifecycle
    assert lifecycle["versionLabel"] == "v1.1.0"
    assert lifecycle["supersedes"] == "v1.0.0"
    assert lifecycle["validTo"] == "2030-01-01T00:00:00.000Z"
    old = http.get(view_url(api, product, "v1.0.0", "/status")).json()
    assert old["status"] == "Superseded"
    assert (old["supersededBy"], old["supersededByVersion"]) == (f"{product}:v1.1.0", "v1.1.0")
    new = http.get(view_url(api, product, "v1.1.0", "/status")).json()
    assert (new["status"], new["supersededBy"], new["validTo"]) == ("Valid", None, "2030-01-01T00:00:00.000Z")
    assert http.get(view_url(api, product, "latest", "/status")).json()["subject"] == f"{product}:v1.1.0"
    old_view = http.get(view_url(api, product, "v1.0.0") + "?lite=true").json()
    assert old_view["status"] == "Superseded"
    assert old_view["lifecycle"]["versionLabel"] == "v1.0.0"
    # the old label's view is the last version it had, and says where its signed document is
    signed = urlsplit(old_view["disclosure"]["signedDocument"])
    assert signed.path.endswith(f"/v1/dppsByIdAndDate/{enc(dpp_id)}")
    at_date = http.get(old_view["disclosure"]["signedDocument"]).json()
    assert at_date["contentHash"] == old_view["contentHash"]
    assert not SERVICE_MEMBERS & set(at_date)
    signed_at_date = verified(at_date["signature"])
    assert signed_at_date["document"] == document_of(at_date)
    assert signed_at_date["dpp"]["lifecycle"] == old_view["lifecycle"]
    # a used label cannot come back; the current one cannot be published again
    for label in ("v1.0.0", "v1.1.0"):
        reuse = http.post(f"{api}/v1/dpps/{enc(dpp_id)}/publish", json={"versionLabel": label}, headers=auth)
        assert reuse.status_code == 409
        assert result_code(reuse) == "VersionLabelUsed"


def test_label_can_also_change_through_update_dpp_and_corrections_keep_it(api, http, auth, create, verified):
    document = product_passport(create)
    product, dpp_id = document["uniqueProductIdentifier"], document["digitalProductPassportId"]
    url = f"{api}/v1/dpps/{enc(dpp_id)}"
    corrected = http.patch(url, json={"nameplate": {"ManufacturerName": "ACME Corp"}}, headers=auth)
    assert corrected.status_code == 200, corrected.text
    assert signed_lifecycle(http, api, dpp_id, verified)["versionLabel"] == "v1"
    relabelled = http.patch(url, json={"dppLifecycle": {"versionLabel": "2026.1"}}, headers=auth)
    assert relabelled.status_code == 200, relabelled.text
    assert not SERVICE_MEMBERS & set(relabelled.json())
    lifecycle = signed_lifecycle(http, api, dpp_id, verified)
    assert (lifecycle["versionLabel"], lifecycle["supersedes"]) == ("2026.1", "v1")
    v1 = http.get(view_url(api, product, "v1") + "?lite=true").json()
    assert v1["nameplateInline"]["ManufacturerName"] == "ACME Corp"  # the last version under v1
    assert v1["status"] == "Superseded"


@pytest.mark.parametrize(
    ("patch", "status", "code"),
    [
        ({"dppLifecycle": {"status": "Revoked"}}, 409, "ServerManagedField"),
        ({"dppLifecycle": {"supersedes": "v0"}}, 409, "ServerManagedField"),
        ({"dppLifecycle": {"versionLabel": "latest"}}, 400, "InvalidVersionLabel"),
        ({"dppLifecycle": {"versionLabel": "a/b"}}, 400, "InvalidVersionLabel"),
        ({"dppLifecycle": {"validTo": "2000-01-01T00:00:00Z"}}, 400, "InvalidLifecycle"),
        ({"dppLifecycle": {"validFrom": "yesterday"}}, 400, "InvalidTimestamp"),
        ({"dppLifecycle": {"colour": "green"}}, 400, "InvalidLifecycle"),
        (
            {"dppArtifacts": {"repair": {"uri": "/x", "hash": "sha256-x", "mediaType": "a/b", "size": 1}}},
            409,
            "ServerManagedField",
        ),
    ],
)
def test_server_managed_lifecycle_and_artifacts_refuse_client_changes(
    api, http, auth, create, patch, status, code
):
    document = create()
    url = f"{api}/v1/dpps/{enc(document['digitalProductPassportId'])}"
    before = http.get(url).json()
    response = http.patch(url, json=patch, headers=auth)
    assert response.status_code == status, response.text
    assert result_code(response) == code
    assert http.get(url).json() == before


def test_create_refuses_server_members(api, http, auth):
    for extra, code in (
        ({"dppArtifacts": {}}, "ServerManagedField"),
        ({"dppLifecycle": {"status": "Revoked"}}, "ServerManagedField"),
        ({"dppLifecycle": {"versionLabel": ""}}, "InvalidVersionLabel"),
    ):
        document = make_passport(**extra)
        response = http.post(f"{api}/v1/dpps", json=document, headers=auth)
        assert response.status_code == 400, response.text
        assert result_code(response) == code
        assert_result(
            http.get(f"{api}/v1/dpps/{enc(document['digitalProductPassportId'])}"), 404, "PassportNotFound"
        )


def test_echoing_the_stored_document_back_is_accepted(api, http, auth, create, verified):
    document = create()
    dpp_id = document["digitalProductPassportId"]
    url = f"{api}/v1/dpps/{enc(dpp_id)}"
    stored = http.get(url).json()
    assert set(INTEGRITY) <= set(stored)
    lifecycle = signed_lifecycle(http, api, dpp_id, verified)
    # a GET body, integrity members included, goes back as a correction: they are dropped on write
    echoed = http.patch(url, json={**stored, "nameplate": {"ManufacturerName": "Echo"}}, headers=auth)
    assert echoed.status_code == 200, echoed.text
    body = echoed.json()
    assert body["nameplate"] == {**stored["nameplate"], "ManufacturerName": "Echo"}
    assert body["contentHash"] != stored["contentHash"]
    assert body["contentHash"] == jcs_hash(document_of(body))
    signed = verified(body["signature"])
    assert signed["document"] == document_of(body)
    assert not set(INTEGRITY) & set(signed["document"])
    assert signed_lifecycle(http, api, dpp_id, verified) == lifecycle
    # so does the lifecycle as its endpoint returns it, server members unchanged
    again = http.patch(url, json={**body, "dppLifecycle": lifecycle, "nameplate": {}}, headers=auth)
    assert again.status_code == 200, again.text
    assert verified(again.json()["signature"])["document"] == document_of(again.json())
    assert signed_lifecycle(http, api, dpp_id, verified) == lifecycle


# -- revocation ---------------------------------------------------------------------------------------


def test_revocation_is_signed_final_and_410_on_the_passport_view(api, http, auth, create, token, verified):
    document = product_passport(create)
    product, dpp_id = document["uniqueProductIdentifier"], document["digitalProductPassportId"]
    revoke = f"{api}/v1/dpps/{enc(dpp_id)}/revoke"
    assert_result(http.post(revoke, json={"reason": "x"}), 401, "AuthenticationRequired")
    other = bearer(token("operator", operator="did:example:operator:other"))
    assert_result(http.post(revoke, json={"reason": "x"}, headers=other), 403, "NotPassportOwner")
    missing_reason = http.post(revoke, json={}, headers=auth)
    assert missing_reason.status_code == 400
    assert result_code(missing_reason) == "InvalidRevocation"
    stale = http.post(revoke, json={"reason": "x"}, headers={**auth, "If-Match": '"not-current"'})
    assert_result(stale, 412, "PreconditionFailed")
    assert http.get(view_url(api, product, "v1", "/status")).json()["status"] == "Valid"

    done = http.post(revoke, json={"reason": "Safety recall 2026-17"}, headers=auth)
    assert done.status_code == 200, done.text
    revoked = done.json()
    assert revoked["dppStatus"] == "Revoked"
    assert not SERVICE_MEMBERS & set(revoked)
    lifecycle = signed_lifecycle(http, api, dpp_id, verified)
    assert lifecycle["status"] == "Revoked"
    assert lifecycle["revocationReason"] == "Safety recall 2026-17"
    # the response presents the revoking version itself
    signed = verified(revoked["signature"])
    assert signed["document"] == document_of(revoked)
    assert (signed["dpp"]["operation"], signed["dpp"]["lifecycle"]) == ("revoke", lifecycle)

    gone = http.get(view_url(api, product, "v1") + "?lite=true")
    assert gone.status_code == 410
    assert result_code(gone) == "PassportRevoked"
    status = http.get(view_url(api, product, "v1", "/status")).json()
    assert status["status"] == "Revoked"
    assert status["revokedAt"] == lifecycle["revokedAt"]
    assert status["revocationReason"] == "Safety recall 2026-17"
    # EN 18222 reads still answer (the archive), and the revocation is in the signed history
    assert http.get(f"{api}/v1/dpps/{enc(dpp_id)}").status_code == 200
    history = http.get(f"{api}/v1/dpps/{enc(dpp_id)}/history").json()["versions"]
    assert [entry["operation"] for entry in history] == ["create", "revoke"]
    verified = http.post(f"{api}/v1/verify", json={"dppId": dpp_id}).json()
    assert verified["valid"] is True
    # final: no more changes, no second revocation
    patch = http.patch(f"{api}/v1/dpps/{enc(dpp_id)}", json={"nameplate": {}}, headers=auth)
    assert (patch.status_code, result_code(patch)) == (409, "PassportRevoked")
    again = http.post(revoke, json={"reason": "again"}, headers=auth)
    assert (again.status_code, result_code(again)) == (409, "PassportRevoked")


def test_deleted_passport_is_gone_on_the_view_and_status_still_answers(api, http, auth, create):
    document = product_passport(create)
    product, dpp_id = document["uniqueProductIdentifier"], document["digitalProductPassportId"]
    assert http.delete(f"{api}/v1/dpps/{enc(dpp_id)}", headers=auth).status_code == 204
    gone = http.get(view_url(api, product, "latest") + "?lite=true")
    assert (gone.status_code, result_code(gone)) == (410, "PassportGone")
    artifact = http.get(view_url(api, product, "v1", "/artifact/composition"))
    assert_result(artifact, 410, "PassportGone")
    status = http.get(view_url(api, product, "v1", "/status"))
    assert status.status_code == 200
    assert status.json()["status"] == "Revoked"
    assert status.json()["revokedAt"] is not None


# -- artifacts ----------------------------------------------------------------------------------------


def upload(
    http, api, dpp_id: str, artifact_type: str, data: bytes, headers: dict[str, str], media="application/json"
):
    return http.put(
        f"{api}/v1/dpps/{enc(dpp_id)}/artifacts/{artifact_type}",
        data=data,
        headers={**headers, "Content-Type": media},
    )


def test_artifact_upload_is_signed_into_a_new_version_and_downloads_exactly(
    api, http, auth, create, verified
):
    document = product_passport(create)
    product, dpp_id = document["uniqueProductIdentifier"], document["digitalProductPassportId"]
    data = json.dumps({"materials": [{"name": "Cotton", "share": 1}], "nonce": uuid.uuid4().hex}).encode()
    response = upload(http, api, dpp_id, "composition", data, auth)
    assert response.status_code == 201, response.text
    reference = response.json()
    assert reference == {
        "uri": reference["uri"],
        "hash": sha256_b64url(data),
        "mediaType": "application/json",
        "size": len(data),
    }
    assert response.headers["Location"] == view_url(api, product, "v1", "/artifact/composition")
    stored = http.get(f"{api}/v1/dpps/{enc(dpp_id)}").json()
    assert not SERVICE_MEMBERS & set(stored)
    assert response.headers["ETag"] == http.get(f"{api}/v1/dpps/{enc(dpp_id)}").headers["ETag"]
    history = http.get(f"{api}/v1/dpps/{enc(dpp_id)}/history").json()["versions"]
    assert history[-1]["operation"] == "putArtifact"
    listed = http.get(f"{api}/v1/dpps/{enc(dpp_id)}/artifacts")
    assert listed.status_code == 200, listed.text
    assert listed.json() == {
        "digitalProductPassportId": dpp_id,
        "artifacts": {"composition": reference},
        "signature": listed.json()["signature"],
    }
    # the reference is signed into the new version, the one the history names last
    signed = verified(listed.json()["signature"])["dpp"]
    assert signed["artifacts"] == {"composition": reference}
    assert (signed["version"], signed["operation"]) == (history[-1]["version"], "putArtifact")
    assert verified(stored["signature"])["dpp"]["version"] == history[-1]["version"]
    assert http.post(f"{api}/v1/verify", json=stored).json()["valid"] is True
    meta = http.get(response.headers["Location"]).json()
    assert {key: meta[key] for key in reference} == reference
    assert verified(meta["signature"])["dpp"]["artifacts"] == {"composition": reference}
    sas = parse_qs(urlsplit(meta["downloadUrl"]).query)
    assert sas["sp"] == ["r"]
    downloaded = http.get(meta["downloadUrl"])
    assert downloaded.content == data
    assert sha256_b64url(downloaded.content) == meta["hash"]
    # read-only: the link cannot overwrite the bytes
    overwrite = http.put(meta["downloadUrl"], data=b"tampered", headers={"x-ms-blob-type": "BlockBlob"})
    assert (overwrite.status_code, overwrite.headers.get("x-ms-error-code")) == (
        403,
        "AuthorizationPermissionMismatch",
    )
    assert http.get(meta["downloadUrl"]).content == data


def test_artifacts_are_immutable_older_labels_keep_theirs(api, http, auth, create):
    document = product_passport(create)
    product, dpp_id = document["uniqueProductIdentifier"], document["digitalProductPassportId"]
    first, second = b'{"edition": 1}', b'{"edition": 2}'
    assert upload(http, api, dpp_id, "repair", first, auth).status_code == 201
    assert http.post(f"{api}/v1/dpps/{enc(dpp_id)}/publish", json={"versionLabel": "v2"}, headers=auth).ok
    assert upload(http, api, dpp_id, "repair", second, auth).status_code == 201
    old = http.get(view_url(api, product, "v1", "/artifact/repair"), headers=auth).json()
    new = http.get(view_url(api, product, "v2", "/artifact/repair"), headers=auth).json()
    assert old["uri"] != new["uri"]
    assert http.get(old["downloadUrl"]).content == first
    assert http.get(new["downloadUrl"]).content == second


def test_artifact_errors(api, http, auth, create, token):
    document = product_passport(create)
    product, dpp_id = document["uniqueProductIdentifier"], document["digitalProductPassportId"]
    cases = [
        (upload(http, api, dpp_id, "composition", b"{}", {}), 401, "AuthenticationRequired"),
        (upload(http, api, dpp_id, "composition", b"{}", bearer(token("authority"))), 403, "RoleRequired"),
        (
            upload(
                http, api, dpp_id, "composition", b"{}", bearer(token("operator", operator="did:x:other"))
            ),
            403,
            "NotPassportOwner",
        ),
        (upload(http, api, dpp_id, "brochure", b"{}", auth), 400, "InvalidArtifactType"),
        (upload(http, api, dpp_id, "composition", b"", auth), 400, "EmptyArtifact"),
        (upload(http, api, dpp_id, "composition", b"{}", auth, media="not a type"), 415, "InvalidMediaType"),
        (upload(http, api, "urn:nobody:dpp:none", "composition", b"{}", auth), 404, "PassportNotFound"),
        (
            upload(http, api, dpp_id, "composition", b"{}", {**auth, "If-Match": '"stale"'}),
            412,
            "PreconditionFailed",
        ),
    ]
    for response, status, code in cases:
        assert response.status_code == status, response.text
        assert result_code(response) == code
    assert "dppArtifacts" not in http.get(f"{api}/v1/dpps/{enc(dpp_id)}").json()
    none_stored = http.get(view_url(api, product, "v1", "/artifact/repair"))
    assert (none_stored.status_code, result_code(none_stored)) == (404, "ArtifactNotFound")
    unknown = http.get(view_url(api, product, "v1", "/artifact/brochure"))
    assert (unknown.status_code, result_code(unknown)) == (400, "InvalidArtifactType")


def test_artifact_over_the_limit_is_413_and_stores_nothing(api, http, auth, create, root):
    document = create()
    dpp_id = document["digitalProductPassportId"]
    too_big = b"x" * (root.settings.max_artifact_bytes + 1)
    response = upload(http, api, dpp_id, "manufacture", too_big, auth, media="application/octet-stream")
    assert response.status_code == 413
    assert result_code(response) == "BodyTooLarge"
    assert "DPP_MAX_ARTIFACT_BYTES" in response.json()["messages"][0]["text"]
    assert http.get(f"{api}/v1/dpps/{enc(dpp_id)}/history").json()["versions"][-1]["operation"] == "create"


def test_restricted_artifact_needs_a_role_that_reads_its_section(api, http, auth, create, token):
    document = product_passport(create)
    product, dpp_id = document["uniqueProductIdentifier"], document["digitalProductPassportId"]
    assert (
        upload(http, api, dpp_id, "supplychain", b"<a> <b> <c> .", auth, media="text/turtle").status_code
        == 201
    )
    url = view_url(api, product, "v1", "/artifact/supplychain")
    assert_result(http.get(url), 401, "ElementRestricted")
    assert_result(http.get(url, headers=bearer(token("repairer", operator=None))), 403, "ElementRestricted")
    assert http.get(url, headers=bearer(token("recycler", operator=None))).status_code == 200
    assert http.get(url, headers=auth).status_code == 200


# -- search -------------------------------------------------------------------------------------------


def test_search_pages_through_every_match_once(api, http, create, derived):
    word = f"zq{uuid.uuid4().hex[:8]}"
    made = {
        product_passport(create, nameplate={"ManufacturerName": f"Maker {word}", "Index": str(i)})[
            "uniqueProductIdentifier"
        ]
        for i in range(5)
    }
    derived()
    seen: list[str] = []
    url: str | None = f"{api}/v1/dpp/search?keyword={word}&limit=2"
    pages = 0
    while url:
        response = http.get(url)
        assert response.status_code == 200, response.text
        assert len(response.json()) <= 2
        seen.extend(item["subject"] for item in response.json())
        link = response.headers.get("Link")
        url = link[1 : link.index(">")] if link else None
        pages += 1
    assert pages >= 3
    assert sorted(seen) == sorted(f"{product}:v1" for product in made)


def test_search_filters_and_follows_changes(api, http, auth, create, derived):
    word = f"zr{uuid.uuid4().hex[:8]}"
    document = product_passport(create, nameplate={"ProductName": f"Shirt {word} Green"})
    dpp_id, product = document["digitalProductPassportId"], document["uniqueProductIdentifier"]

    def subjects(**params: str) -> list[str]:
        response = http.get(f"{api}/v1/dpp/search", params=params)
        assert response.status_code == 200, response.text
        return [item["subject"] for item in response.json()]

    mine = f"{product}:v1"
    derived()
    assert subjects(keyword=word) == [mine]
    assert subjects(keyword=f"{word} GREEN") == [mine]  # every word must match, case-insensitively
    assert subjects(keyword=f"{word} blue") == []
    assert subjects(keyword=word, issuer=OWNER) == [mine]
    assert subjects(keyword=word, issuer="did:example:someone-else") == []
    assert subjects(keyword=word, status="Revoked") == []
    http.patch(f"{api}/v1/dpps/{enc(dpp_id)}", json={"nameplate": {"ProductName": "Shirt"}}, headers=auth)
    derived()
    assert subjects(keyword=word) == []
    http.patch(
        f"{api}/v1/dpps/{enc(dpp_id)}", json={"nameplate": {"ProductName": f"Shirt {word}"}}, headers=auth
    )
    derived()
    assert subjects(keyword=word) == [mine]
    http.post(f"{api}/v1/dpps/{enc(dpp_id)}/revoke", json={"reason": "test"}, headers=auth)
    derived()
    assert subjects(keyword=word, status="Valid") == []
    assert subjects(keyword=word, status="Revoked") == [mine]
    http.delete(f"{api}/v1/dpps/{enc(dpp_id)}", headers=auth)
    derived()
    assert subjects(keyword=word) == []


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ("", "MissingSearchTerm"),
        ("status=Valid", "MissingSearchTerm"),
        ("keyword=%2B%2B%2B", "InvalidKeyword"),
        ("keyword=polo&status=Expired", "InvalidStatus"),
        ("keyword=polo&limit=0", "InvalidLimit"),
        ("keyword=polo&limit=abc", "InvalidLimit"),
        ("keyword=polo&cursor=garbage", "InvalidCursor"),
    ],
)
def test_search_rejects_bad_parameters(api, http, query, code):
    response = http.get(f"{api}/v1/dpp/search?{query}")
    assert response.status_code == 400
    assert result_code(response) == code


def test_search_cursor_is_bound_to_its_query(api, http, create, derived):
    word = f"zc{uuid.uuid4().hex[:8]}"
    for _ in range(3):
        product_passport(create, nameplate={"ManufacturerName": word})
    derived()
    first = http.get(f"{api}/v1/dpp/search?keyword={word}&limit=1")
    link = first.headers["Link"]
    cursor = parse_qs(urlsplit(link[1 : link.index(">")]).query)["cursor"][0]
    other = http.get(f"{api}/v1/dpp/search", params={"keyword": "polo", "limit": "1", "cursor": cursor})
    assert other.status_code == 400
    assert result_code(other) == "InvalidCursor"


@pytest.mark.parametrize(
    "policy",
    [
        {"sections": {"nameplate": ["everyone"]}},
        {"sections": {"nameplate": []}},
        {"elements": {"$.nameplate.Materials[0]": ["authority"]}},
        {"default": "public"},
        "public",
    ],
)
def test_a_passports_own_access_policy_is_validated_on_write(api, http, auth, create, policy):
    document = make_passport(dppAccessPolicy=policy) if isinstance(policy, dict) else None
    if document is not None:
        refused = http.post(f"{api}/v1/dpps", json=document, headers=auth)
        assert refused.status_code == 400, refused.text
        assert result_code(refused) == "InvalidAccessPolicy"
        assert_result(
            http.get(f"{api}/v1/dpps/{enc(document['digitalProductPassportId'])}"), 404, "PassportNotFound"
        )
    existing = create()
    url = f"{api}/v1/dpps/{enc(existing['digitalProductPassportId'])}"
    patched = http.patch(url, json={"dppAccessPolicy": policy}, headers=auth)
    assert_result(patched, 400, "InvalidAccessPolicy")
    assert "dppAccessPolicy" not in http.get(url, headers=auth).json()


def test_publish_and_artifact_refusals(api, http, auth, create, token):
    document = product_passport(create)
    dpp_id = document["digitalProductPassportId"]
    publish = f"{api}/v1/dpps/{enc(dpp_id)}/publish"
    for body, status, code in (
        ({}, 400, "InvalidPublication"),
        ({"versionLabel": "v2", "status": "Valid"}, 400, "InvalidPublication"),
        ({"versionLabel": "v2", "validTo": "soon"}, 400, "InvalidTimestamp"),
        ({"versionLabel": "v 2"}, 400, "InvalidVersionLabel"),
    ):
        response = http.post(publish, json=body, headers=auth)
        assert (response.status_code, result_code(response)) == (status, code), body
    assert_result(http.post(publish, json={"versionLabel": "v2"}), 401, "AuthenticationRequired")
    other = bearer(token("operator", operator="did:example:operator:other"))
    assert_result(http.post(publish, json={"versionLabel": "v2"}, headers=other), 403, "NotPassportOwner")
    assert http.get(f"{api}/v1/dpps/{enc(dpp_id)}/history").json()["versions"][-1]["operation"] == "create"
    http.post(f"{api}/v1/dpps/{enc(dpp_id)}/revoke", json={"reason": "withdrawn"}, headers=auth)
    late = upload(http, api, dpp_id, "repair", b"{}", auth)
    assert (late.status_code, result_code(late)) == (409, "PassportRevoked")
    late_label = http.post(publish, json={"versionLabel": "v3"}, headers=auth)
    assert (late_label.status_code, result_code(late_label)) == (409, "PassportRevoked")


def test_gs1_identified_passports_keep_their_digital_link_as_subject_and_name_the_canonical_one(
    api, http, auth, root
):
    from tests.support.documents import gtin14, make_passport

    gtin = gtin14("09506" + str(uuid.uuid4().int)[:8])
    product = f"https://id.gs1.org/01/{gtin}/21/SN-1?17=261231"
    document = make_passport(uniqueProductIdentifier=product, dppLifecycle={"versionLabel": "v1"})
    assert http.post(f"{api}/v1/dpps", json=document, headers=auth).status_code == 201
    url = f"{api}/v1/dpp/{enc(product)}/latest"
    view = http.get(url, params={"lite": "true"}).json()
    canonical = f"{root.settings.public_url}/01/{gtin}/21/SN-1?17=261231"
    assert (view["subject"], view["digitalLink"]) == (product, canonical)
    assert http.get(f"{api}/v1/dpp/{enc(product)}/v1/status").json()["digitalLink"] == canonical
    bad = make_passport(
        uniqueProductIdentifier=f"https://id.gs1.org/01/{gtin[:-1]}{(int(gtin[-1]) + 1) % 10}"
    )
    refused = http.post(f"{api}/v1/dpps", json=bad, headers=auth)
    assert_result(refused, 400, "InvalidProductIdentifier")


def test_a_view_whose_sections_were_changed_fails_verification(api, http, create):
    document = create()
    view = http.get(view_url(api, document["uniqueProductIdentifier"], "latest") + "?lite=true").json()
    assert http.post(f"{api}/v1/verify", json=view).json()["valid"] is True
    tampered = {**view, "nameplateInline": {**view["nameplateInline"], "ManufacturerName": "Someone else"}}
    report = http.post(f"{api}/v1/verify", json=tampered).json()
    assert (report["valid"], report["failedChecks"]) == (False, ["content"])
    dropped = {name: value for name, value in view.items() if name != "nameplateInline"}
    dropped["otherInline"] = {"x": 1}
    assert http.post(f"{api}/v1/verify", json=dropped).json()["failedChecks"] == ["content"]
