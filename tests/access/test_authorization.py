"""The access policy over real HTTP: every reader (role) against every read surface.

One passport carries a public section, the deployment's restricted sections, a section with one
member restricted by the passport's own access policy, a passport-level attempt to WIDEN a
restricted section (which must not widen it), and two artifacts. MATRIX below is the
specification: what each reader sees; every surface must show exactly that, and every surface's
`signature` (an element read's `DPP-Signature` header) must verify with the RFC 9901 reference
implementation (PyPI `sd-jwt`, not used by the service) and disclose exactly what it shows.

The EN 18222 document is the operator's alone; the lifecycle, the artifact references and the
passport's own policy live beside it in the signed version and are read from their own endpoints.
"""

from __future__ import annotations

import base64
import itertools
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import pytest
import requests

from tests.support.documents import OWNER, enc, make_passport
from tests.support.presentations import jcs_hash, verified
from tests.support.results import assert_result

LABEL = "v1.0.0"
SUFFIX = uuid.uuid4().hex[:12]
# Unique words, one per place they appear; only the nameplate's may ever be found by search.
PUBLIC_WORD = f"zqpublic{SUFFIX}"
SUPPLY_WORD = f"zqsupply{SUFFIX}"
MANUFACTURE_WORD = f"zqmanufacture{SUFFIX}"
CONTRACT_WORD = f"zqcontract{SUFFIX}"
REPAIR_WORD = f"zqrepair{SUFFIX}"

CONTENT = ("nameplate", "supplychain", "manufacture", "repair", "composition")
# The header fields of the stored document: everyone, always.
HEADER = (
    "digitalProductPassportId",
    "uniqueProductIdentifier",
    "granularity",
    "dppSchemaVersion",
    "dppStatus",
    "lastUpdate",
    "economicOperatorId",
    "contentSpecificationIds",
)
# What EN 18222 reads add to the document shown.
INTEGRITY = ("contentHash", "signature")
# The passport's own policy: a part of the signed version, not of the document.
OWN_POLICY = "dppAccessPolicy"
PASSPORT_POLICY = {
    "elements": {"$.composition.supplierContract": ["authority"]},
    # An attempt to widen the deployment's rule (manufacture -> authority): must change nothing.
    "sections": {"manufacture": ["public"]},
}
# Members below a section that are disclosures of their own: the elements a policy restricts on
# its own (the deployment's policy restricts none).
OWN_DISCLOSURES = [tuple(rule.removeprefix("$.").split(".")) for rule in PASSPORT_POLICY["elements"]]
SECTIONS: dict[str, dict[str, Any]] = {
    "nameplate": {"ManufacturerName": "ACME", "ProductName": f"Field jacket {PUBLIC_WORD}"},
    "supplychain": {"origin": "Portugal", "tier1": {"name": f"Spinner {SUPPLY_WORD}", "country": "PT"}},
    "manufacture": {"plant": "Porto", "process": f"Garment dyeing {MANUFACTURE_WORD}"},
    "repair": {"manual": f"Repair manual {REPAIR_WORD}", "spareParts": ["zip", "button"]},
    "composition": {
        "fibres": [{"name": "Cotton", "share": 0.95}, {"name": "Elastane", "share": 0.05}],
        "supplierContract": f"Framework contract {CONTRACT_WORD}",
    },
}
ARTIFACT_UPLOADS = {
    "supplychain": (b"%PDF-1.7 supply chain due diligence " + SUFFIX.encode(), "application/pdf"),
    "composition": (b"fibre,share\ncotton,0.95\nelastane,0.05\n" + SUFFIX.encode(), "text/csv"),
}


@dataclass(frozen=True)
class Sees:
    sections: frozenset[str]  # content sections, and `dppAccessPolicy` (the passport's own policy)
    supplier_contract: bool  # composition.supplierContract (restricted by the passport's own policy)
    artifacts: frozenset[str]  # artifact references by type, i.e. <type>ByRef in the JSON-LD full view
    full_view: int  # status of GET /v1/dpp/{productId}/{label}?lite=false
    disclosure: str  # DPP-Disclosure of EN 18222 reads

    @property
    def complete(self) -> bool:
        return self.disclosure == "complete"

    @property
    def policy(self) -> bool:
        return OWN_POLICY in self.sections


