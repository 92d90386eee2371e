"""Every response that shows passport content is verifiable by itself: its `signature` (or, for an
element read, its `DPP-Signature` header) is an SD-JWT presentation that the RFC 9901 reference
implementation (PyPI `sd-jwt`, not used by the service) verifies with nothing but `/v1/keys`, and
what it discloses is exactly what the response shows, for every kind of reader. A withheld part's
content appears nowhere in the response."""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Callable
from typing import Any

import pytest
import requests

from shared.documents.model import HEADER_FIELDS
from tests.support.documents import OWNER, enc, make_passport
from tests.support.presentations import jcs_hash, verified
from tests.support.results import assert_result

# One marker per restricted part: found in a response, it would mean the part leaked.
SUPPLY_SECRET = "Spinnerei-Geheim-7731"
REPAIR_SECRET = "torque-spec-4242"
MANUFACTURE_SECRET = "line-Z9-recipe"
CONTRACT_SECRET = "contract-C-5150"
POLICY = {"elements": {"$.composition.supplierContract": ["authority"]}}
SECRETS = {
    "supplychain": SUPPLY_SECRET,
    "repair": REPAIR_SECRET,
    "manufacture": MANUFACTURE_SECRET,
    "supplierContract": CONTRACT_SECRET,
}
# What each reader may see, by the shipped deployment policy and the passport's own policy above.
VISIBLE = {
    "anonymous": set(),
    "recycler": {"supplychain", "repair"},
    "repairer": {"repair"},
    "authority": {"supplychain", "repair", "manufacture", "supplierContract"},
    "owner": {"supplychain", "repair", "manufacture", "supplierContract"},
}
INTEGRITY = ("contentHash", "signature")
# A public word only this module's passport has, to find it among every test's passports.
MARK = "sdmark" + uuid.uuid4().hex[:10]


def b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def decoded_parts(presentation: str) -> str:
    """The JWT payload and every disclosure of a presentation, decoded, as one text."""
    jwt, *disclosures = presentation.split("~")
    texts = [jwt.split(".")[1], *(d for d in disclosures if d)]
    return " ".join(b64decode(text).decode("utf-8") for text in texts)


def assert_nothing_leaks(response: requests.Response, reader: str, *presentations: str) -> None:
    everything = response.text + json.dumps(dict(response.headers))
    everything += " ".join(decoded_parts(presentation) for presentation in presentations)
    for part, secret in SECRETS.items():
        if part not in VISIBLE[reader]:
            assert secret not in everything, f"{part} leaked to {reader}"


@pytest.fixture(scope="module")
def keys(api: str) -> dict[str, Any]:
    return requests.get(f"{api}/v1/keys", timeout=10).json()


