"""The UNTP Digital Product Passport credential (vc+jwt) and its Bitstring Status List.

Checked with outside tools only: the vendored UNTP 0.7.0 JSON Schema (test data, GPL-3.0:
tests/fixtures/untp/README.md) through `jsonschema`, the signatures through `jwcrypto` with the key
the issuer's did:web document names (and /api/v1/keys lists), and the status list decoded here
with gzip and base64, never with the service's own verification or decoding code.
"""

from __future__ import annotations

import base64
import gzip
import json
import threading
import uuid
from datetime import datetime
from typing import Any
from urllib.parse import unquote

import pytest
from jsonschema import Draft202012Validator
from jwcrypto import jwk, jws

from shared.access.authentication import Principal
from shared.access.roles import OPERATOR
from tests.support.documents import FIXTURES, OWNER, enc, gtin14, make_passport
from tests.support.results import assert_result

SCHEMA = json.loads((FIXTURES / "untp" / "DigitalProductPassport-0.7.0.json").read_text(encoding="utf-8"))
VC_JWT = "application/vc+jwt"
OWNER_PRINCIPAL = Principal("tester", frozenset({OPERATOR}), OWNER)


def _segment(token: str, index: int) -> Any:
    part = token.split(".")[index]
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


def did_document_url(did: str) -> str:
    """did:web resolution (the method's rules, written out here: http for the local host)."""
    host, *path = did.removeprefix("did:web:").split(":")
    return f"http://{unquote(host)}/{'/'.join(path) if path else '.well-known'}/did.json"


def verified(http: Any, api: str, token: str) -> dict[str, Any]:
    """The payload of a vc+jwt, verified with jwcrypto and the key its `kid` resolves to."""
    header = _segment(token, 0)
    assert (header["alg"], header["typ"], header["cty"]) == ("ES256", "vc+jwt", "vc")
    did = header["kid"].split("#")[0]
    document = http.get(did_document_url(did)).json()
    (method,) = [m for m in document["verificationMethod"] if m["id"] == header["kid"]]
    assert header["kid"] in document["assertionMethod"]
    # The same key the service lists as a signing key.
    assert method["publicKeyJwk"] in http.get(f"{api}/v1/keys").json()["keys"]
    signed = jws.JWS()
    signed.deserialize(token)
    signed.verify(jwk.JWK(**method["publicKeyJwk"]), alg="ES256")
    payload: dict[str, Any] = json.loads(signed.payload)
    return payload


def credential_of(http: Any, api: str, product_id: str, label: str = "latest", **kwargs: Any) -> Any:
    return http.get(f"{api}/v1/dpp/{enc(product_id)}/{label}", params={"format": "untp"}, **kwargs)


def decoded_list(http: Any, api: str, url: str) -> tuple[dict[str, Any], bytes]:
    response = http.get(url)
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"].startswith(VC_JWT)
    assert response.headers["Cache-Control"] == "public, max-age=60"
    payload = verified(http, api, response.text)
    encoded = payload["credentialSubject"]["encodedList"]
    assert encoded.startswith("u")  # multibase base64url, no padding
    raw = gzip.decompress(base64.urlsafe_b64decode(encoded[1:] + "=" * (-len(encoded[1:]) % 4)))
    return payload, raw