# fmt: off
# THE SPECIFICATION. Header fields, the lifecycle, contentHash and signature: everyone, always.
# Content sections (and the passport's own policy) each reader may read:
READS = {
    "anonymous":         "nameplate composition",
    "no-roles":          "nameplate composition",
    "recycler":          "nameplate supplychain repair composition",
    "repairer":          "nameplate repair composition",
    "authority":         "nameplate supplychain manufacture repair composition dppAccessPolicy",
    "other-operator":    "nameplate composition",
    # the owner's economic operator, but without the operator role: a recycler, not the owner
    "recycler-at-owner": "nameplate supplychain repair composition",
    "owner":             "nameplate supplychain manufacture repair composition dppAccessPolicy",
}
#                     composition.       artifacts                  JSON-LD view   DPP-Disclosure
#                     supplierContract   (ByRef)                    ?lite=false
DETAILS = {
    "anonymous":         (False,          "composition",             401,          "partial"),
    "no-roles":          (False,          "composition",             403,          "partial"),
    "recycler":          (False,          "supplychain composition", 200,          "partial"),
    "repairer":          (False,          "composition",             200,          "partial"),
    "authority":         (True,           "supplychain composition", 200,          "complete"),
    "other-operator":    (False,          "composition",             200,          "partial"),
    "recycler-at-owner": (False,          "supplychain composition", 200,          "partial"),
    "owner":             (True,           "supplychain composition", 200,          "complete"),
}
# fmt: on
MATRIX: dict[str, Sees] = {
    name: Sees(frozenset(READS[name].split()), contract, frozenset(artifacts.split()), status, disclosure)
    for name, (contract, artifacts, status, disclosure) in DETAILS.items()
}
VIEWERS = list(MATRIX)


def bearer(value: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {value}"}


@dataclass
class Passport:
    api: str
    http: requests.Session
    headers: dict[str, dict[str, str]]
    keys: dict[str, Any]  # GET /v1/keys: all a reader needs to verify a presentation
    dpp_id: str
    product_id: str
    stored: dict[str, Any]  # the complete current document (the owner's read, without integrity members)
    content_hash: str  # the owner's contentHash: that of the stored document
    signature: str  # the owner's presentation
    versions: list[dict[str, Any]]  # the complete document of every version, oldest first
    lifecycle: dict[str, Any]  # the current version's lifecycle
    labels: list[dict[str, Any]]  # its published labels
    artifacts: dict[str, Any]  # every artifact reference of the current version

    def get(self, viewer: str, path: str, **params: Any) -> requests.Response:
        return self.http.get(f"{self.api}{path}", params=params, headers=self.headers[viewer])

    @property
    def dpp(self) -> str:
        return f"/v1/dpps/{enc(self.dpp_id)}"

    @property
    def view(self) -> str:
        return f"/v1/dpp/{enc(self.product_id)}/{enc(LABEL)}"

    @property
    def head_version(self) -> int:
        return len(self.versions)


@pytest.fixture(scope="module")
def headers(token, auth) -> dict[str, dict[str, str]]:
    return {
        "anonymous": {},
        "no-roles": bearer(token([], operator=None)),
        "recycler": bearer(token("recycler", operator=None)),
        "repairer": bearer(token("repairer", operator=None)),
        "authority": bearer(token("authority", operator=None)),
        "other-operator": bearer(token("operator", operator=f"did:example:operator:other-{SUFFIX}")),
        "recycler-at-owner": bearer(token("recycler", operator=OWNER)),
        "owner": auth,
    }


def jwt_payload(presentation: str) -> dict[str, Any]:
    """The issuer-signed JWT's payload as signed: withheld parts are digests in `_sd`."""
    encoded = presentation.split("~", maxsplit=1)[0].split(".")[1]
    return json.loads(base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)))


@pytest.fixture(scope="module")
def passport(api, http, auth, headers, derived) -> Passport:
    # A write body may still carry the lifecycle and the passport's policy: they go beside the document.
    document = make_passport(
        **SECTIONS, dppAccessPolicy=PASSPORT_POLICY, dppLifecycle={"versionLabel": LABEL}
    )
    dpp_id, product_id = document["digitalProductPassportId"], document["uniqueProductIdentifier"]
    created = http.post(f"{api}/v1/dpps", json=document, headers=auth)
    assert created.status_code == 201, created.text
    for artifact_type, (data, media_type) in ARTIFACT_UPLOADS.items():
        uploaded = http.put(
            f"{api}/v1/dpps/{enc(dpp_id)}/artifacts/{artifact_type}",
            data=data,
            headers={**auth, "Content-Type": media_type},
        )
        assert uploaded.status_code == 201, uploaded.text
    url = f"{api}/v1/dpps/{enc(dpp_id)}"
    owner = http.get(url, headers=auth).json()
    history = http.get(f"{url}/history?include=documents", headers=auth).json()
    lifecycle = http.get(f"{url}/lifecycle", headers=auth).json()
    artifacts = http.get(f"{url}/artifacts", headers=auth).json()
    policy = http.get(f"{url}/accessPolicy", headers=auth).json()
    keys = http.get(f"{api}/v1/keys").json()
    stored = {key: value for key, value in owner.items() if key not in INTEGRITY}
    records = history["versions"]
    versions = [record["document"] for record in records]
    # The ground truth the matrix is applied to: what was written, as stored. The document is the
    # operator's alone: no lifecycle, artifacts or policy inside it.
    assert set(stored) == {*HEADER, *CONTENT}
    assert {key: stored[key] for key in SECTIONS} == SECTIONS
    assert owner["contentHash"] == jcs_hash(stored)
    assert policy["accessPolicy"] == PASSPORT_POLICY
    assert set(artifacts["artifacts"]) == set(ARTIFACT_UPLOADS)
    assert lifecycle["lifecycle"]["versionLabel"] == LABEL
    assert lifecycle["version"] == len(versions)
    assert [record["operation"] for record in records] == ["create", "putArtifact", "putArtifact"]
    # Each upload is a new signed version whose envelope holds one more (concealed) reference.
    assert [len(jwt_payload(r["signature"])["dpp"]["artifacts"]["_sd"]) for r in records[1:]] == [1, 2]
    assert "_sd" not in jwt_payload(records[0]["signature"])["dpp"]["artifacts"]
    assert versions[-1] == stored
    derived()  # searched by several checks
    return Passport(
        api,
        http,
        headers,
        keys,
        dpp_id,
        product_id,
        stored,
        owner["contentHash"],
        owner["signature"],
        versions,
        lifecycle["lifecycle"],
        lifecycle["labels"],
        artifacts["artifacts"],
    )