@pytest.fixture(scope="module")
def readers(token: Callable[..., str]) -> dict[str, dict[str, str]]:
    def bearer(value: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {value}"}

    return {
        "anonymous": {},
        "recycler": bearer(token("recycler", operator=None)),
        "repairer": bearer(token("repairer", operator=None)),
        "authority": bearer(token("authority", operator=None)),
        "owner": bearer(token()),
    }


@pytest.fixture(scope="module")
def passport(api: str, readers: dict[str, dict[str, str]]) -> dict[str, Any]:
    """A passport with a public, two restricted sections, an element its own policy restricts,
    and an artifact of a restricted section; published twice, so it has a history."""
    owner = readers["owner"]
    document = make_passport(
        composition={"fibres": "cotton", "finish": MARK, "supplierContract": CONTRACT_SECRET},
        supplychain={"tier1": SUPPLY_SECRET},
        repair={"manual": REPAIR_SECRET},
        manufacture={"recipe": MANUFACTURE_SECRET},
        dppAccessPolicy=POLICY,
        dppLifecycle={"versionLabel": "v1.0"},
    )
    dpp_id = document["digitalProductPassportId"]
    url = f"{api}/v1/dpps/{enc(dpp_id)}"
    assert requests.post(f"{api}/v1/dpps", json=document, headers=owner, timeout=10).status_code == 201
    upload = requests.put(
        f"{url}/artifacts/repair",
        data=b"%PDF-1.7 " + REPAIR_SECRET.encode(),
        headers={**owner, "Content-Type": "application/pdf"},
        timeout=10,
    )
    assert upload.status_code == 201, upload.text
    published = requests.post(f"{url}/publish", json={"versionLabel": "v2.0"}, headers=owner, timeout=10)
    assert published.status_code == 200, published.text
    return {
        "document": document,
        "dppId": dpp_id,
        "url": url,
        "productId": document["uniqueProductIdentifier"],
    }


def shown_sections(reader: str) -> set[str]:
    return {"nameplate", "composition"} | (VISIBLE[reader] & {"supplychain", "repair", "manufacture"})


READERS = list(VISIBLE)


@pytest.mark.parametrize("reader", READERS)
def test_en18222_reads_disclose_exactly_what_they_show(
    reader: str, api: str, passport: dict[str, Any], readers: dict[str, dict[str, str]], keys: dict[str, Any]
):
    head = requests.get(passport["url"], headers=readers[reader], timeout=10)
    assert head.status_code == 200
    date = requests.get(f"{passport['url']}/history", timeout=10).json()["versions"][0]["ts"]
    reads = {
        "byId": head,
        "byProductId": requests.get(
            f"{api}/v1/dppsByProductId/{enc(passport['productId'])}", headers=readers[reader], timeout=10
        ),
        "byIdAndDate": requests.get(
            f"{api}/v1/dppsByIdAndDate/{enc(passport['dppId'])}",
            params={"date": date},
            headers=readers[reader],
            timeout=10,
        ),
        "byProductIdAndDate": requests.get(
            f"{api}/v1/dppsByProductIdAndDate/{enc(passport['productId'])}",
            params={"date": date},
            headers=readers[reader],
            timeout=10,
        ),
    }
    for name, response in reads.items():
        assert response.status_code == 200, (name, response.text)
        body = response.json()
        document = {key: value for key, value in body.items() if key not in INTEGRITY}
        claims = verified(body["signature"], keys)
        assert claims["document"] == document, name
        assert body["contentHash"] == jcs_hash(document), name
        sections = {key for key, value in document.items() if isinstance(value, dict)}
        assert sections == shown_sections(reader), name
        assert ("supplierContract" in document["composition"]) == ("supplierContract" in VISIBLE[reader])
        assert_nothing_leaks(response, reader, body["signature"])
    # The operator's document, nothing else: no service members inside it.
    assert not {"dppLifecycle", "dppArtifacts", "dppAccessPolicy"} & set(head.json())


@pytest.mark.parametrize("reader", READERS)
def test_element_reads_carry_their_presentation_in_a_header(
    reader: str, passport: dict[str, Any], readers: dict[str, dict[str, str]], keys: dict[str, Any]
):
    readable = requests.get(f"{passport['url']}/elements/composition", headers=readers[reader], timeout=10)
    assert readable.status_code == 200
    claims = verified(readable.headers["DPP-Signature"], keys)
    assert claims["document"]["composition"] == readable.json()
    assert set(claims["document"]) - {"composition"} <= set(HEADER_FIELDS)
    assert_nothing_leaks(readable, reader, readable.headers["DPP-Signature"])
    restricted = requests.get(
        f"{passport['url']}/elements/supplychain/tier1", headers=readers[reader], timeout=10
    )
    if "supplychain" in VISIBLE[reader]:
        assert restricted.status_code == 200
        assert verified(restricted.headers["DPP-Signature"], keys)["document"]["supplychain"]["tier1"] == (
            restricted.json()
        )
    else:
        assert restricted.status_code == (401 if reader == "anonymous" else 403)
        assert "DPP-Signature" not in restricted.headers
        assert_nothing_leaks(restricted, reader)


@pytest.mark.parametrize("reader", READERS)
@pytest.mark.parametrize("lite", ["true", "false"])
def test_json_ld_views_disclose_exactly_their_sections_and_references(
    reader: str,
    lite: str,
    api: str,
    passport: dict[str, Any],
    readers: dict[str, dict[str, str]],
    keys: dict[str, Any],
):
    url = f"{api}/v1/dpp/{enc(passport['productId'])}/latest"
    response = requests.get(url, params={"lite": lite}, headers=readers[reader], timeout=10)
    if lite == "false" and reader == "anonymous":
        assert_result(response, 401, "AuthenticationRequired")
        return
    assert response.status_code == 200, response.text
    body = response.json()
    claims = verified(body["signature"], keys)
    inline = {key.removesuffix("Inline"): value for key, value in body.items() if key.endswith("Inline")}
    disclosed = {key: value for key, value in claims["document"].items() if isinstance(value, dict)}
    assert inline == disclosed
    references = {key.removesuffix("ByRef"): value for key, value in body.items() if key.endswith("ByRef")}
    assert references == claims["dpp"]["artifacts"]
    assert bool(references) == (lite == "false" and "repair" in VISIBLE[reader])
    assert body["lifecycle"] == claims["dpp"]["lifecycle"]
    assert body["contentHash"] == jcs_hash(claims["document"])
    assert ("accessPolicy" in body) == (lite == "false" and reader in {"authority", "owner"})
    assert_nothing_leaks(response, "anonymous" if lite == "true" else reader, body["signature"])


def test_status_artifact_and_envelope_endpoints_are_signed(
    api: str, passport: dict[str, Any], readers: dict[str, dict[str, str]], keys: dict[str, Any]
):
    views = f"{api}/v1/dpp/{enc(passport['productId'])}"
    status = requests.get(f"{views}/v1.0/status", timeout=10).json()
    assert status["status"] == "Superseded"
    own = verified(status["signature"], keys)["dpp"]
    assert (own["lifecycle"]["validFrom"], own["lifecycle"]["versionLabel"]) == (status["validFrom"], "v1.0")
    current = verified(status["currentSignature"], keys)["dpp"]
    assert [entry["label"] for entry in current["labels"]] == ["v1.0", "v2.0"]

    for reader in READERS:
        artifact = requests.get(f"{views}/latest/artifact/repair", headers=readers[reader], timeout=10)
        if "repair" not in VISIBLE[reader]:
            assert artifact.status_code == (401 if reader == "anonymous" else 403)
            continue
        assert artifact.status_code == 200
        body = artifact.json()
        reference = verified(body["signature"], keys)["dpp"]["artifacts"]["repair"]
        assert {key: body[key] for key in reference} == reference

        listed = requests.get(f"{passport['url']}/artifacts", headers=readers[reader], timeout=10).json()
        assert listed["artifacts"] == verified(listed["signature"], keys)["dpp"]["artifacts"]

    lifecycle = requests.get(f"{passport['url']}/lifecycle", timeout=10).json()
    claims = verified(lifecycle["signature"], keys)["dpp"]
    assert (claims["lifecycle"], claims["labels"]) == (lifecycle["lifecycle"], lifecycle["labels"])
    assert lifecycle["lifecycle"]["versionLabel"] == "v2.0" and lifecycle["lifecycle"]["supersedes"] == "v1.0"
    # Any signed response verifies as it was received, the envelope's included.
    for body in (lifecycle, status, listed):
        checked = requests.post(f"{api}/v1/verify", json=body, timeout=10).json()
        assert (checked["valid"], checked["failedChecks"]) == (True, []), body

    for reader in READERS:
        policy = requests.get(f"{passport['url']}/accessPolicy", headers=readers[reader], timeout=10)
        if reader in {"authority", "owner"}:
            assert policy.status_code == 200
            assert policy.json()["accessPolicy"] == POLICY
            assert verified(policy.json()["signature"], keys)["dpp"]["accessPolicy"] == POLICY
        else:
            assert policy.status_code == (401 if reader == "anonymous" else 403)


@pytest.mark.parametrize("reader", READERS)
def test_history_records_and_search_hits_carry_their_own_presentations(
    reader: str,
    api: str,
    passport: dict[str, Any],
    readers: dict[str, dict[str, str]],
    keys: dict[str, Any],
    derived: Any,
):
    derived()
    history = requests.get(
        f"{passport['url']}/history", params={"include": "documents"}, headers=readers[reader], timeout=10
    )
    records = history.json()["versions"]
    assert [record["operation"] for record in records] == ["create", "putArtifact", "publish"]
    for record in records:
        claims = verified(record["signature"], keys)
        assert claims["document"] == record["document"]
        assert claims["dpp"]["version"] == record["version"]
        assert claims["dpp"]["previousDigest"] == record["previousDigest"]
        assert record["contentHash"] == jcs_hash(record["document"])
    assert_nothing_leaks(history, reader, *(record["signature"] for record in records))

    hits = requests.get(f"{api}/v1/dpp/search", params={"keyword": MARK, "issuer": OWNER}, timeout=10)
    mine = [hit for hit in hits.json() if hit["subject"].startswith(passport["productId"])]
    assert len(mine) == 1
    claims = verified(mine[0]["signature"], keys)
    preview = {key.removesuffix("Inline"): value for key, value in mine[0]["litePreview"].items()}
    assert preview == {key: value for key, value in claims["document"].items() if isinstance(value, dict)}
    assert_nothing_leaks(hits, "anonymous", mine[0]["signature"])


def test_the_issuer_resolves_to_the_keys_that_signed(
    api: str, passport: dict[str, Any], keys: dict[str, Any]
):
    body = requests.get(passport["url"], timeout=10).json()
    claims = verified(body["signature"], keys)
    issuer = claims["iss"]
    operator = body["economicOperatorId"]
    assert issuer.endswith(":v1:operators:" + enc(operator))
    # did:web: the path after the host becomes the URL path; this test talks to the local host.
    path = "/".join(issuer.split(":")[3:])
    document = requests.get(
        f"{api.rsplit('/api', 1)[0]}/api/{path.removeprefix('api/')}/did.json", timeout=10
    )
    assert document.status_code == 200, document.text
    did = document.json()
    assert did["alsoKnownAs"] == [operator]
    assert did["id"].endswith(":v1:operators:" + enc(operator))
    assert [method["publicKeyJwk"] for method in did["verificationMethod"]] == keys["keys"]
    unknown = requests.get(f"{api}/v1/operators/{enc('did:example:nobody')}/did.json", timeout=10)
    assert_result(unknown, 404, "OperatorNotFound")


def test_verify_names_a_tampered_presentation(api: str, passport: dict[str, Any], create: Callable[..., Any]):
    body = requests.get(passport["url"], headers={}, timeout=10).json()
    verify = f"{api}/v1/verify"

    def failed(sent: dict[str, Any]) -> list[str]:
        result = requests.post(verify, json=sent, timeout=10).json()
        return result["failedChecks"]

    assert failed(body) == []
    assert failed({**body, "nameplate": {**body["nameplate"], "ManufacturerName": "Forged"}}) == ["content"]
    assert failed({**body, "contentHash": "sha256-" + "A" * 43}) == ["contentHash"]

    jwt, *disclosures, _ = body["signature"].split("~")
    salt, name, _value = json.loads(b64decode(disclosures[0]))
    forged = (
        base64.urlsafe_b64encode(json.dumps([salt, name, {"forged": True}]).encode()).decode().rstrip("=")
    )
    assert failed({"signature": "~".join([jwt, forged, *disclosures[1:], ""])}) == ["disclosures"]

    other = create(composition={"fibres": "wool"})
    foreign = requests.get(f"{api}/v1/dpps/{enc(other['digitalProductPassportId'])}", timeout=10).json()
    stray = foreign["signature"].split("~")[1]
    assert failed({"signature": "~".join([jwt, *disclosures, stray, ""])}) == ["disclosures"]

    first = requests.get(f"{passport['url']}/history", params={"include": "documents"}, timeout=10).json()
    older = first["versions"][0]["signature"].split("~")[1]
    assert older not in disclosures
    assert failed({"signature": "~".join([jwt, *disclosures, older, ""])}) == ["disclosures"]

    header, payload, signature = jwt.split(".")
    claims = json.loads(b64decode(payload))
    claims["dpp"]["operator"] = "did:example:squatter"
    forged_payload = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
    assert failed({"signature": f"{header}.{forged_payload}.{signature}~"}) == ["signature"]


def test_the_passport_policy_has_its_own_signed_write(
    api: str, readers: dict[str, dict[str, str]], keys: dict[str, Any]
):
    owner = readers["owner"]
    document = make_passport(composition={"fibres": "cotton", "supplierContract": CONTRACT_SECRET})
    url = f"{api}/v1/dpps/{enc(document['digitalProductPassportId'])}"
    assert requests.post(f"{api}/v1/dpps", json=document, headers=owner, timeout=10).status_code == 201
    assert requests.get(f"{url}/accessPolicy", headers=owner, timeout=10).json()["accessPolicy"] is None
    assert CONTRACT_SECRET in requests.get(url, timeout=10).text

    refusals = [
        (requests.put(f"{url}/accessPolicy", json=POLICY, timeout=10), 401, "AuthenticationRequired"),
        (
            requests.put(f"{url}/accessPolicy", json=POLICY, headers=readers["authority"], timeout=10),
            403,
            "RoleRequired",
        ),
        (
            requests.put(
                f"{url}/accessPolicy", json={"sections": {"x": ["nobody"]}}, headers=owner, timeout=10
            ),
            400,
            "InvalidAccessPolicy",
        ),
        (
            requests.put(
                f"{url}/accessPolicy", json=POLICY, headers={**owner, "If-Match": '"stale"'}, timeout=10
            ),
            412,
            "PreconditionFailed",
        ),
    ]
    for response, status, code in refusals:
        assert_result(response, status, code)
    assert len(requests.get(f"{url}/history", timeout=10).json()["versions"]) == 1  # nothing written

    etag = requests.get(url, headers=owner, timeout=10).headers["ETag"]
    set_policy = requests.put(
        f"{url}/accessPolicy", json=POLICY, headers={**owner, "If-Match": etag}, timeout=10
    )
    assert set_policy.status_code == 200, set_policy.text
    assert verified(set_policy.json()["signature"], keys)["dpp"]["accessPolicy"] == POLICY
    public = requests.get(url, timeout=10)
    assert CONTRACT_SECRET not in public.text and public.json()["composition"] == {"fibres": "cotton"}
    history = requests.get(f"{url}/history", timeout=10).json()["versions"]
    assert [record["operation"] for record in history] == ["create", "setAccessPolicy"]

    removed = requests.put(
        f"{url}/accessPolicy", data="null", headers={**owner, "Content-Type": "application/json"}, timeout=10
    )
    assert removed.status_code == 200, removed.text
    assert removed.json()["accessPolicy"] is None
    assert CONTRACT_SECRET in requests.get(url, timeout=10).text
    # An element write cannot reach into the envelope.
    refused = requests.put(f"{url}/elements/dppAccessPolicy", json=POLICY, headers=owner, timeout=10)
    assert (refused.status_code, refused.json()["messages"][0]["code"]) == (400, "ServerManagedField")
