"""The EN 18222 operations of the passport service over real HTTP against the real local servers:
the life cycle, then the fine granular API (ReadDataElement, UpdateDataElement by PATCH and PUT)."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta, timezone
from urllib.parse import quote

import pytest

from tests.support.documents import OWNER, enc, load_fixture, make_passport
from tests.support.presentations import verified
from tests.support.results import assert_result


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def test_create_returns_201_with_id_location_and_etag(api, http, auth):
    document = make_passport()
    dpp_id = document["digitalProductPassportId"]
    response = http.post(f"{api}/v1/dpps", json=document, headers=auth)
    assert response.status_code == 201
    assert response.json() == {"digitalProductPassportId": dpp_id}
    assert response.headers["Location"] == f"{api}/v1/dpps/{enc(dpp_id)}"
    assert response.headers["ETag"].startswith('"')
    fetched = http.get(response.headers["Location"])
    assert fetched.status_code == 200
    assert fetched.headers["ETag"] == response.headers["ETag"]


def test_ids_with_slash_colon_hash_and_question_mark_are_one_segment(api, http, create):
    for dpp_id in ("urn:a:b/c#d", "https://x.example/dpp/1?v=2#frag", "plain-id", "ünï/cødé:é"):
        document = create(make_passport(digitalProductPassportId=dpp_id))
        body = http.get(f"{api}/v1/dpps/{enc(dpp_id)}").json()
        assert body["digitalProductPassportId"] == dpp_id
        product = http.get(f"{api}/v1/dppsByProductId/{enc(document['uniqueProductIdentifier'])}")
        assert product.json()["digitalProductPassportId"] == dpp_id


def test_reference_sample_round_trips_unchanged_except_server_fields(api, http, root, reference_sample):
    """Unchanged except lastUpdate, with the integrity members the server appends to a response
    (contentHash, signature); the lifecycle is kept beside the document, not in it."""
    sample, _ = reference_sample
    assert sample == load_fixture("reference/basyx-sample-dpp.json")
    dpp_id = sample["digitalProductPassportId"]
    response = http.get(f"{api}/v1/dpps/{enc(dpp_id)}")
    assert response.headers["DPP-Disclosure"] == "complete"
    body = response.json()
    assert body["lastUpdate"] != sample["lastUpdate"]
    server_members = ("lastUpdate", "contentHash", "signature")
    written = {key: value for key, value in sample.items() if key != "lastUpdate"}
    assert {key: value for key, value in body.items() if key not in server_members} == written
    # key order survives too: the document is returned as written, the integrity members last
    assert list(body) == [*sample, "contentHash", "signature"]

    # stored as written: the document in the version item is the sample with the server's lastUpdate
    head = root.passports.head(dpp_id)
    for item in (head, root.passports.version(dpp_id, head["version"])):
        assert item["document"] == {**sample, "lastUpdate": body["lastUpdate"]}
        assert list(item["document"]) == list(sample)

    # the integrity members prove exactly the document returned
    document = {key: value for key, value in body.items() if key not in ("contentHash", "signature")}
    assert body["contentHash"] == head["contentHash"]
    assert verified(body["signature"], http.get(f"{api}/v1/keys").json())["document"] == document

    # created without a lifecycle: published as v1, valid from its creation on
    lifecycle = http.get(f"{api}/v1/dpps/{enc(dpp_id)}/lifecycle").json()
    assert (
        lifecycle["lifecycle"]
        == head["lifecycle"]
        == {
            "versionLabel": "v1",
            "status": "Valid",
            "validFrom": lifecycle["lifecycle"]["validFrom"],
            "validTo": None,
            "supersedes": None,
            "revokedAt": None,
            "revocationReason": None,
        }
    )
    history = http.get(f"{api}/v1/dpps/{enc(dpp_id)}/history").json()["versions"]
    assert lifecycle["lifecycle"]["validFrom"] == history[0]["ts"]
    by_product = http.get(f"{api}/v1/dppsByProductId/{enc(sample['uniqueProductIdentifier'])}").json()
    assert by_product == body


def test_granularity_accepts_any_case_and_is_stored_canonical(api, http, create):
    document = create(granularity="bATCH")
    stored = http.get(f"{api}/v1/dpps/{enc(document['digitalProductPassportId'])}").json()
    assert stored["granularity"] == "Batch"


def test_last_update_is_set_by_the_server_on_every_write(api, http, auth, create):
    document = create(lastUpdate="1999-01-01T00:00:00Z")
    url = f"{api}/v1/dpps/{enc(document['digitalProductPassportId'])}"
    first = http.get(url).json()["lastUpdate"]
    assert first > "2020"
    patched = http.patch(url, json={"dppStatus": "Inactive"}, headers=auth)
    assert patched.status_code == 200
    assert patched.json()["lastUpdate"] > first
    assert patched.json()["dppStatus"] == "Inactive"


def test_merge_patch_semantics_rfc7396(api, http, auth, create):
    document = create(
        nameplate={"Name": "A", "Tags": ["x", "y"], "Nested": {"keep": 1, "change": 2, "drop": 3}},
        extraSection={"k": "v"},
        facilityId="fac-1",
    )
    url = f"{api}/v1/dpps/{enc(document['digitalProductPassportId'])}"
    patch = {
        "nameplate": {"Tags": ["z"], "Nested": {"change": 20, "drop": None, "add": {"deep": True}}},
        "extraSection": None,
        "facilityId": None,
    }
    response = http.patch(url, json=patch, headers={**auth, "Content-Type": "application/merge-patch+json"})
    assert response.status_code == 200, response.text
    stored = http.get(url).json()
    assert stored["nameplate"] == {
        "Name": "A",
        "Tags": ["z"],
        "Nested": {"keep": 1, "change": 20, "add": {"deep": True}},
    }
    assert "extraSection" not in stored
    assert "facilityId" not in stored
    assert response.json() == stored


def test_read_by_product_id_follows_the_lookup(api, http, create):
    document = create()
    response = http.get(f"{api}/v1/dppsByProductId/{enc(document['uniqueProductIdentifier'])}")
    assert response.status_code == 200
    assert response.json()["digitalProductPassportId"] == document["digitalProductPassportId"]
    assert_result(http.get(f"{api}/v1/dppsByProductId/{enc('urn:nothing:here')}"), 404, "PassportNotFound")


def test_full_representation_expands_elements(api, http, create):
    document = create()
    url = f"{api}/v1/dpps/{enc(document['digitalProductPassportId'])}"
    compressed = http.get(url, params={"representation": "compressed"})
    full = http.get(url, params={"representation": "full"})
    assert full.status_code == 200
    body = full.json()
    assert "elements" not in compressed.json()
    assert "nameplate" not in body
    section = body["elements"][0]
    assert section["elementId"] == "nameplate"
    assert section["objectType"] == "DataElementCollection"
    assert section["elements"][0] == {
        "elementId": "ManufacturerName",
        "objectType": "SingleValuedDataElement",
        "valueDataType": "xsd:string",
        "value": "ACME",
    }
    assert full.headers["ETag"] != compressed.headers["ETag"]


def test_etag_and_if_none_match_give_304(api, http, create):
    document = create()
    url = f"{api}/v1/dpps/{enc(document['digitalProductPassportId'])}"
    first = http.get(url)
    again = http.get(url, headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["ETag"] == first.headers["ETag"]
    other = http.get(url, headers={"If-None-Match": '"something-else"'})
    assert other.status_code == 200


def test_if_match_mismatch_gives_412_and_changes_nothing(api, http, auth, create):
    document = create()
    url = f"{api}/v1/dpps/{enc(document['digitalProductPassportId'])}"
    before = http.get(url)
    stale = before.headers["ETag"]
    assert (
        http.patch(url, json={"dppStatus": "Changed"}, headers={**auth, "If-Match": stale}).status_code == 200
    )
    refused = http.patch(url, json={"dppStatus": "Lost"}, headers={**auth, "If-Match": stale})
    assert refused.status_code == 412
    assert refused.json()["messages"][0]["code"] == "PreconditionFailed"
    assert http.get(url).json()["dppStatus"] == "Changed"
    assert_result(http.delete(url, headers={**auth, "If-Match": stale}), 412, "PreconditionFailed")
    assert http.get(url).status_code == 200


def test_concurrent_patches_of_different_fields_lose_nothing(api, http, auth, create, root):
    document = create()
    dpp_id = document["digitalProductPassportId"]
    url = f"{api}/v1/dpps/{enc(dpp_id)}"
    writers = 12

    def patch(index: int) -> int:
        return http.patch(url, json={"nameplate": {f"Field{index}": index}}, headers=auth).status_code

    with ThreadPoolExecutor(max_workers=writers) as pool:
        statuses = list(pool.map(patch, range(writers)))
    assert statuses == [200] * writers
    nameplate = http.get(url).json()["nameplate"]
    for index in range(writers):
        assert nameplate[f"Field{index}"] == index
    # one version per write: create + N patches, each visible at its own timestamp
    head = root.service.read(dpp_id)
    assert head["version"] == writers + 1


def test_version_by_date_before_between_and_after(api, http, auth, create):
    document = create(dppStatus="V1")
    dpp_id, product_id = document["digitalProductPassportId"], document["uniqueProductIdentifier"]
    url = f"{api}/v1/dpps/{enc(dpp_id)}"
    v1_time = http.get(url).json()["lastUpdate"]
    time.sleep(0.02)
    between = _iso(datetime.now(UTC))
    time.sleep(0.02)
    assert http.patch(url, json={"dppStatus": "V2"}, headers=auth).status_code == 200
    v2_time = http.get(url).json()["lastUpdate"]

    def at(moment: str, by_product: bool = False) -> tuple[int, str | None]:
        path = f"dppsByProductIdAndDate/{enc(product_id)}" if by_product else f"dppsByIdAndDate/{enc(dpp_id)}"
        response = http.get(f"{api}/v1/{path}", params={"date": moment})
        if response.status_code == 200:
            return 200, response.json().get("dppStatus")
        return response.status_code, assert_result(response, response.status_code)["code"]

    before = _iso(datetime.fromisoformat(v1_time.replace("Z", "+00:00")) - timedelta(seconds=5))
    for by_product in (False, True):
        assert at(before, by_product) == (404, "PassportNotFound")
        assert at(v1_time, by_product) == (200, "V1")  # inclusive at the exact instant
        assert at(between, by_product) == (200, "V1")
        assert at(v2_time, by_product) == (200, "V2")
        assert at("2999-01-01T00:00:00Z", by_product) == (200, "V2")


def test_version_by_date_applies_the_offset_and_accepts_whole_seconds(api, http, auth, create):
    """The first version's own instant, written with a +05:00 offset, finds the first version; were
    the offset ignored, it would read as five hours later and find the second."""
    document = create()
    url = f"{api}/v1/dpps/{enc(document['digitalProductPassportId'])}"
    patched = http.patch(url, json={"nameplate": {"ManufacturerName": "Second"}}, headers=auth)
    assert patched.status_code == 200, patched.text
    history = http.get(f"{url}/history", headers=auth).json()["versions"]
    first = datetime.fromisoformat(history[0]["lastUpdate"])
    with_offset = first.astimezone(timezone(timedelta(hours=5))).isoformat(timespec="milliseconds")
    by_date = f"{api}/v1/dppsByIdAndDate/{enc(document['digitalProductPassportId'])}"
    found = http.get(by_date, params={"date": with_offset}, headers=auth)
    assert found.status_code == 200, found.text
    assert found.json()["nameplate"]["ManufacturerName"] == document["nameplate"]["ManufacturerName"]
    for value in ("2999-01-01T00:00:00Z", "2999-01-01T01:00:00+01:00"):  # whole seconds, later: the second
        later = http.get(by_date, params={"date": value}, headers=auth).json()
        assert later["nameplate"]["ManufacturerName"] == "Second"


@pytest.mark.parametrize("value", ["0001-01-01T00:00:00+03:00", "9999-12-31T23:59:59-03:00"])
def test_dates_with_an_offset_at_the_range_ends_are_a_400_on_every_path(api, http, auth, create, value):
    document = create()
    dpp_id = document["digitalProductPassportId"]
    assert_result(
        http.get(f"{api}/v1/dppsByIdAndDate/{enc(dpp_id)}", params={"date": value}), 400, "InvalidTimestamp"
    )
    # the document's own problems are reported together as one InvalidPassport; the lifecycle's singly
    for body, code in (
        ({"lastUpdate": value}, "InvalidPassport"),
        ({"dppLifecycle": {"validTo": value}}, "InvalidTimestamp"),
    ):
        assert_result(http.post(f"{api}/v1/dpps", json=make_passport(**body), headers=auth), 400, code)
    patched = http.patch(f"{api}/v1/dpps/{enc(dpp_id)}", json={"lastUpdate": value}, headers=auth)
    assert_result(patched, 400, "InvalidPassport")
    published = http.post(
        f"{api}/v1/dpps/{enc(dpp_id)}/publish", json={"versionLabel": "v2", "validFrom": value}, headers=auth
    )
    assert_result(published, 400, "InvalidTimestamp")


def test_years_before_1000_order_as_dates(api, http, auth, create):
    document = create()
    by_date = f"{api}/v1/dppsByIdAndDate/{enc(document['digitalProductPassportId'])}"
    # Year 999 is before every version: nothing was current then (the current one was returned).
    assert_result(http.get(by_date, params={"date": "0999-01-01T00:00:00Z"}), 404, "PassportNotFound")
    inverted = make_passport(
        dppLifecycle={"validFrom": "1000-01-01T00:00:00Z", "validTo": "0999-06-01T00:00:00Z"}
    )
    assert_result(http.post(f"{api}/v1/dpps", json=inverted, headers=auth), 400, "InvalidLifecycle")
    early = make_passport(
        dppLifecycle={"validFrom": "0999-01-01T00:00:00Z", "validTo": "1000-01-01T00:00:00Z"}
    )
    assert http.post(f"{api}/v1/dpps", json=early, headers=auth).status_code == 201
    lifecycle = http.get(f"{api}/v1/dpps/{enc(early['digitalProductPassportId'])}/lifecycle").json()[
        "lifecycle"
    ]
    assert (lifecycle["validFrom"], lifecycle["validTo"]) == (
        "0999-01-01T00:00:00.000Z",
        "1000-01-01T00:00:00.000Z",
    )


def test_ids_by_product_ids_all_body_forms_and_pagination(api, http, create):
    documents = [create() for _ in range(5)]
    products = [d["uniqueProductIdentifier"] for d in documents]
    expected = [d["digitalProductPassportId"] for d in documents]
    url = f"{api}/v1/dppsByProductIds"
    for body in ({"productIds": products}, products, {"productId": products}):
        response = http.post(url, json=body)
        assert response.status_code == 200
        assert response.json() == {"items": expected}
    unknown = http.post(url, json={"productIds": ["urn:unknown:1", products[0]]}).json()
    assert unknown == {"items": [expected[0]]}

    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        params = {"limit": "2", **({"cursor": cursor} if cursor else {})}
        page = http.post(url, json={"productIds": products}, params=params).json()
        seen.extend(page["items"])
        pages += 1
        cursor = page.get("cursor")
        if cursor is None:
            break
    assert seen == expected
    assert pages == 3
    # a cursor only fits the query it came from
    first = http.post(url, json={"productIds": products}, params={"limit": "2"}).json()
    other = http.post(url, json={"productIds": products[:4]}, params={"cursor": first["cursor"]})
    assert_result(other, 400, "InvalidCursor")


def test_delete_is_soft_and_keeps_the_archive(api, http, auth, token, create):
    document = create()
    dpp_id, product_id = document["digitalProductPassportId"], document["uniqueProductIdentifier"]
    url = f"{api}/v1/dpps/{enc(dpp_id)}"
    before_delete = http.get(url).json()["lastUpdate"]
    assert http.delete(url, headers=auth).status_code == 204
    assert_result(http.get(url), 404, "PassportNotFound")
    assert_result(http.get(f"{api}/v1/dppsByProductId/{enc(product_id)}"), 404, "PassportNotFound")
    assert http.post(f"{api}/v1/dppsByProductIds", json=[product_id]).json() == {"items": []}
    assert_result(http.patch(url, json={"dppStatus": "x"}, headers=auth), 404, "PassportNotFound")
    assert_result(http.delete(url, headers=auth), 404, "PassportNotFound")

    history = f"{api}/v1/dppsByIdAndDate/{enc(dpp_id)}"
    authority = {"Authorization": f"Bearer {token('authority', operator=None)}"}
    stranger = {"Authorization": f"Bearer {token('operator', operator='did:example:someone-else')}"}
    assert (
        http.get(history, params={"date": before_delete}, headers=auth).json()["digitalProductPassportId"]
        == dpp_id
    )
    assert http.get(history, params={"date": before_delete}, headers=authority).status_code == 200
    assert_result(http.get(history, params={"date": before_delete}), 404, "PassportNotFound")
    assert_result(
        http.get(history, params={"date": before_delete}, headers=stranger), 404, "PassportNotFound"
    )
    # after the deletion the passport did not exist, even for its owner
    after = http.get(history, params={"date": "2999-01-01T00:00:00Z"}, headers=auth)
    assert_result(after, 404, "PassportNotFound")
    by_product = f"{api}/v1/dppsByProductIdAndDate/{enc(product_id)}"
    assert http.get(by_product, params={"date": before_delete}, headers=auth).status_code == 200
    # the id stays taken by its archive; the product may get a new passport
    assert_result(http.post(f"{api}/v1/dpps", json=document, headers=auth), 409, "PassportExists")
    successor = make_passport(uniqueProductIdentifier=product_id)
    assert http.post(f"{api}/v1/dpps", json=successor, headers=auth).status_code == 201
    current = http.get(f"{api}/v1/dppsByProductId/{enc(product_id)}").json()
    assert current["digitalProductPassportId"] == successor["digitalProductPassportId"]
    old = http.get(by_product, params={"date": before_delete}, headers=auth).json()
    assert old["digitalProductPassportId"] == dpp_id


def test_second_live_passport_for_a_product_is_a_conflict(api, http, auth, create):
    document = create()
    duplicate = make_passport(uniqueProductIdentifier=document["uniqueProductIdentifier"])
    response = http.post(f"{api}/v1/dpps", json=duplicate, headers=auth)
    assert response.status_code == 409
    assert response.json()["messages"][0]["code"] == "ProductHasPassport"
    assert_result(
        http.get(f"{api}/v1/dpps/{enc(duplicate['digitalProductPassportId'])}"), 404, "PassportNotFound"
    )


def test_owner_is_taken_from_the_document(api, http, token):
    document = make_passport(economicOperatorId="did:example:other-operator")
    mine = {"Authorization": f"Bearer {token('operator', operator=OWNER)}"}
    theirs = {"Authorization": f"Bearer {token('operator', operator='did:example:other-operator')}"}
    assert_result(http.post(f"{api}/v1/dpps", json=document, headers=mine), 403, "NotPassportOwner")
    assert http.post(f"{api}/v1/dpps", json=document, headers=theirs).status_code == 201
    url = f"{api}/v1/dpps/{enc(document['digitalProductPassportId'])}"
    assert_result(http.patch(url, json={"dppStatus": "x"}, headers=mine), 403, "NotPassportOwner")
    assert_result(http.delete(url, headers=mine), 403, "NotPassportOwner")
    assert http.get(url).json()["dppStatus"] == "Active"


def test_retention_rule_refuses_early_deletion_with_409(root):
    import dataclasses

    import pytest

    from shared.access.authentication import Principal
    from shared.access.roles import OPERATOR
    from shared.composition import Root
    from shared.platform.errors import Conflict

    owner = Principal("tester", frozenset({OPERATOR}), OWNER)
    keep_30_days = Root(dataclasses.replace(root.settings, retention_days=30)).service
    document = make_passport()
    dpp_id = document["digitalProductPassportId"]
    keep_30_days.create(document, owner)
    with pytest.raises(Conflict) as refused:
        keep_30_days.delete(dpp_id, owner, None)
    assert refused.value.status == 409
    assert refused.value.code == "RetentionPeriod"
    assert keep_30_days.read(dpp_id)["version"] == 1  # nothing was written
    # the default rule (0 days) allows it
    root.service.delete(dpp_id, owner, None)
    assert root.passports.head(dpp_id)["deleted"] is True


# -- fine granular: data elements ------------------------------------------------------------------


def _jsonpath(text: str) -> str:
    return quote(text, safe="")


@pytest.fixture
def sample(api, http, create) -> dict:
    return create(
        make_passport(
            nameplate={
                "ManufacturerName": "ACME",
                "Materials": [{"name": "Cotton", "share": 0.95}, {"name": "Elastane", "share": 0.05}],
                "odd/name:with#chars": "yes",
                "ProductName": [{"value": "Shirt", "language": "en"}],
            }
        )
    )


def test_read_element_by_normalized_path_and_idshort_path(api, http, sample):
    base = f"{api}/v1/dpps/{enc(sample['digitalProductPassportId'])}/elements"
    cases = {
        _jsonpath("$['nameplate']['ManufacturerName']"): "ACME",
        _jsonpath("$['nameplate']['Materials'][1]['name']"): "Elastane",
        _jsonpath("$.nameplate.Materials[0]"): {"name": "Cotton", "share": 0.95},
        _jsonpath("$['nameplate']['odd/name:with#chars']"): "yes",
        "nameplate/ManufacturerName": "ACME",
        "nameplate/Materials/1/share": 0.05,
        "nameplate/" + enc("odd/name:with#chars"): "yes",
        "dppStatus": "Active",
    }
    for path, expected in cases.items():
        response = http.get(f"{base}/{path}")
        assert response.status_code == 200, (path, response.text)
        assert response.headers["Content-Type"].startswith("application/json")
        assert response.json() == expected, path


def test_read_element_full_representation(api, http, sample):
    base = f"{api}/v1/dpps/{enc(sample['digitalProductPassportId'])}/elements"
    response = http.get(f"{base}/nameplate/ProductName", params={"representation": "full"})
    assert response.json() == {
        "elementId": "ProductName",
        "objectType": "MultiLanguageDataElement",
        "value": [{"value": "Shirt", "language": "en"}],
    }


def test_malformed_path_is_400_and_path_to_nothing_is_404(api, http, sample):
    base = f"{api}/v1/dpps/{enc(sample['digitalProductPassportId'])}/elements"
    for malformed in ("%24%5B", _jsonpath("$['nameplate'"), _jsonpath("$..nameplate"), _jsonpath("$[*]")):
        assert_result(http.get(f"{base}/{malformed}"), 400, "InvalidElementPath")
    for missing in (_jsonpath("$['nameplate']['Nope']"), "nameplate/Materials/7", "nosection"):
        assert_result(http.get(f"{base}/{missing}"), 404, "ElementNotFound")
    assert_result(http.get(f"{api}/v1/dpps/unknown-dpp/elements/nameplate"), 404, "PassportNotFound")


@pytest.mark.parametrize("method", ["PATCH", "PUT"])
def test_update_element_creates_a_version_and_returns_the_element(api, http, auth, sample, method):
    dpp_id = sample["digitalProductPassportId"]
    url = f"{api}/v1/dpps/{enc(dpp_id)}"
    before = http.get(url).json()
    path = _jsonpath("$['nameplate']['Materials'][0]['share']")
    response = http.request(method, f"{url}/elements/{path}", json=0.9, headers=auth)
    assert response.status_code == 200, response.text
    assert response.json() == 0.9
    after = http.get(url).json()
    assert after["nameplate"]["Materials"][0]["share"] == 0.9
    assert after["nameplate"]["Materials"][1] == before["nameplate"]["Materials"][1]
    assert after["lastUpdate"] > before["lastUpdate"]
    assert response.headers["ETag"] == http.get(url).headers["ETag"]
    # the previous version is still there, by date
    old = http.get(f"{api}/v1/dppsByIdAndDate/{enc(dpp_id)}", params={"date": before["lastUpdate"]}).json()
    assert old["nameplate"]["Materials"][0]["share"] == 0.95


def test_update_whole_section_by_idshort(api, http, auth, sample):
    url = f"{api}/v1/dpps/{enc(sample['digitalProductPassportId'])}"
    response = http.put(f"{url}/elements/nameplate", json={"ManufacturerName": "New"}, headers=auth)
    assert response.status_code == 200
    assert http.get(url).json()["nameplate"] == {"ManufacturerName": "New"}


def test_element_update_honours_if_match(api, http, auth, sample):
    url = f"{api}/v1/dpps/{enc(sample['digitalProductPassportId'])}"
    etag = http.get(url).headers["ETag"]
    element = f"{url}/elements/nameplate/ManufacturerName"
    assert http.patch(element, json="B", headers={**auth, "If-Match": etag}).status_code == 200
    assert_result(
        http.patch(element, json="C", headers={**auth, "If-Match": etag}), 412, "PreconditionFailed"
    )
    assert http.get(element).json() == "B"


def test_reference_sample_elements_by_content_specification_key(api, http, reference_sample):
    sample, _ = reference_sample
    dpp_id = sample["digitalProductPassportId"]
    path = _jsonpath(
        "$['https://admin-shell.io/idta/CarbonFootprint/CarbonFootprint/1/0']['ProductCarbonFootprints']"
    )
    response = http.get(f"{api}/v1/dpps/{enc(dpp_id)}/elements/{path}")
    assert response.status_code == 200
    assert response.json()[0]["PcfCo2eq"] == 4180.75


def test_read_element_by_aas_id_short_path(api, http, create):
    """An AAS client's idShortPath (`nameplate.Materials[1].name`) reads the element the JSONPath
    names; a member whose own name holds dots or brackets is found first; restricted parts are
    refused as in the `/` form, and a path to nothing is a 404."""
    document = create(
        make_passport(
            nameplate={
                "Materials": [{"name": "Cotton"}, {"name": "Elastane"}],
                "size.eu": "42",
                "size": {"eu": "not this"},
            },
            supplychain={"supplier": "Secret Mill"},
        )
    )
    base = f"{api}/v1/dpps/{enc(document['digitalProductPassportId'])}/elements"
    cases = {
        enc("nameplate.Materials[1].name"): "Elastane",
        enc("nameplate.Materials[0]"): {"name": "Cotton"},
        "nameplate/" + enc("Materials[1].name"): "Elastane",
        "nameplate/" + enc("size.eu"): "42",
        enc("nameplate.size.eu"): "not this",
    }
    for path, expected in cases.items():
        response = http.get(f"{base}/{path}")
        assert response.status_code == 200, (path, response.text)
        assert response.json() == expected, path
    assert_result(http.get(f"{base}/{enc('supplychain.supplier')}"), 401, "ElementRestricted")
    assert_result(http.get(f"{base}/{enc('nameplate.Materials[2].name')}"), 404, "ElementNotFound")
    assert_result(http.get(f"{base}/{enc('nameplate.Materials[01]')}"), 404, "ElementNotFound")