# -- what the specification says a reader sees -------------------------------------------------


def header(full: dict[str, Any]) -> dict[str, Any]:
    return {key: full[key] for key in HEADER}


def expected_document(full: dict[str, Any], seen: Sees) -> dict[str, Any]:
    shown = header(full)
    for key in CONTENT:
        if key in seen.sections:
            shown[key] = full[key]
    if "composition" in shown and not seen.supplier_contract:
        shown["composition"] = {k: v for k, v in full["composition"].items() if k != "supplierContract"}
    return shown


def expected_artifacts(p: Passport, seen: Sees) -> dict[str, Any]:
    return {kind: reference for kind, reference in p.artifacts.items() if kind in seen.artifacts}


def public_composition(full: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in full["composition"].items() if k != "supplierContract"}


MISSING = object()


def resolve(document: Any, path: tuple[Any, ...]) -> Any:
    for segment in path:
        in_object = isinstance(document, dict) and isinstance(segment, str) and segment in document
        in_list = isinstance(document, list) and isinstance(segment, int) and 0 <= segment < len(document)
        if not (in_object or in_list):
            return MISSING
        document = document[segment]
    return document


def assert_caching(response: requests.Response, viewer: str) -> None:
    assert response.headers["Vary"] == "Authorization, Accept"
    if viewer == "anonymous":
        assert response.headers["Cache-Control"].startswith("public, ")
    else:
        assert response.headers["Cache-Control"] == "private, no-store"


def assert_refused(response: requests.Response, viewer: str, code: str) -> None:
    if viewer == "anonymous":
        assert_result(response, 401, code)
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
    else:
        assert_result(response, 403, code)


# -- what a reader checks on their own -----------------------------------------------------------


def assert_discloses(
    p: Passport,
    presentation: str,
    *,
    document: dict[str, Any],
    artifacts: dict[str, Any] | None = None,
    policy: dict[str, Any] | None = None,
    version: int | None = None,
) -> dict[str, Any]:
    """`presentation` verifies and discloses exactly `document`, `artifacts` and `policy` (none: not
    disclosed) of the passport's `version` (default: the current one); returns its claims."""
    claims = verified(presentation, p.keys)
    assert claims["document"] == document
    assert claims["dpp"]["artifacts"] == (artifacts or {})
    assert ("accessPolicy" in claims["dpp"]) is (policy is not None)
    assert claims["dpp"].get("accessPolicy") == policy
    assert (claims["dpp"]["id"], claims["dpp"]["version"]) == (p.dpp_id, version or p.head_version)
    return claims


def assert_signed_document(p: Passport, body: dict[str, Any], expected: dict[str, Any], version: int) -> None:
    """An EN 18222 read: the document shown, its digest, and a presentation of exactly it."""
    assert {key: value for key, value in body.items() if key not in INTEGRITY} == expected
    assert body["contentHash"] == jcs_hash(expected)
    assert_discloses(p, body["signature"], document=expected, version=version)


def element_claims(visible: dict[str, Any], path: tuple[Any, ...]) -> dict[str, Any]:
    """What an element read's presentation discloses: the header, and the element's section as the
    reader sees it, less the members disclosed on their own off the element's path."""
    shown = header(visible)
    if path[0] in CONTENT:
        section = visible[path[0]]
        for inner in OWN_DISCLOSURES:
            length = min(len(inner), len(path))
            on_path = inner[:length] == tuple(str(segment) for segment in path[:length])
            if inner[0] == path[0] and not on_path:
                section = {k: v for k, v in section.items() if k != inner[1]}
        shown[path[0]] = section
    return shown


# -- the surfaces --------------------------------------------------------------------------------


def check_read_by_id(p: Passport, viewer: str, seen: Sees) -> None:
    response = p.get(viewer, p.dpp)
    assert response.status_code == 200, response.text
    assert_signed_document(p, response.json(), expected_document(p.stored, seen), p.head_version)
    if seen.complete:
        assert response.json()["contentHash"] == p.content_hash
    assert response.headers["DPP-Disclosure"] == seen.disclosure
    assert_caching(response, viewer)