def bit(raw: bytes, index: int) -> int:
    return (raw[index // 8] >> (7 - index % 8)) & 1  # index 0: the first byte's left-most bit


def test_the_credential_validates_against_the_untp_schema_and_verifies_with_jwcrypto(api, http, seed_copy):
    document = seed_copy()
    response = credential_of(http, api, document["uniqueProductIdentifier"])
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"].startswith(VC_JWT)
    assert response.headers["Cache-Control"].startswith("public, max-age=")

    credential = verified(http, api, response.text)
    Draft202012Validator(SCHEMA).validate(credential)
    assert credential["type"] == ["DigitalProductPassport", "VerifiableCredential"]
    assert credential["@context"][0] == "https://www.w3.org/ns/credentials/v2"
    issuer = credential["issuer"]
    assert issuer["id"].startswith("did:web:") and issuer["id"].endswith(
        ":api:v1:operators:" + enc(document["economicOperatorId"])
    )
    assert issuer["issuerAlsoKnownAs"][0]["id"] == document["economicOperatorId"]
    # The kid is a verification method of the issuer's own DID document.
    assert _segment(response.text, 0)["kid"].startswith(issuer["id"] + "#")
    product = credential["credentialSubject"]
    assert product["id"] == document["uniqueProductIdentifier"]
    assert product["name"] == "PierrieCardin Polo Shirt - Green, Size M"
    assert product["producedAtFacility"]["id"] == document["facilityId"]
    assert [(m["name"], m["massFraction"]) for m in product["materialProvenance"]] == [
        ("Organic Cotton", 0.95),
        ("Elastane", 0.05),
    ]
    assert product["characteristics"]["sustainability"]["carbonFootprintKgCO2e"] == 2.3
    assert datetime.fromisoformat(credential["validFrom"]) == datetime.fromisoformat(
        document["dppLifecycle"]["validFrom"]
    )

    status = credential["credentialStatus"]
    assert (status["type"], status["statusPurpose"]) == ("BitstringStatusListEntry", "revocation")
    listed, raw = decoded_list(http, api, status["statusListCredential"])
    assert listed["type"] == ["VerifiableCredential", "BitstringStatusListCredential"]
    assert listed["id"] == status["statusListCredential"]
    assert listed["credentialSubject"]["statusPurpose"] == "revocation"
    assert len(raw) * 8 >= 131_072 and bit(raw, status["statusListIndex"]) == 0


def test_accept_negotiates_the_credential_and_an_unknown_format_is_refused(api, http, create):
    document = create()
    url = f"{api}/v1/dpp/{enc(document['uniqueProductIdentifier'])}/latest"
    by_format = http.get(url, params={"format": "untp"})
    by_accept = http.get(url, headers={"Accept": f"application/ld+json;q=0.5, {VC_JWT}"})
    assert by_accept.status_code == 200 and by_accept.headers["Content-Type"].startswith(VC_JWT)
    assert by_accept.text == by_format.text and by_accept.headers["ETag"] == by_format.headers["ETag"]
    assert "Accept" in by_accept.headers["Vary"]
    again = http.get(url, headers={"Accept": VC_JWT, "If-None-Match": by_accept.headers["ETag"]})
    assert again.status_code == 304
    lite = {"lite": "true"}
    plain = http.get(url, params=lite, headers={"Accept": "application/ld+json"})
    assert plain.status_code == 200 and plain.json()["type"] == "dpp:Passport"
    named = http.get(url, params={**lite, "format": "jsonld"}, headers={"Accept": VC_JWT})
    assert named.json()["type"] == "dpp:Passport"
    refused = http.get(url, params=lite, headers={"Accept": f"{VC_JWT};q=0, application/ld+json"})
    assert refused.json()["type"] == "dpp:Passport"
    assert_result(http.get(url, params={"format": "xml"}), 400, "InvalidParameter")


def test_a_restricted_section_or_element_is_never_in_the_credential(api, http, auth, create):
    document = create(
        supplychain={"supplier": "Secret Mill Ltd"},
        composition={
            "materials": [{"name": "Cotton", "percentage": 100}],
            "substancesOfConcern": ["Secret substance"],
        },
    )
    product_id = document["uniqueProductIdentifier"]
    # The owner reads both; the credential, served to anyone, carries neither, even to the owner.
    full = http.get(f"{api}/v1/dpp/{enc(product_id)}/latest", headers=auth).json()
    assert full["supplychainInline"] and full["compositionInline"]["substancesOfConcern"]
    token = credential_of(http, api, product_id, headers=auth).text
    credential = verified(http, api, token)
    Draft202012Validator(SCHEMA).validate(credential)
    text = json.dumps(credential)
    assert "Secret" not in text and "supplychain" not in text and "substancesOfConcern" not in text
    assert (
        credential["credentialSubject"]["characteristics"]["composition"]["materials"][0]["name"] == "Cotton"
    )


def test_revoking_the_passport_flips_its_bit_and_no_other(api, http, auth, create, derived):
    revoked, kept = create(), create()
    status = verified(http, api, credential_of(http, api, revoked["uniqueProductIdentifier"]).text)[
        "credentialStatus"
    ]
    other = verified(http, api, credential_of(http, api, kept["uniqueProductIdentifier"]).text)[
        "credentialStatus"
    ]
    _, before = decoded_list(http, api, status["statusListCredential"])
    assert bit(before, status["statusListIndex"]) == 0

    url = f"{api}/v1/dpps/{enc(revoked['digitalProductPassportId'])}/revoke"
    assert http.post(url, json={"reason": "recalled"}, headers=auth).status_code == 200
    derived()

    _, after = decoded_list(http, api, status["statusListCredential"])
    assert bit(after, status["statusListIndex"]) == 1
    _, others = decoded_list(http, api, other["statusListCredential"])
    assert bit(others, other["statusListIndex"]) == 0
    # Like every view of a revoked passport, the credential itself now answers 410.
    assert_result(credential_of(http, api, revoked["uniqueProductIdentifier"]), 410, "PassportRevoked")


def test_deleting_the_passport_flips_its_bit(api, http, token, create, derived):
    document = create()
    status = verified(http, api, credential_of(http, api, document["uniqueProductIdentifier"]).text)[
        "credentialStatus"
    ]
    owner = {"Authorization": f"Bearer {token('operator')}"}
    deleted = http.delete(f"{api}/v1/dpps/{enc(document['digitalProductPassportId'])}", headers=owner)
    assert deleted.status_code in (200, 204), deleted.text
    derived()
    _, raw = decoded_list(http, api, status["statusListCredential"])
    assert bit(raw, status["statusListIndex"]) == 1


def test_two_revocations_at_once_both_land(api, http, auth, create, derived):
    documents = [create() for _ in range(4)]
    entries = [
        verified(http, api, credential_of(http, api, d["uniqueProductIdentifier"]).text)["credentialStatus"]
        for d in documents
    ]
    start = threading.Barrier(len(documents))
    answers: list[int] = []

    def revoke(document: dict[str, Any]) -> None:
        start.wait()
        url = f"{api}/v1/dpps/{enc(document['digitalProductPassportId'])}/revoke"
        answers.append(http.post(url, json={"reason": "batch recall"}, headers=auth).status_code)

    threads = [threading.Thread(target=revoke, args=(d,)) for d in documents]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert answers == [200] * len(documents)
    derived()
    for entry in entries:
        _, raw = decoded_list(http, api, entry["statusListCredential"])
        assert bit(raw, entry["statusListIndex"]) == 1, entry


def test_a_revocation_that_loses_the_race_is_written_again_on_top(root, monkeypatch):
    """Deterministically: another revocation lands between this one's read and its write."""
    from shared.storage.cosmos import STATUS_LISTS

    lists = root.status_lists
    first, second = lists.allocate(), lists.allocate()
    assert first.list_id == second.list_id
    store = root.store
    original = store.read
    raced: list[bool] = []

    def read(container: str, item_id: str, partition: str) -> Any:
        found = original(container, item_id, partition)
        if container == STATUS_LISTS and item_id == "list" and not raced:
            raced.append(True)
            # Another instance revokes its passport now, on its own thread.
            other = threading.Thread(target=lists.revoke, args=(second,))
            other.start()
            other.join()
        return found

    monkeypatch.setattr(store, "read", read)
    assert lists.revoke(first) is True
    monkeypatch.undo()
    assert raced and lists.is_revoked(first) and lists.is_revoked(second)


def test_indices_are_reserved_a_block_at_a_time_and_never_twice(root, monkeypatch):
    from shared.publication.status_lists import ALLOCATOR, BLOCK, LIST_SIZE, StatusLists
    from shared.storage.cosmos import STATUS_LISTS
    from tests.support.store_calls import StoreCalls

    def process() -> StatusLists:
        return StatusLists(root.store, root.sealer, "did:web:example", root.credential_urls, max_age=60)

    def counter() -> int:
        found = root.store.read(STATUS_LISTS, ALLOCATOR, ALLOCATOR)
        return 0 if found is None else int(found["next"])

    one, two = process(), process()
    one.allocate()  # its first block
    before = counter()
    calls = StoreCalls(root.store, monkeypatch.setattr, thread=threading.get_ident())
    taken = [one.allocate() for _ in range(BLOCK)] + [two.allocate() for _ in range(3)]
    # One more block for the first process, one for the second: everything else from memory.
    assert counter() == before + 2 * BLOCK
    assert calls.requests[("replace", STATUS_LISTS)] == 2, calls.requests
    globals_ = [int(entry.list_id) * LIST_SIZE + entry.index for entry in taken]
    assert len(set(globals_)) == len(globals_)
    assert globals_[: BLOCK - 1] == list(range(before - BLOCK + 1, before))  # the first block's rest
    assert globals_[BLOCK - 1 :] == [before, before + BLOCK, before + BLOCK + 1, before + BLOCK + 2]


def test_a_version_written_before_credentials_were_issued_says_so(api, http, auth, root):
    """A root without the route table's URLs issues none, as versions stored before this did."""
    from shared.composition import Root

    older = Root(root.settings, store=root.store, blobs=root.blobs, operators=root.operators)
    document = make_passport()
    older.service.create(document, OWNER_PRINCIPAL)
    product_id = document["uniqueProductIdentifier"]
    assert_result(credential_of(http, api, product_id), 404, "CredentialNotIssued")
    # The passport's next write through the service issues one (signed on write, not on read).
    url = f"{api}/v1/dpps/{enc(document['digitalProductPassportId'])}"
    assert http.patch(url, json={"dppStatus": "Updated"}, headers=auth).status_code == 200
    Draft202012Validator(SCHEMA).validate(verified(http, api, credential_of(http, api, product_id).text))


def test_an_unchanged_credential_is_kept_and_a_changed_one_signed_anew(api, http, auth, create):
    document = create()
    product_id, url = (
        document["uniqueProductIdentifier"],
        f"{api}/v1/dpps/{enc(document['digitalProductPassportId'])}",
    )
    first = credential_of(http, api, product_id).text
    assert http.patch(url, json={"dppStatus": "Checked"}, headers=auth).status_code == 200
    assert credential_of(http, api, product_id).text == first  # dppStatus is not in it
    renamed = {"nameplate": {"ProductName": f"Renamed {uuid.uuid4().hex[:6]}"}}
    assert http.patch(url, json=renamed, headers=auth).status_code == 200
    second = verified(http, api, credential_of(http, api, product_id).text)
    assert second["credentialSubject"]["name"] == renamed["nameplate"]["ProductName"]
    # The same status entry: the passport's, for every version.
    assert second["credentialStatus"] == verified(http, api, first)["credentialStatus"]
    assert second["id"] != verified(http, api, first)["id"]


def test_an_unknown_status_list_is_404(api, http):
    assert_result(http.get(f"{api}/v1/status-lists/999999"), 404, "StatusListNotFound")
    assert_result(http.get(f"{api}/v1/status-lists/not-a-list"), 404, "StatusListNotFound")


@pytest.mark.parametrize("label", ["v1"])
def test_an_older_label_serves_its_own_credential(api, http, auth, create, label):
    document = create()
    product_id = document["uniqueProductIdentifier"]
    before = credential_of(http, api, product_id).text
    publish = f"{api}/v1/dpps/{enc(document['digitalProductPassportId'])}/publish"
    assert http.post(publish, json={"versionLabel": "v2"}, headers=auth).status_code == 200
    assert credential_of(http, api, product_id, label).text == before
    newer = verified(http, api, credential_of(http, api, product_id, "v2").text)
    assert newer["name"].endswith("(v2)")


def test_a_gs1_product_is_named_by_its_digital_link_uri_on_this_resolver(api, http, root, create):
    gtin = gtin14("09506" + str(uuid.uuid4().int)[:8])
    document = create(uniqueProductIdentifier=f"https://id.gs1.org/01/{gtin}/21/SN-7")
    credential = verified(http, api, credential_of(http, api, document["uniqueProductIdentifier"]).text)
    Draft202012Validator(SCHEMA).validate(credential)
    product = credential["credentialSubject"]
    assert product["id"] == f"{root.settings.public_url}/01/{gtin}/21/SN-7"
    assert product["idScheme"]["id"] == "https://id.gs1.org/01" and product["idGranularity"] == "item"
    # Nothing in the passport says where it was made: UNTP requires it, so it says "not stated".
    assert product["countryOfProduction"]["countryCode"] == "ZZ"
    assert product["producedAtFacility"]["id"] == "urn:dpp:facility:not-stated"
