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
from shared.passports.repository import CREATE, UPDATE, Draft, _version_item
from shared.platform.clock import now_ts
from shared.platform.errors import Conflict
from shared.storage.cosmos import PASSPORTS, PRODUCTS
from tests.support.documents import OWNER, enc, make_passport

OWNER_PRINCIPAL = Principal("tester", frozenset({OPERATOR}), OWNER)


@pytest.fixture
def service(root):
    return root.service


def _orphan_version(
    service: Any, document: dict[str, Any], head: dict[str, Any] | None, operation: str
) -> dict:
    """Step one of a write (the version item) without step two (the head)."""
    number = head["version"] + 1 if head else 1
    item = _version_item(
        document["digitalProductPassportId"], number, Draft(document, operation, "crashed", now_ts()), head
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


def test_crashed_create_is_invisible_and_completed_by_a_retry(api, http, auth, service):
    document = make_passport()
    dpp_id = document["digitalProductPassportId"]
    _orphan_version(service, {**document, "lastUpdate": now_ts()}, None, CREATE)
    assert http.get(f"{api}/v1/dpps/{enc(dpp_id)}").status_code == 404
    assert http.get(f"{api}/v1/dppsByProductId/{enc(document['uniqueProductIdentifier'])}").status_code == 404
    assert (
        http.get(
            f"{api}/v1/dppsByIdAndDate/{enc(dpp_id)}", params={"date": "2999-01-01T00:00:00Z"}
        ).status_code
        == 404
    )

    # the client retries its create: the interrupted one is finished, so the id now exists
    retry = http.post(f"{api}/v1/dpps", json=document, headers=auth)
    assert retry.status_code == 409
    assert http.get(f"{api}/v1/dpps/{enc(dpp_id)}").json()["digitalProductPassportId"] == dpp_id
    by_product = http.get(f"{api}/v1/dppsByProductId/{enc(document['uniqueProductIdentifier'])}")
    assert by_product.json()["digitalProductPassportId"] == dpp_id


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
    assert http.get(f"{api}/v1/dppsByProductId/{enc(product_id)}").status_code == 404
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
    assert raised.value.headers.get("Retry-After") == "1"
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