def check_read_by_id_full_representation(p: Passport, viewer: str, seen: Sees) -> None:
    response = p.get(viewer, p.dpp, representation="full")
    assert response.status_code == 200, response.text
    body = response.json()
    expected = expected_document(p.stored, seen)
    collections = {key for key, value in expected.items() if isinstance(value, dict)}
    elements = {element["elementId"]: element for element in body["elements"]}
    assert set(elements) == collections
    assert set(body) - {"elements"} == {*(key for key in expected if key not in collections), *INTEGRITY}
    composition = {child["elementId"] for child in elements["composition"]["elements"]}
    assert composition == set(expected["composition"])
    # The digest and the presentation are of the compressed document shown.
    assert body["contentHash"] == jcs_hash(expected)
    assert_discloses(p, body["signature"], document=expected)
    assert response.headers["DPP-Disclosure"] == seen.disclosure
    assert_caching(response, viewer)


def check_read_by_product_id(p: Passport, viewer: str, seen: Sees) -> None:
    response = p.get(viewer, f"/v1/dppsByProductId/{enc(p.product_id)}")
    assert response.status_code == 200, response.text
    assert_signed_document(p, response.json(), expected_document(p.stored, seen), p.head_version)
    assert response.headers["DPP-Disclosure"] == seen.disclosure
    assert_caching(response, viewer)


def check_read_by_id_and_date(p: Passport, viewer: str, seen: Sees) -> None:
    for number, full in enumerate(p.versions, start=1):
        response = p.get(viewer, f"/v1/dppsByIdAndDate/{enc(p.dpp_id)}", date=full["lastUpdate"])
        assert response.status_code == 200, response.text
        assert_signed_document(p, response.json(), expected_document(full, seen), number)
        assert response.headers["DPP-Disclosure"] == seen.disclosure
        assert_caching(response, viewer)


def check_read_by_product_id_and_date(p: Passport, viewer: str, seen: Sees) -> None:
    for number, full in enumerate(p.versions, start=1):
        path = f"/v1/dppsByProductIdAndDate/{enc(p.product_id)}"
        response = p.get(viewer, path, date=full["lastUpdate"])
        assert response.status_code == 200, response.text
        assert_signed_document(p, response.json(), expected_document(full, seen), number)
        assert response.headers["DPP-Disclosure"] == seen.disclosure
        assert_caching(response, viewer)


def check_history_documents(p: Passport, viewer: str, seen: Sees) -> None:
    response = p.get(viewer, f"{p.dpp}/history", include="documents")
    assert response.status_code == 200, response.text
    records = response.json()["versions"]
    assert len(records) == len(p.versions)
    for number, (record, full) in enumerate(zip(records, p.versions, strict=True), start=1):
        expected = expected_document(full, seen)
        assert record["version"] == number
        assert record["document"] == expected
        assert record["complete"] is seen.complete
        assert record["contentHash"] == jcs_hash(expected)
        claims = assert_discloses(p, record["signature"], document=expected, version=number)
        assert claims["dpp"]["lifecycle"] == record["lifecycle"]
    assert_caching(response, viewer)


ELEMENTS: list[tuple[str, tuple[Any, ...]]] = [
    ("nameplate", ("nameplate",)),
    ("nameplate/ProductName", ("nameplate", "ProductName")),
    ("supplychain", ("supplychain",)),
    ("supplychain/tier1/name", ("supplychain", "tier1", "name")),
    ("manufacture", ("manufacture",)),
    (quote("$.manufacture.process", safe=""), ("manufacture", "process")),
    ("repair", ("repair",)),
    ("repair/spareParts/1", ("repair", "spareParts", 1)),
    ("composition", ("composition",)),
    ("composition/supplierContract", ("composition", "supplierContract")),
    (quote("$['composition']['supplierContract']", safe=""), ("composition", "supplierContract")),
    ("composition/fibres/0/name", ("composition", "fibres", 0, "name")),
    ("economicOperatorId", ("economicOperatorId",)),
    # missing elements: 404 for whoever may read where they would be, refused for whoever may not
    # (so a refusal says nothing about what the passport holds)
    ("supplychain/nope", ("supplychain", "nope")),
    ("manufacture/plant/nope", ("manufacture", "plant", "nope")),
    ("composition/nope", ("composition", "nope")),
    ("composition/fibres/7", ("composition", "fibres", 7)),
    ("nope", ("nope",)),
    # the service's members and the integrity members are not elements of the document
    ("dppAccessPolicy", ("dppAccessPolicy",)),
    ("dppAccessPolicy/elements", ("dppAccessPolicy", "elements")),
    ("dppArtifacts", ("dppArtifacts",)),
    ("dppArtifacts/supplychain", ("dppArtifacts", "supplychain")),
    ("dppArtifacts/supplychain/uri", ("dppArtifacts", "supplychain", "uri")),
    ("dppLifecycle/versionLabel", ("dppLifecycle", "versionLabel")),
    ("contentHash", ("contentHash",)),
    ("signature", ("signature",)),
]


