"""A write is atomic without transactional batch: a crash between store calls exposes nothing
half-written, and the next writer finishes or discards the interrupted write.

Crashes are simulated by performing only the first store call of a write directly against the
real Cosmos-compatible server, exactly as a writer that died afterwards would have left it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from shared.access.authentication import Principal
from shared.access.roles import OPERATOR
from shared.documents.lifecycle import on_create
from shared.passports.repository import CREATE, UPDATE, Draft, _version_item, carried
from shared.platform.clock import next_ts, now_ts
from shared.platform.errors import Conflict
from shared.storage.cosmos import PASSPORTS, PRODUCTS
from tests.support.documents import OWNER, enc, make_passport
from tests.support.results import assert_result

OWNER_PRINCIPAL = Principal("tester", frozenset({OPERATOR}), OWNER)


@pytest.fixture
def service(root):
    return root.service


def _orphan_version(
    service: Any, document: dict[str, Any], head: dict[str, Any] | None, operation: str
) -> dict:
    """Step one of a write (the version item, issued as a real writer issues it) without step two
    (the head). A create starts the default lifecycle; an update carries the head's envelope."""
    number = head["version"] + 1 if head else 1
    if head is None:
        timestamp = now_ts()
        envelope = {"lifecycle": on_create(None, timestamp), "artifacts": {}, "access_policy": None}
        draft = Draft(document, **envelope, operation=operation, writer="crashed", timestamp=timestamp)
    else:
        timestamp = next_ts(head["ts"])
        draft = Draft(
            **carried(head, document=document), operation=operation, writer="crashed", timestamp=timestamp
        )
    item = _version_item(
        document["digitalProductPassportId"], number, draft, head, service.passports.issuance
    )
    service.passports.store.create(PASSPORTS, item)
    return item


def test_crash_after_version_before_head_exposes_nothing_then_rolls_forward(api, http, auth, service, create):
    document = create()
    dpp_id = document["digitalProductPassportId"]
    url = f"{api}/v1/dpps/{enc(dpp_id)}"
    head = service.passports.head(dpp_id)
    crashed = {**head["document"], "dppStatus": "FromCrashedWriter"}
    _orphan_version(service, crashed, head, UPDATE)

    # readers never see the unpublished version, not even through history
    assert http.get(url).json()["dppStatus"] == "Active"
    history = http.get(f"{api}/v1/dppsByIdAndDate/{enc(dpp_id)}", params={"date": "2999-01-01T00:00:00Z"})
    assert history.json()["dppStatus"] == "Active"

    # the next writer completes the interrupted write first, then applies its own on top
    response = http.patch(url, json={"nameplate": {"Extra": 1}}, headers=auth)
    assert response.status_code == 200
    final = http.get(url).json()
    assert final["dppStatus"] == "FromCrashedWriter"
    assert final["nameplate"]["Extra"] == 1
    assert service.passports.head(dpp_id)["version"] == 3
    # the rolled-forward version is part of the signed chain: 1 -> crashed 2 -> 3
    checked = http.post(f"{api}/v1/verify", json={"dppId": dpp_id}).json()
    assert (checked["valid"], checked["failedChecks"]) == (True, [])
    versions = http.get(f"{api}/v1/dpps/{enc(dpp_id)}/history").json()["versions"]
    assert [(v["version"], v["operation"]) for v in versions] == [(1, "create"), (2, "update"), (3, "update")]
    assert versions[1]["writer"] == "crashed"


