"""The access policy over real HTTP: every reader (role) against every read surface.

One passport carries a public section, the deployment's restricted sections, a section with one
member restricted by the passport's own `dppAccessPolicy`, a passport-level attempt to WIDEN a
restricted section (which must not widen it), and two artifacts. MATRIX below is the
specification: what each reader sees; every surface must show exactly that.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import pytest
import requests

from tests.support.documents import OWNER, enc, make_passport
from tests.support.results import assert_result

LABEL = "v1.0.0"
SUFFIX = uuid.uuid4().hex[:12]
# Unique words, one per place they appear; only the nameplate's may ever be found by search.
PUBLIC_WORD = f"zqpublic{SUFFIX}"
SUPPLY_WORD = f"zqsupply{SUFFIX}"
MANUFACTURE_WORD = f"zqmanufacture{SUFFIX}"
CONTRACT_WORD = f"zqcontract{SUFFIX}"
REPAIR_WORD = f"zqrepair{SUFFIX}"

CONTENT = ("nameplate", "supplychain", "manufacture", "repair", "composition", "dppAccessPolicy")
ALWAYS_PUBLIC = (
    "digitalProductPassportId",
    "uniqueProductIdentifier",
    "granularity",
    "dppSchemaVersion",
    "dppStatus",
    "lastUpdate",
    "economicOperatorId",
    "contentSpecificationIds",
    "dppLifecycle",
    "contentHash",
    "signature",
)
PASSPORT_POLICY = {
    "elements": {"$.composition.supplierContract": ["authority"]},
    # An attempt to widen the deployment's rule (manufacture -> authority): must change nothing.
    "sections": {"manufacture": ["public"]},
}
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
    sections: frozenset[str]  # content sections
    supplier_contract: bool  # composition.supplierContract (restricted by the passport's own policy)
    artifacts: frozenset[str]  # dppArtifacts.<type>, i.e. <type>ByRef in the JSON-LD full view
    full_view: int  # status of GET /v1/dpp/{productId}/{label}?lite=false
    disclosure: str  # DPP-Disclosure of EN 18222 reads

    @property
    def complete(self) -> bool:
        return self.disclosure == "complete"


# fmt: off
# THE SPECIFICATION. Header fields, dppLifecycle, contentHash and signature: everyone, always.
# Content sections each reader may read:
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
    dpp_id: str
    product_id: str
    stored: dict[str, Any]  # the complete current document (the owner's read)
    versions: list[dict[str, Any]]  # the complete document of every version, oldest first

    def get(self, viewer: str, path: str, **params: Any) -> requests.Response:
        return self.http.get(f"{self.api}{path}", params=params, headers=self.headers[viewer])

    @property
    def dpp(self) -> str:
        return f"/v1/dpps/{enc(self.dpp_id)}"

    @property
    def view(self) -> str:
        return f"/v1/dpp/{enc(self.product_id)}/{enc(LABEL)}"


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


@pytest.fixture(scope="module")
def passport(api, http, auth, headers) -> Passport:
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
    stored = http.get(f"{api}/v1/dpps/{enc(dpp_id)}", headers=auth).json()
    history = http.get(f"{api}/v1/dpps/{enc(dpp_id)}/history?include=documents", headers=auth).json()
    versions = [record["document"] for record in history["versions"]]
    # The ground truth the matrix is applied to: what was written, as stored.
    assert set(stored) == {*ALWAYS_PUBLIC, *CONTENT, "dppArtifacts"}
    assert {key: stored[key] for key in SECTIONS} == SECTIONS
    assert stored["dppAccessPolicy"] == PASSPORT_POLICY
    assert set(stored["dppArtifacts"]) == set(ARTIFACT_UPLOADS)
    assert [sorted(version.get("dppArtifacts", {})) for version in versions] == [
        [],
        ["supplychain"],
        ["composition", "supplychain"],
    ]
    assert versions[-1] == stored
    return Passport(api, http, headers, dpp_id, product_id, stored, versions)


# -- what the specification says a reader sees -------------------------------------------------


def expected_document(full: dict[str, Any], seen: Sees) -> dict[str, Any]:
    shown: dict[str, Any] = {key: full[key] for key in ALWAYS_PUBLIC}
    for key in CONTENT:
        if key in seen.sections:
            shown[key] = full[key]
    if "composition" in shown and not seen.supplier_contract:
        shown["composition"] = {k: v for k, v in full["composition"].items() if k != "supplierContract"}
    readable = {k: v for k, v in full.get("dppArtifacts", {}).items() if k in seen.artifacts}
    # With none readable the member is withheld whole: `{}` would say that artifacts exist.
    if readable:
        shown["dppArtifacts"] = readable
    return shown


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


# -- the surfaces --------------------------------------------------------------------------------


def check_read_by_id(p: Passport, viewer: str, seen: Sees) -> None:
    response = p.get(viewer, p.dpp)
    assert response.status_code == 200, response.text
    assert response.json() == expected_document(p.stored, seen)
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
    assert set(body) - {"elements"} == {key for key in expected if key not in collections}
    composition = {child["elementId"] for child in elements["composition"]["elements"]}
    assert composition == set(expected["composition"])
    assert body["contentHash"] == p.stored["contentHash"]
    assert response.headers["DPP-Disclosure"] == seen.disclosure
    assert_caching(response, viewer)


def check_read_by_product_id(p: Passport, viewer: str, seen: Sees) -> None:
    response = p.get(viewer, f"/v1/dppsByProductId/{enc(p.product_id)}")
    assert response.status_code == 200, response.text
    assert response.json() == expected_document(p.stored, seen)
    assert response.headers["DPP-Disclosure"] == seen.disclosure
    assert_caching(response, viewer)


def check_read_by_id_and_date(p: Passport, viewer: str, seen: Sees) -> None:
    for number, full in enumerate(p.versions, start=1):
        response = p.get(viewer, f"/v1/dppsByIdAndDate/{enc(p.dpp_id)}", date=full["lastUpdate"])
        assert response.status_code == 200, response.text
        assert response.json() == expected_document(full, seen), number
        assert response.headers["DPP-Disclosure"] == seen.disclosure
        assert_caching(response, viewer)


def check_read_by_product_id_and_date(p: Passport, viewer: str, seen: Sees) -> None:
    for number, full in enumerate(p.versions, start=1):
        path = f"/v1/dppsByProductIdAndDate/{enc(p.product_id)}"
        response = p.get(viewer, path, date=full["lastUpdate"])
        assert response.status_code == 200, response.text
        assert response.json() == expected_document(full, seen), number
        assert response.headers["DPP-Disclosure"] == seen.disclosure
        assert_caching(response, viewer)


def check_history_documents(p: Passport, viewer: str, seen: Sees) -> None:
    response = p.get(viewer, f"{p.dpp}/history", include="documents")
    assert response.status_code == 200, response.text
    records = response.json()["versions"]
    assert len(records) == len(p.versions)
    for record, full in zip(records, p.versions, strict=True):
        assert record["document"] == expected_document(full, seen)
        assert record["complete"] is seen.complete
        assert record["contentHash"] == full["contentHash"]
        assert record["signature"] == full["signature"]
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
    ("dppAccessPolicy", ("dppAccessPolicy",)),
    ("dppAccessPolicy/elements", ("dppAccessPolicy", "elements")),
    ("dppArtifacts", ("dppArtifacts",)),
    ("dppArtifacts/supplychain", ("dppArtifacts", "supplychain")),
    ("dppArtifacts/supplychain/uri", ("dppArtifacts", "supplychain", "uri")),
    ("dppArtifacts/composition", ("dppArtifacts", "composition")),
    ("dppLifecycle/versionLabel", ("dppLifecycle", "versionLabel")),
    ("contentHash", ("contentHash",)),
    ("economicOperatorId", ("economicOperatorId",)),
    # missing elements, restricted surroundings or not: 404 for everyone
    ("supplychain/nope", ("supplychain", "nope")),
    ("manufacture/plant/nope", ("manufacture", "plant", "nope")),
    ("composition/nope", ("composition", "nope")),
    ("composition/fibres/7", ("composition", "fibres", 7)),
    ("dppArtifacts/repair", ("dppArtifacts", "repair")),
    ("nope", ("nope",)),
]


def check_elements(p: Passport, viewer: str, seen: Sees) -> None:
    visible = expected_document(p.stored, seen)
    for raw, path in ELEMENTS:
        response = p.get(viewer, f"{p.dpp}/elements/{raw}")
        value = resolve(visible, path)
        if value is not MISSING:
            assert response.status_code == 200, (raw, response.text)
            assert response.json() == value, raw
            assert_caching(response, viewer)
        elif resolve(p.stored, path) is not MISSING:
            assert_refused(response, viewer, "ElementRestricted")
        else:
            assert_result(response, 404, "ElementNotFound")


def check_contract_lite(p: Passport, viewer: str, seen: Sees) -> None:
    response = p.get(viewer, p.view, lite="true")
    assert response.status_code == 200, response.text
    body = response.json()
    sections = {key: value for key, value in body.items() if key.endswith(("Inline", "ByRef"))}
    assert sections == {
        "nameplateInline": p.stored["nameplate"],
        "compositionInline": public_composition(p.stored),
    }
    assert body["contentHash"] == p.stored["contentHash"]
    assert body["signature"] == p.stored["signature"]
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
        expected = {f"{key}Inline": visible[key] for key in seen.sections if key != "dppAccessPolicy"}
        expected.update({f"{kind}ByRef": p.stored["dppArtifacts"][kind] for kind in seen.artifacts})
        sections = {key: value for key, value in body.items() if key.endswith(("Inline", "ByRef"))}
        assert sections == expected
        assert body["subject"] == f"{p.product_id}#{LABEL}"
        assert body["issuer"] == OWNER
        assert body["contentHash"] == p.stored["contentHash"]
        assert body["signature"] == p.stored["signature"]
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
        assert {key: body[key] for key in p.stored["dppArtifacts"][kind]} == p.stored["dppArtifacts"][kind]
        assert body["mediaType"] == media_type
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
}


@pytest.mark.parametrize("surface", list(SURFACES))
@pytest.mark.parametrize("viewer", VIEWERS)
def test_matrix(passport, viewer, surface):
    SURFACES[surface](passport, viewer, MATRIX[viewer])


# -- the table itself ------------------------------------------------------------------------------


def test_the_passport_policy_narrows_but_never_widens():
    # Sanity of the specification against the deployment default (shared/access/access-policy.json).
    for name, seen in MATRIX.items():
        if name not in {"authority", "owner"}:
            assert "manufacture" not in seen.sections, name  # the widening attempt changed nothing
            assert not seen.supplier_contract, name  # the narrowing holds
            assert "dppAccessPolicy" not in seen.sections, name


# -- headers across readers ------------------------------------------------------------------------


def test_a_filtered_view_has_its_own_etag_but_the_signed_hash_of_the_full_document(passport):
    answers = {viewer: passport.get(viewer, passport.dpp) for viewer in VIEWERS}
    hashes = {(r.json()["contentHash"], r.json()["signature"]) for r in answers.values()}
    assert hashes == {(passport.stored["contentHash"], passport.stored["signature"])}
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
    assert owner.json() == passport.stored
    anonymous = passport.http.get(f"{passport.api}{passport.dpp}", headers={"If-None-Match": complete_tag})
    assert anonymous.status_code == 200
    assert anonymous.json() == expected_document(passport.stored, MATRIX["anonymous"])
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
    tags = set()
    for viewer in VIEWERS:
        response = http.get(url, headers=headers[viewer])
        assert response.status_code == 200
        assert response.headers["DPP-Disclosure"] == "complete"
        tags.add(response.headers["ETag"])
    assert len(tags) == 1


def test_narrowing_the_passport_policy_later_unindexes_and_hides_the_section(api, http, auth):
    word = f"zqlater{uuid.uuid4().hex[:12]}"
    document = make_passport(nameplate={"ProductName": f"Shirt {word}"}, composition={"fibres": "cotton"})
    dpp_id, product_id = document["digitalProductPassportId"], document["uniqueProductIdentifier"]
    assert http.post(f"{api}/v1/dpps", json=document, headers=auth).status_code == 201
    url = f"{api}/v1/dpps/{enc(dpp_id)}"
    lite = f"{api}/v1/dpp/{enc(product_id)}/v1"

    def found() -> list[dict[str, Any]]:
        response = http.get(f"{api}/v1/dpp/search", params={"keyword": word})
        assert response.status_code == 200, response.text
        return response.json()

    assert len(found()) == 1
    narrowed = {"dppAccessPolicy": {"sections": {"nameplate": ["authority"]}}}
    assert http.patch(url, json=narrowed, headers=auth).status_code == 200
    assert found() == []
    assert "nameplate" not in http.get(url).json()
    assert http.get(url).headers["DPP-Disclosure"] == "partial"
    body = http.get(lite, params={"lite": "true"}).json()
    assert "nameplateInline" not in body
    assert body["compositionInline"] == {"fibres": "cotton"}
    # Dropping the passport's policy opens the section again, search included.
    assert http.patch(url, json={"dppAccessPolicy": None}, headers=auth).status_code == 200
    assert [preview["subject"] for preview in found()] == [f"{product_id}#v1"]
    assert http.get(url).json()["nameplate"] == {"ProductName": f"Shirt {word}"}


# -- a passport's own policy must be valid -------------------------------------------------------


def test_an_invalid_passport_policy_is_refused_at_creation(api, http, auth):
    document = make_passport(dppAccessPolicy={"sections": {"nameplate": ["wizard"]}})
    assert_result(http.post(f"{api}/v1/dpps", json=document, headers=auth), 400, "InvalidAccessPolicy")
    assert_result(http.get(f"{api}/v1/dpps/{enc(document['digitalProductPassportId'])}", headers=auth), 404)


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
    assert "dppAccessPolicy" not in http.get(url, headers=auth).json()
    response = http.patch(url, json={"nameplate": {"ManufacturerName": "Fixed"}}, headers=auth)
    assert response.status_code == 200, response.text