def check_elements(p: Passport, viewer: str, seen: Sees) -> None:
    visible = expected_document(p.stored, seen)
    for raw, path in ELEMENTS:
        response = p.get(viewer, f"{p.dpp}/elements/{raw}")
        value = resolve(visible, path)
        if value is not MISSING:
            assert response.status_code == 200, (raw, response.text)
            assert response.json() == value, raw
            # The body is a bare value: its presentation travels in a header.
            claims = assert_discloses(
                p, response.headers["DPP-Signature"], document=element_claims(visible, path)
            )
            assert resolve(claims["document"], path) == value, raw
            assert_caching(response, viewer)
            continue
        assert "DPP-Signature" not in response.headers, raw
        if resolve(p.stored, path) is not MISSING or rules_forbid(path, seen):
            assert_refused(response, viewer, "ElementRestricted")
        else:
            assert_result(response, 404, "ElementNotFound")


def rules_forbid(path: tuple[Any, ...], seen: Sees) -> bool:
    """Whether the specification above forbids this reader the element at `path`, present or not."""
    members = tuple(itertools.takewhile(lambda segment: isinstance(segment, str), path))
    if not members or members[0] not in CONTENT:
        return False
    if members[0] not in seen.sections:
        return True
    return members[:2] == ("composition", "supplierContract") and not seen.supplier_contract


def check_contract_lite(p: Passport, viewer: str, seen: Sees) -> None:
    response = p.get(viewer, p.view, lite="true")
    assert response.status_code == 200, response.text
    body = response.json()
    sections = {key: value for key, value in body.items() if key.endswith(("Inline", "ByRef"))}
    assert sections == {
        "nameplateInline": p.stored["nameplate"],
        "compositionInline": public_composition(p.stored),
    }
    # The lite view is the public one for every reader, and discloses no references.
    public = expected_document(p.stored, MATRIX["anonymous"])
    assert body["contentHash"] == jcs_hash(public)
    claims = assert_discloses(p, body["signature"], document=public)
    assert body["lifecycle"] == claims["dpp"]["lifecycle"] == p.lifecycle
    assert "accessPolicy" not in body
    assert body["disclosure"]["view"] == "lite"
    assert body["disclosure"]["complete"] is False
    assert_caching(response, viewer)


def check_contract_full(p: Passport, viewer: str, seen: Sees) -> None:
    for params in ({"lite": "false"}, {}):
        response = p.get(viewer, p.view, **params)
        if seen.full_view == 401:
            assert_result(response, 401, "AuthenticationRequired")
            continue
        if seen.full_view == 403:
            assert_result(response, 403, "RoleRequired")
            continue
        assert response.status_code == 200, response.text
        body = response.json()
        visible = expected_document(p.stored, seen)
        references = expected_artifacts(p, seen)
        expected = {f"{key}Inline": visible[key] for key in seen.sections if key in CONTENT}
        expected.update({f"{kind}ByRef": reference for kind, reference in references.items()})
        sections = {key: value for key, value in body.items() if key.endswith(("Inline", "ByRef"))}
        assert sections == expected
        assert body["subject"] == f"{p.product_id}#{LABEL}"
        assert body["issuer"] == OWNER
        assert body["lifecycle"] == p.lifecycle
        policy = PASSPORT_POLICY if seen.policy else None
        assert body.get("accessPolicy") == policy
        assert body["contentHash"] == jcs_hash(visible)
        if seen.complete:
            assert body["contentHash"] == p.content_hash
        claims = assert_discloses(p, body["signature"], document=visible, artifacts=references, policy=policy)
        assert claims["dpp"]["lifecycle"] == p.lifecycle
        assert body["disclosure"]["view"] == "full"
        assert body["disclosure"]["complete"] is seen.complete
        assert body["disclosure"]["signedDocument"].endswith(p.dpp)
        assert_caching(response, viewer)


def check_artifacts(p: Passport, viewer: str, seen: Sees) -> None:
    for kind, (data, media_type) in ARTIFACT_UPLOADS.items():
        response = p.get(viewer, f"{p.view}/artifact/{kind}")
        if kind not in seen.artifacts:
            assert_refused(response, viewer, "ElementRestricted")
            continue
        assert response.status_code == 200, response.text
        body = response.json()
        reference = p.artifacts[kind]
        assert {key: body[key] for key in reference} == reference
        assert body["mediaType"] == media_type
        # The metadata's presentation discloses this one reference, no content.
        assert_discloses(p, body["signature"], document=header(p.stored), artifacts={kind: reference})
        assert response.headers["Cache-Control"] == "private, no-store"
        assert response.headers["Vary"] == "Authorization, Accept"
        download = requests.get(body["downloadUrl"], timeout=30)
        assert download.status_code == 200
        assert download.content == data
    # No artifact of that type: 404 for everyone, restricted section or not.
    assert_result(p.get(viewer, f"{p.view}/artifact/manufacture"), 404, "ArtifactNotFound")
    assert_result(p.get(viewer, f"{p.view}/artifact/repair"), 404, "ArtifactNotFound")