def test_crashed_create_is_invisible_and_completed_by_a_retry(api, http, auth, service):
    document = make_passport()
    dpp_id = document["digitalProductPassportId"]
    _orphan_version(service, {**document, "lastUpdate": now_ts()}, None, CREATE)
    assert_result(http.get(f"{api}/v1/dpps/{enc(dpp_id)}"), 404, "PassportNotFound")
    by_product = http.get(f"{api}/v1/dppsByProductId/{enc(document['uniqueProductIdentifier'])}")
    assert_result(by_product, 404, "PassportNotFound")
    by_date = http.get(f"{api}/v1/dppsByIdAndDate/{enc(dpp_id)}", params={"date": "2999-01-01T00:00:00Z"})
    assert_result(by_date, 404, "PassportNotFound")

    # the client retries its create: the interrupted one is finished, so the id now exists
    retry = http.post(f"{api}/v1/dpps", json=document, headers=auth)
    assert_result(retry, 409, "PassportExists")
    assert http.get(f"{api}/v1/dpps/{enc(dpp_id)}").json()["digitalProductPassportId"] == dpp_id
    by_product = http.get(f"{api}/v1/dppsByProductId/{enc(document['uniqueProductIdentifier'])}")
    assert by_product.json()["digitalProductPassportId"] == dpp_id
    # what was finished is the crashed writer's signed version 1, not a new one
    head = service.passports.head(dpp_id)
    assert (head["version"], head["writer"]) == (1, "crashed")
    assert http.post(f"{api}/v1/verify", json={"dppId": dpp_id}).json()["valid"] is True


def test_lookup_written_before_a_crash_points_at_nothing_visible(api, http, auth, service):
    document = make_passport()
    product_id = document["uniqueProductIdentifier"]
    stale = (datetime.now(UTC) - timedelta(minutes=5)).isoformat()
    service.passports.store.create(
        PRODUCTS,
        {
            "id": "lookup",
            "productId": product_id,
            "dppId": "urn:never-finished",
            "previous": [],
            "updatedAt": stale,
        },
    )
    assert_result(http.get(f"{api}/v1/dppsByProductId/{enc(product_id)}"), 404, "PassportNotFound")
    assert http.post(f"{api}/v1/dppsByProductIds", json=[product_id]).json() == {"items": []}
    # a stale claim from a crashed create does not block the product forever
    assert http.post(f"{api}/v1/dpps", json=document, headers=auth).status_code == 201
    assert (
        http.get(f"{api}/v1/dppsByProductId/{enc(product_id)}").json()["digitalProductPassportId"]
        == (document["digitalProductPassportId"])
    )


def test_fresh_claim_by_an_in_flight_create_is_a_retryable_conflict(service):
    document = make_passport()
    service.passports.store.create(
        PRODUCTS,
        {
            "id": "lookup",
            "productId": document["uniqueProductIdentifier"],
            "dppId": "urn:being-created",
            "previous": [],
            "updatedAt": datetime.now(UTC).isoformat(),
        },
    )
    with pytest.raises(Conflict) as raised:
        service.create(document, OWNER_PRINCIPAL)
    assert (raised.value.code, raised.value.headers.get("Retry-After")) == ("ProductHasPassport", "1")
    assert service.passports.head(document["digitalProductPassportId"]) is None


def test_crashed_create_for_a_product_taken_meanwhile_is_discarded(service, api, http, auth):
    document = make_passport()
    dpp_id = document["digitalProductPassportId"]
    _orphan_version(service, {**document, "lastUpdate": now_ts()}, None, CREATE)
    rival = make_passport(uniqueProductIdentifier=document["uniqueProductIdentifier"])
    assert http.post(f"{api}/v1/dpps", json=rival, headers=auth).status_code == 201
    # creating the crashed id again cannot finish the old write (its product is taken): it is discarded
    fresh = make_passport(digitalProductPassportId=dpp_id)
    assert http.post(f"{api}/v1/dpps", json=fresh, headers=auth).status_code == 201
    stored = http.get(f"{api}/v1/dpps/{enc(dpp_id)}").json()
    assert stored["uniqueProductIdentifier"] == fresh["uniqueProductIdentifier"]


def test_concurrent_creates_of_one_id_yield_one_passport(service, api, http, auth):
    from concurrent.futures import ThreadPoolExecutor

    document = make_passport()

    def attempt(_: int) -> int:
        return http.post(f"{api}/v1/dpps", json=document, headers=auth).status_code

    with ThreadPoolExecutor(max_workers=6) as pool:
        statuses = sorted(pool.map(attempt, range(6)))
    assert statuses == [201] + [409] * 5
    assert service.passports.head(document["digitalProductPassportId"])["version"] == 1