def check_search(p: Passport, viewer: str, seen: Sees) -> None:
    found = p.get(viewer, "/v1/dpp/search", keyword=PUBLIC_WORD)
    assert found.status_code == 200, found.text
    assert_caching(found, viewer)
    (preview,) = found.json()
    assert preview["subject"] == f"{p.product_id}#{LABEL}"
    assert preview["issuer"] == OWNER
    assert preview["litePreview"] == {
        "nameplateInline": p.stored["nameplate"],
        "compositionInline": public_composition(p.stored),
    }
    public = expected_document(p.stored, MATRIX["anonymous"])
    assert preview["contentHash"] == jcs_hash(public)
    assert_discloses(p, preview["signature"], document=public)
    # Words only in restricted content are not indexed at all, whoever asks.
    for keyword in (
        SUPPLY_WORD,
        MANUFACTURE_WORD,
        CONTRACT_WORD,
        REPAIR_WORD,
        f"{PUBLIC_WORD} {SUPPLY_WORD}",
        f"{PUBLIC_WORD} {CONTRACT_WORD}",
    ):
        response = p.get(viewer, "/v1/dpp/search", keyword=keyword)
        assert response.status_code == 200, response.text
        assert response.json() == [], keyword


def check_lifecycle(p: Passport, viewer: str, seen: Sees) -> None:
    response = p.get(viewer, f"{p.dpp}/lifecycle")
    assert response.status_code == 200, response.text
    body = response.json()
    assert {key: value for key, value in body.items() if key != "signature"} == {
        "digitalProductPassportId": p.dpp_id,
        "version": p.head_version,
        "lifecycle": p.lifecycle,
        "labels": p.labels,
    }
    claims = assert_discloses(p, body["signature"], document=header(p.stored))
    assert (claims["dpp"]["lifecycle"], claims["dpp"]["labels"]) == (p.lifecycle, p.labels)
    assert_caching(response, viewer)


def check_artifact_references(p: Passport, viewer: str, seen: Sees) -> None:
    response = p.get(viewer, f"{p.dpp}/artifacts")
    assert response.status_code == 200, response.text
    body = response.json()
    references = expected_artifacts(p, seen)
    assert {key: value for key, value in body.items() if key != "signature"} == {
        "digitalProductPassportId": p.dpp_id,
        "artifacts": references,
    }
    assert_discloses(p, body["signature"], document=header(p.stored), artifacts=references)
    assert_caching(response, viewer)


def check_access_policy(p: Passport, viewer: str, seen: Sees) -> None:
    response = p.get(viewer, f"{p.dpp}/accessPolicy")
    if not seen.policy:
        assert_refused(response, viewer, "ElementRestricted")
        assert not any(rule in response.text for rule in PASSPORT_POLICY["elements"])
        return
    assert response.status_code == 200, response.text
    body = response.json()
    assert {key: value for key, value in body.items() if key != "signature"} == {
        "digitalProductPassportId": p.dpp_id,
        "accessPolicy": PASSPORT_POLICY,
    }
    assert_discloses(p, body["signature"], document=header(p.stored), policy=PASSPORT_POLICY)
    assert_caching(response, viewer)


SURFACES: dict[str, Callable[[Passport, str, Sees], None]] = {
    "dpps": check_read_by_id,
    "dpps-full": check_read_by_id_full_representation,
    "dppsByProductId": check_read_by_product_id,
    "dppsByIdAndDate": check_read_by_id_and_date,
    "dppsByProductIdAndDate": check_read_by_product_id_and_date,
    "history": check_history_documents,
    "elements": check_elements,
    "contract-lite": check_contract_lite,
    "contract-full": check_contract_full,
    "artifact": check_artifacts,
    "search": check_search,
    "lifecycle": check_lifecycle,
    "artifacts": check_artifact_references,
    "accessPolicy": check_access_policy,
}


@pytest.mark.parametrize("surface", list(SURFACES))
@pytest.mark.parametrize("viewer", VIEWERS)
def test_matrix(passport, viewer, surface):
    SURFACES[surface](passport, viewer, MATRIX[viewer])


# -- the table itself ------------------------------------------------------------------------------


def test_the_passport_policy_narrows_but_never_widens(passport):
    """The passport's own policy tries to open `manufacture` to the public and closes
    `composition.supplierContract`: the service's answers, and the decision itself, must keep the
    deployment's rule and take the narrowing (a `may_read` combining the policies with `any`
    would open manufacture: this test fails then)."""
    from shared.access.policy import ANONYMOUS_VIEWER, deployment_policy, may_read, passport_policy

    policies = (deployment_policy(None), passport_policy(PASSPORT_POLICY))
    assert not may_read(("manufacture",), ANONYMOUS_VIEWER, policies)
    assert not may_read(("composition", "supplierContract"), ANONYMOUS_VIEWER, policies)
    assert may_read(("composition", "fibres"), ANONYMOUS_VIEWER, policies)
    for viewer in ("anonymous", "no-roles", "recycler", "repairer", "other-operator"):
        shown = passport.get(viewer, passport.dpp).json()
        assert "manufacture" not in shown, viewer  # the widening changed nothing
        assert "supplierContract" not in shown["composition"], viewer  # the narrowing holds
        assert_refused(
            passport.get(viewer, f"{passport.dpp}/elements/manufacture"), viewer, "ElementRestricted"
        )
    assert "manufacture" in passport.get("authority", passport.dpp).json()


# -- headers across readers ------------------------------------------------------------------------


def test_a_filtered_view_has_its_own_etag_and_the_hash_of_what_it_shows(passport):
    answers = {viewer: passport.get(viewer, passport.dpp) for viewer in VIEWERS}
    for viewer, answer in answers.items():
        shown = {key: value for key, value in answer.json().items() if key not in INTEGRITY}
        assert answer.json()["contentHash"] == jcs_hash(shown), viewer
    # A complete view carries the stored digest; a filtered one the digest of its own document.
    hashes = {viewer: answer.json()["contentHash"] for viewer, answer in answers.items()}
    assert {hashes[viewer] for viewer in VIEWERS if MATRIX[viewer].complete} == {passport.content_hash}
    assert hashes["anonymous"] != passport.content_hash
    # One issuance, presented to each reader: the issuer-signed JWT is the same for all.
    jwts = {answer.json()["signature"].split("~")[0] for answer in answers.values()}
    assert jwts == {passport.signature.split("~")[0]}
    # Same body, same tag; different body, different tag.
    for first in VIEWERS:
        for second in VIEWERS:
            same_body = answers[first].json() == answers[second].json()
            assert (answers[first].headers["ETag"] == answers[second].headers["ETag"]) is same_body
    assert answers["anonymous"].headers["ETag"] != answers["owner"].headers["ETag"]
    assert answers["authority"].headers["ETag"] == answers["owner"].headers["ETag"]
    # A cached filtered copy never passes for the complete one, and vice versa.
    filtered_tag = answers["anonymous"].headers["ETag"]
    complete_tag = answers["owner"].headers["ETag"]
    owner = passport.http.get(
        f"{passport.api}{passport.dpp}", headers={**passport.headers["owner"], "If-None-Match": filtered_tag}
    )
    assert owner.status_code == 200
    assert owner.json() == {
        **passport.stored,
        "contentHash": passport.content_hash,
        "signature": passport.signature,
    }
    anonymous = passport.http.get(f"{passport.api}{passport.dpp}", headers={"If-None-Match": complete_tag})
    assert anonymous.status_code == 200
    public = expected_document(passport.stored, MATRIX["anonymous"])
    assert_signed_document(passport, anonymous.json(), public, passport.head_version)
    same = passport.http.get(
        f"{passport.api}{passport.dpp}",
        headers={**passport.headers["no-roles"], "If-None-Match": filtered_tag},
    )
    assert same.status_code == 304


def test_full_representation_tags_differ_from_compressed_ones(passport):
    for viewer in ("anonymous", "owner"):
        compressed = passport.get(viewer, passport.dpp).headers["ETag"]
        full = passport.get(viewer, passport.dpp, representation="full").headers["ETag"]
        assert compressed != full


def test_disclosure_header_values(passport):
    values = {viewer: passport.get(viewer, passport.dpp).headers["DPP-Disclosure"] for viewer in VIEWERS}
    assert values == {viewer: MATRIX[viewer].disclosure for viewer in VIEWERS}


def test_unrestricted_passport_is_complete_for_everyone(api, http, auth, headers):
    document = make_passport()
    assert http.post(f"{api}/v1/dpps", json=document, headers=auth).status_code == 201
    url = f"{api}/v1/dpps/{enc(document['digitalProductPassportId'])}"
    tags, hashes = set(), set()
    for viewer in VIEWERS:
        response = http.get(url, headers=headers[viewer])
        assert response.status_code == 200
        assert response.headers["DPP-Disclosure"] == "complete"
        tags.add(response.headers["ETag"])
        hashes.add(response.json()["contentHash"])
    assert len(tags) == 1
    assert hashes == {
        jcs_hash({key: value for key, value in response.json().items() if key not in INTEGRITY})
    }


def index_terms(root: Any, dpp_id: str, words: list[str]) -> set[str]:
    """The words the search index itself holds for a passport (read from its partitions, not
    through the search, which could filter what a broken index holds)."""
    from shared.publication.search import normalise
    from shared.storage.cosmos import SEARCH_INDEX

    held = set()
    for word in words:
        for term in normalise(word):
            rows = root.store.query_partition(
                SEARCH_INDEX,
                "SELECT c.dppId FROM c WHERE c.term = @term",
                {"@term": f"kw:{term}"},
                f"kw:{term}",
            )
            if any(row["dppId"] == dpp_id for row in rows):
                held.add(word)
    return held


def test_the_search_index_holds_public_words_only(passport, root):
    """Restricted content must never reach the index (a search index built from the whole
    document makes this test fail, even if the search filtered its hits)."""
    restricted = [SUPPLY_WORD, MANUFACTURE_WORD, CONTRACT_WORD, REPAIR_WORD]
    assert index_terms(root, passport.dpp_id, [PUBLIC_WORD, *restricted]) == {PUBLIC_WORD}


def test_narrowing_the_passport_policy_later_unindexes_and_hides_the_section(api, http, auth, root, derived):
    word = f"zqlater{uuid.uuid4().hex[:12]}"
    document = make_passport(nameplate={"ProductName": f"Shirt {word}"}, composition={"fibres": "cotton"})
    dpp_id, product_id = document["digitalProductPassportId"], document["uniqueProductIdentifier"]
    assert http.post(f"{api}/v1/dpps", json=document, headers=auth).status_code == 201
    derived()
    url = f"{api}/v1/dpps/{enc(dpp_id)}"
    lite = f"{api}/v1/dpp/{enc(product_id)}/v1"

    def found() -> list[dict[str, Any]]:
        response = http.get(f"{api}/v1/dpp/search", params={"keyword": word})
        assert response.status_code == 200, response.text
        return response.json()

    assert len(found()) == 1 and index_terms(root, dpp_id, [word]) == {word}
    narrowed = {"dppAccessPolicy": {"sections": {"nameplate": ["authority"]}}}
    assert http.patch(url, json=narrowed, headers=auth).status_code == 200
    derived()
    assert found() == [] and index_terms(root, dpp_id, [word]) == set()
    assert "nameplate" not in http.get(url).json()
    assert http.get(url).headers["DPP-Disclosure"] == "partial"
    body = http.get(lite, params={"lite": "true"}).json()
    assert "nameplateInline" not in body
    assert body["compositionInline"] == {"fibres": "cotton"}
    # Dropping the passport's policy opens the section again, search included.
    assert http.patch(url, json={"dppAccessPolicy": None}, headers=auth).status_code == 200
    derived()
    assert [preview["subject"] for preview in found()] == [f"{product_id}#v1"]
    assert http.get(url).json()["nameplate"] == {"ProductName": f"Shirt {word}"}


# -- a passport's own policy must be valid -------------------------------------------------------


def test_an_invalid_passport_policy_is_refused_at_creation(api, http, auth):
    document = make_passport(dppAccessPolicy={"sections": {"nameplate": ["wizard"]}})
    assert_result(http.post(f"{api}/v1/dpps", json=document, headers=auth), 400, "InvalidAccessPolicy")
    stored = http.get(f"{api}/v1/dpps/{enc(document['digitalProductPassportId'])}", headers=auth)
    assert_result(stored, 404, "PassportNotFound")


def test_a_refused_create_with_an_invalid_passport_policy_leaves_the_id_usable(api, http, auth):
    # Refused before anything is stored: no stranded version 1 blocks the id afterwards.
    document = make_passport(dppAccessPolicy={"sections": {"nameplate": ["wizard"]}})
    assert_result(http.post(f"{api}/v1/dpps", json=document, headers=auth), 400, "InvalidAccessPolicy")
    fixed = {**document, "dppAccessPolicy": {"sections": {"nameplate": ["authority"]}}}
    response = http.post(f"{api}/v1/dpps", json=fixed, headers=auth)
    assert response.status_code == 201, response.text


def test_a_refused_update_with_an_invalid_passport_policy_leaves_the_passport_writable(
    api, http, auth, create
):
    # Refused before anything is stored: no stranded version N+1 blocks later writes.
    document = create()
    url = f"{api}/v1/dpps/{enc(document['digitalProductPassportId'])}"
    assert_result(
        http.patch(url, json={"dppAccessPolicy": {"default": []}}, headers=auth), 400, "InvalidAccessPolicy"
    )
    assert http.get(f"{url}/accessPolicy", headers=auth).json()["accessPolicy"] is None
    response = http.patch(url, json={"nameplate": {"ManufacturerName": "Fixed"}}, headers=auth)
    assert response.status_code == 200, response.text


def test_a_restricted_element_path_answers_the_same_whether_it_exists_or_not(api, http, create, token):
    """Issue 14's existence oracle: an anonymous reader got 401 for a restricted element that
    exists and 404 for one that does not, learning what the passport holds."""
    from tests.support.documents import enc, make_passport
    from tests.support.results import assert_result

    document = create(make_passport(supplychain={"smelter": "Smelter A"}))
    base = f"{api}/v1/dpps/{enc(document['digitalProductPassportId'])}/elements"
    for path in ("supplychain/smelter", "supplychain/nothing-here", "supplychain"):
        assert_result(http.get(f"{base}/{path}"), 401, "ElementRestricted")
    reader = {"Authorization": f"Bearer {token('repairer', operator=None)}"}
    assert_result(http.get(f"{base}/supplychain/nothing-here", headers=reader), 403, "ElementRestricted")
    assert_result(http.get(f"{base}/nameplate/nothing-here"), 404, "ElementNotFound")  # public: 404
    recycler = {"Authorization": f"Bearer {token('recycler', operator=None)}"}
    assert http.get(f"{base}/supplychain/smelter", headers=recycler).json() == "Smelter A"
    assert_result(http.get(f"{base}/supplychain/nothing-here", headers=recycler), 404, "ElementNotFound")
