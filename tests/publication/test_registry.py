"""EN 18222 RegisterProductDPP and its durable outbox, over real HTTP and the real Cosmos stand-in,
against a test double of an external DPP registry (tests/doubles/registry.py)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests
from azure.functions.timer import TimerRequest

from tests.doubles.registry import RegistryDouble
from tests.support.documents import OWNER, enc
from tests.support.results import assert_result

REGISTRY_SETTINGS = ("DPP_REGISTRY_URL", "DPP_REGISTRY_MAX_ATTEMPTS", "DPP_REGISTRY_AUTO_REGISTER")
OTHER_OPERATOR = "did:example:operator:someone-else"
Configure = Callable[..., None]


# -- fixtures ------------------------------------------------------------------------------------


@pytest.fixture
def configure(api: str, root: Any, monkeypatch: pytest.MonkeyPatch) -> Configure:
    """Set the registry options of the app under test (DPP_REGISTRY_URL, DPP_REGISTRY_MAX_ATTEMPTS,
    DPP_REGISTRY_AUTO_REGISTER) for this test; none by default, restored afterwards."""
    from shared.publication.registry import RegistryOptions

    defaults = RegistryOptions()

    def apply(url: str | None = None, max_attempts: int | None = None, auto: bool | None = None) -> None:
        options = RegistryOptions(
            url,
            defaults.auto_register if auto is None else auto,
            defaults.max_attempts if max_attempts is None else max_attempts,
        )
        monkeypatch.setattr(root.registry, "options", options)

    apply()
    return apply


@pytest.fixture(autouse=True)
def empty_outbox(api: str, root: Any) -> None:
    """Each test starts with no registrations, so outbox counts are this test's alone."""
    from shared.storage.cosmos import REGISTRATIONS

    store = root.store
    for item in store.query_background(REGISTRATIONS, "SELECT * FROM c", {}):
        store.remove(REGISTRATIONS, item["id"], item["dppId"])


@pytest.fixture
def registry() -> Iterator[RegistryDouble]:
    with RegistryDouble() as double:
        yield double


@pytest.fixture
def post(api: str, http: requests.Session, auth: dict[str, str]) -> Callable[..., requests.Response]:
    """POST /v1/registerDPP (as the owner unless `headers` says otherwise)."""

    def send(body: Any, headers: dict[str, str] | None = None) -> requests.Response:
        return http.post(f"{api}/v1/registerDPP", json=body, headers=auth if headers is None else headers)

    return send


def bearer(token: Callable[..., str], *args: Any, **kwargs: Any) -> dict[str, str]:
    return {"Authorization": f"Bearer {token(*args, **kwargs)}"}


def read(api: str, http: requests.Session, dpp_id: str, headers: dict[str, str]) -> requests.Response:
    return http.get(f"{api}/v1/registrations/{enc(dpp_id)}", headers=headers)


def stored(api: str, http: requests.Session, dpp_id: str, headers: dict[str, str]) -> dict[str, Any]:
    response = read(api, http, dpp_id, headers)
    assert response.status_code == 200, response.text
    return response.json()["registration"]


def rewrite_stored(root: Any, dpp_id: str, changes: Callable[[dict[str, Any]], dict[str, Any]]) -> None:
    """Change a stored registration behind the service's back (a worker's claim, an old record):
    `changes(item)` are the members to set."""
    from shared.publication.registry import REGISTRATION_ID
    from shared.storage.cosmos import REGISTRATIONS, without_system

    item = root.store.read(REGISTRATIONS, REGISTRATION_ID, dpp_id)
    assert item is not None
    root.store.replace(REGISTRATIONS, {**without_system(item), **changes(item)}, item["_etag"])


def body_of(document: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "productId": document["uniqueProductIdentifier"],
        "dppId": document["digitalProductPassportId"],
        **extra,
    }


def error_code(response: requests.Response) -> str:
    """The code of an error answer, once it is checked to be a whole Result object."""
    return assert_result(response, response.status_code)["code"]


def ts(value: str) -> datetime:
    return datetime.strptime(value, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


def ts_text(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def later(**delta: float) -> datetime:
    return datetime.now(UTC) + timedelta(**delta)


@pytest.fixture
def deliver_due(root: Any) -> Callable[..., dict[str, int]]:
    """One run of the outbox of the app under test, at `now`."""

    def run(now: datetime, limit: int = 50) -> dict[str, int]:
        result: dict[str, int] = root.registry.deliver_due(now=now, limit=limit)
        return result

    return run


# -- no registry ---------------------------------------------------------------------------------


def test_without_a_registry_the_registration_is_recorded_locally(
    api: str,
    http: requests.Session,
    auth: dict[str, str],
    create: Callable,
    post: Callable,
    configure: Configure,
) -> None:
    document = create()
    dpp_id = document["digitalProductPassportId"]
    before = datetime.now(UTC) - timedelta(seconds=1)
    response = post(body_of(document))
    assert response.status_code == 201, response.text
    assert response.headers["Location"] == f"{api}/v1/registrations/{enc(dpp_id)}"
    record = response.json()["registration"]
    assert record["state"] == "recorded"
    assert before <= ts(record["registeredAt"]) <= datetime.now(UTC) + timedelta(seconds=1)
    expected_payload = {
        "productId": document["uniqueProductIdentifier"],
        "dppId": dpp_id,
        "endpointUrl": f"{api}/v1/dpps/{enc(dpp_id)}",  # the passport's own URL by default
        "economicOperatorId": OWNER,
        "registeredAt": record["registeredAt"],
    }
    assert record["payload"] == expected_payload
    assert {key: record[key] for key in ("dppId", "productId", "endpointUrl", "economicOperatorId")} == {
        key: expected_payload[key] for key in ("dppId", "productId", "endpointUrl", "economicOperatorId")
    }
    assert record["registryUrl"] is None
    assert (record["attempts"], record["nextAttemptAt"], record["deliveredAt"]) == (0, None, None)
    assert not any(key.startswith("_") for key in record)
    [message] = response.json()["messages"]
    assert message["messageType"] == "Info"
    assert message["code"] == "RegistryNotConfigured"
    assert "DPP_REGISTRY_URL" in message["text"]
    assert message["correlationId"] == response.headers["x-correlation-id"]
    assert stored(api, http, dpp_id, auth) == record

    again = post(body_of(document))
    assert again.status_code == 200
    assert again.json()["registration"] == record


# -- delivery ------------------------------------------------------------------------------------


def test_registry_up_delivers_exactly_the_payload_with_an_idempotency_key(
    api: str,
    http: requests.Session,
    auth: dict[str, str],
    create: Callable,
    post: Callable,
    configure: Configure,
    registry: RegistryDouble,
) -> None:
    configure(url=registry.url)
    document = create()
    dpp_id = document["digitalProductPassportId"]
    endpoint = "https://shop.example.org/passports/polo?x=1"
    # The EN 18223 names are accepted as aliases.
    response = post(
        {
            "uniqueProductIdentifier": document["uniqueProductIdentifier"],
            "digitalProductPassportId": dpp_id,
            "endpointUrl": endpoint,
        }
    )
    assert response.status_code == 201, response.text
    record = response.json()["registration"]
    assert record["state"] == "delivered"
    assert record["attempts"] == 1
    assert record["deliveredAt"] is not None
    assert record["registryUrl"] == registry.url
    assert (record["nextAttemptAt"], record["lastError"]) == (None, None)
    assert response.json()["messages"] == []

    [received] = registry.received()
    assert (received.method, received.path, received.status) == ("POST", "/registry/dpps", 201)
    assert received.body == {
        "productId": document["uniqueProductIdentifier"],
        "dppId": dpp_id,
        "endpointUrl": endpoint,
        "economicOperatorId": OWNER,
        "registeredAt": record["registeredAt"],
    }
    assert set(received.body) == {"productId", "dppId", "endpointUrl", "economicOperatorId", "registeredAt"}
    assert received.headers["content-type"] == "application/json"
    assert len(received.headers["idempotency-key"]) >= 16
    assert stored(api, http, dpp_id, auth)["state"] == "delivered"


def test_same_payload_again_is_200_without_a_second_delivery_and_a_change_is_delivered(
    api: str,
    http: requests.Session,
    auth: dict[str, str],
    create: Callable,
    post: Callable,
    configure: Configure,
    registry: RegistryDouble,
) -> None:
    configure(url=registry.url)
    document = create()
    dpp_id = document["digitalProductPassportId"]
    first = post(body_of(document))
    assert first.status_code == 201, first.text

    again = post(body_of(document))
    assert again.status_code == 200, again.text
    assert again.json()["registration"] == first.json()["registration"]
    assert again.json()["messages"][0]["code"] == "AlreadyRegistered"
    assert len(registry.received(dpp_id)) == 1

    moved = post(body_of(document, endpointUrl="https://moved.example.org/dpp/1"))
    assert moved.status_code == 201, moved.text
    assert moved.json()["registration"]["state"] == "delivered"
    assert moved.json()["registration"]["registeredAt"] >= first.json()["registration"]["registeredAt"]
    one, two = registry.received(dpp_id)
    assert two.body["endpointUrl"] == "https://moved.example.org/dpp/1"
    assert one.headers["idempotency-key"] != two.headers["idempotency-key"]
    assert stored(api, http, dpp_id, auth)["endpointUrl"] == "https://moved.example.org/dpp/1"


def test_registry_outage_loses_nothing(
    api: str,
    http: requests.Session,
    auth: dict[str, str],
    create: Callable,
    post: Callable,
    configure: Configure,
    registry: RegistryDouble,
    deliver_due: Any,
) -> None:
    configure(url=registry.url)
    registry.stop()  # down: connections to its port are refused
    documents = [create() for _ in range(4)]
    for document in documents:
        response = post(body_of(document))
        assert response.status_code == 202, response.text
        record = response.json()["registration"]
        assert record["state"] == "pending"
        assert record["attempts"] == 1
        assert record["lastError"]
        # First retry 30 s after the failed attempt, which came right after registeredAt.
        wait = ts(record["nextAttemptAt"]) - ts(record["registeredAt"])
        assert timedelta(seconds=30) <= wait < timedelta(seconds=40)
        [message] = response.json()["messages"]
        assert (message["messageType"], message["code"]) == ("Warning", "RegistryDeliveryPending")
    assert registry.received() == []

    # Not due yet: the outbox leaves them alone.
    assert deliver_due(now=datetime.now(UTC))["delivered"] == 0

    registry.start()  # back, on the same port
    counts = deliver_due(now=later(minutes=2))
    assert counts["delivered"] == len(documents)
    assert (counts["retried"], counts["failed"]) == (0, 0)
    for document in documents:
        dpp_id = document["digitalProductPassportId"]
        [received] = registry.received(dpp_id)
        record = stored(api, http, dpp_id, auth)
        assert record["state"] == "delivered"
        assert record["attempts"] == 2
        assert received.body == record["payload"]
    # Delivered items are never sent again.
    assert deliver_due(now=later(days=2)) == {"delivered": 0, "retried": 0, "failed": 0, "skipped": 0}
    assert len(registry.received()) == len(documents)


def test_retries_back_off_exponentially_and_are_bounded(
    api: str,
    http: requests.Session,
    auth: dict[str, str],
    create: Callable,
    post: Callable,
    configure: Configure,
    registry: RegistryDouble,
    deliver_due: Any,
) -> None:
    configure(url=registry.url, max_attempts=9)
    registry.fail_next(1000, status=503)
    document = create()
    dpp_id = document["digitalProductPassportId"]
    response = post(body_of(document))
    assert response.status_code == 202, response.text

    moment = datetime.now(UTC)
    # Delay before attempt n+1 is min(30 s * 2**(n-1), 1 h): attempts 2..8 schedule these.
    for attempts, seconds in zip(range(2, 9), (60, 120, 240, 480, 960, 1920, 3600), strict=True):
        moment = max(moment, ts(stored(api, http, dpp_id, auth)["nextAttemptAt"])) + timedelta(seconds=1)
        assert deliver_due(now=moment) == {"delivered": 0, "retried": 1, "failed": 0, "skipped": 0}
        record = stored(api, http, dpp_id, auth)
        assert (record["state"], record["attempts"]) == ("pending", attempts)
        assert record["nextAttemptAt"] == ts_text(moment + timedelta(seconds=seconds))
        assert "503" in record["lastError"]

    moment = ts(record["nextAttemptAt"]) + timedelta(seconds=1)
    assert deliver_due(now=moment) == {"delivered": 0, "retried": 0, "failed": 1, "skipped": 0}
    record = stored(api, http, dpp_id, auth)
    assert (record["state"], record["attempts"], record["nextAttemptAt"]) == ("failed", 9, None)
    assert deliver_due(now=moment + timedelta(days=30))["failed"] == 0

    sent = registry.received(dpp_id)
    assert len(sent) == 9
    assert all(r.status == 503 for r in sent)
    # Every retry of one registration carries the same key, so the registry can deduplicate.
    assert len({r.headers["idempotency-key"] for r in sent}) == 1


def test_inline_attempt_out_of_attempts_is_502(
    create: Callable, post: Callable, configure: Configure, registry: RegistryDouble
) -> None:
    configure(url=registry.url, max_attempts=1)
    registry.fail_next(1, status=429)
    response = post(body_of(create()))
    assert response.status_code == 502, response.text
    assert error_code(response) == "RegistryUnreachable"


def test_permanent_refusal_fails_without_retries(
    api: str,
    http: requests.Session,
    auth: dict[str, str],
    create: Callable,
    post: Callable,
    configure: Configure,
    registry: RegistryDouble,
    deliver_due: Any,
) -> None:
    configure(url=registry.url)
    registry.reject(400)
    document = create()
    dpp_id = document["digitalProductPassportId"]
    response = post(body_of(document))
    assert response.status_code == 502, response.text
    assert error_code(response) == "RegistryRejected"
    record = stored(api, http, dpp_id, auth)
    assert (record["state"], record["attempts"], record["nextAttemptAt"]) == ("failed", 1, None)
    assert "400" in record["lastError"]
    assert deliver_due(now=later(days=1)) == {"delivered": 0, "retried": 0, "failed": 0, "skipped": 0}
    assert len(registry.received(dpp_id)) == 1

    # Refused by the outbox too: one pending item meets a 422 and fails at once.
    registry.stop()
    other = create()
    assert post(body_of(other)).status_code == 202
    registry.start()
    registry.reject(422)
    assert deliver_due(now=later(minutes=5)) == {"delivered": 0, "retried": 0, "failed": 1, "skipped": 0}
    assert stored(api, http, other["digitalProductPassportId"], auth)["state"] == "failed"

    # Registering a failed one again starts over.
    registry.accept()
    again = post(body_of(document))
    assert again.status_code == 201, again.text
    renewed = again.json()["registration"]
    assert (renewed["state"], renewed["attempts"]) == ("delivered", 1)


def test_concurrent_outbox_runs_deliver_each_registration_once(
    create: Callable, post: Callable, configure: Configure, registry: RegistryDouble, deliver_due: Any
) -> None:
    configure(url=registry.url)
    registry.stop()
    ids = []
    for _ in range(8):
        document = create()
        assert post(body_of(document)).status_code == 202
        ids.append(document["digitalProductPassportId"])
    registry.start()

    moment = later(minutes=2)
    start = threading.Barrier(2)
    results: list[dict[str, int]] = []
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            start.wait()
            results.append(deliver_due(now=moment))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert errors == []
    assert sum(result["delivered"] for result in results) == len(ids)
    assert sum(result["retried"] + result["failed"] for result in results) == 0
    for dpp_id in ids:
        assert len(registry.received(dpp_id)) == 1, dpp_id


def test_auto_register_stores_pending_without_sending_and_the_timer_delivers(
    api: str,
    http: requests.Session,
    auth: dict[str, str],
    create: Callable,
    configure: Configure,
    registry: RegistryDouble,
    root: Any,
    app_functions: Any,
) -> None:
    from functions.publication import OUTBOX_SCHEDULE

    auto_register = root.registry.auto_register
    document = create()
    dpp_id = document["digitalProductPassportId"]
    head = root.passports.head(dpp_id)
    endpoint = f"{api}/v1/dpps/{enc(dpp_id)}"

    configure(url=registry.url)  # auto-registration off
    assert auto_register(head, endpoint, "writer-1") is None
    configure(auto=True)  # on, but no registry
    assert auto_register(head, endpoint, "writer-1") is None

    configure(url=registry.url, auto=True)
    record = auto_register(head, endpoint, "writer-1")
    assert record is not None
    assert (record["state"], record["attempts"], record["registeredBy"]) == ("pending", 0, "writer-1")
    assert record["payload"]["endpointUrl"] == endpoint
    assert record["payload"]["productId"] == document["uniqueProductIdentifier"]
    assert registry.received() == []  # no inline attempt
    assert stored(api, http, dpp_id, auth)["state"] == "pending"

    # The timer function the app registers runs the outbox (its schedule: every minute).
    assert OUTBOX_SCHEDULE == "0 */1 * * * *"
    registry_outbox = next(
        function for function in app_functions if function.get_function_name() == "registry_outbox"
    )
    registry_outbox.get_user_function()(TimerRequest(past_due=False))
    [received] = registry.received(dpp_id)
    assert received.body == record["payload"]
    assert stored(api, http, dpp_id, auth)["state"] == "delivered"


# -- refusals ------------------------------------------------------------------------------------


def test_register_needs_a_token_then_the_operator_role_then_ownership(
    create: Callable, post: Callable, token: Callable[..., str], configure: Configure
) -> None:
    document = create()
    body = body_of(document)
    anonymous = post(body, headers={})
    assert anonymous.status_code == 401
    assert error_code(anonymous) == "AuthenticationRequired"
    # Authentication comes before the body is even parsed.
    assert_result(post(["not", "an", "object"], headers={}), 401, "AuthenticationRequired")

    wrong_role = post(body, headers=bearer(token, "recycler"))
    assert (wrong_role.status_code, error_code(wrong_role)) == (403, "RoleRequired")
    other = post(body, headers=bearer(token, "operator", operator=OTHER_OPERATOR))
    assert (other.status_code, error_code(other)) == (403, "NotPassportOwner")


def test_register_unknown_or_deleted_passport_is_404(
    api: str,
    http: requests.Session,
    auth: dict[str, str],
    create: Callable,
    post: Callable,
    configure: Configure,
) -> None:
    unknown = post({"productId": "https://id.example.org/01/none", "dppId": "urn:test:dpp/no-such#p"})
    assert (unknown.status_code, error_code(unknown)) == (404, "PassportNotFound")

    document = create()
    deleted = http.delete(f"{api}/v1/dpps/{enc(document['digitalProductPassportId'])}", headers=auth)
    assert deleted.status_code == 204, deleted.text
    response = post(body_of(document))
    assert (response.status_code, error_code(response)) == (404, "PassportNotFound")


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"productId": None}, "productId"),
        ({"dppId": None}, "dppId"),
        ({"productId": "  "}, "productId"),
        ({"dppId": 42}, "dppId"),
        ({"endpointUrl": "ftp://example.org/dpp"}, "endpointUrl"),
        ({"endpointUrl": "/v1/dpps/relative"}, "endpointUrl"),
        ({"endpointUrl": "not a url"}, "endpointUrl"),
        ({"endpointUrl": "https://"}, "endpointUrl"),
        ({"endpointUrl": ""}, "endpointUrl"),
        ({"endpointUrl": 7}, "endpointUrl"),
        ({"unexpected": 1}, "unexpected"),
        ({"digitalProductPassportId": "urn:other"}, "digitalProductPassportId"),
    ],
)
def test_bad_registration_bodies_are_400_naming_the_field(
    create: Callable, post: Callable, configure: Configure, change: dict[str, Any], field: str
) -> None:
    body = body_of(create())
    for key, value in change.items():
        if value is None:
            del body[key]
        else:
            body[key] = value
    response = post(body)
    assert response.status_code == 400, response.text
    assert error_code(response) == "InvalidRegistration"
    assert field in response.json()["messages"][0]["text"]


def test_body_that_is_not_a_json_object_is_400(
    api: str, http: requests.Session, auth: dict[str, str], post: Callable, configure: Configure
) -> None:
    headers = {**auth, "Content-Type": "application/json"}
    broken = http.post(f"{api}/v1/registerDPP", data=b'{"productId": ', headers=headers)
    assert (broken.status_code, error_code(broken)) == (400, "InvalidJson")
    empty = http.post(f"{api}/v1/registerDPP", data=b"", headers=headers)
    assert_result(empty, 400, "MissingBody")
    array = post([{"productId": "a", "dppId": "b"}])
    assert (array.status_code, error_code(array)) == (400, "InvalidRegistration")


def test_product_mismatch_is_409(create: Callable, post: Callable, configure: Configure) -> None:
    document = create()
    other = create()
    response = post(body_of(document, productId=other["uniqueProductIdentifier"]))
    assert (response.status_code, error_code(response)) == (409, "ProductMismatch")


# -- reading the record --------------------------------------------------------------------------


def test_registration_is_readable_by_owner_and_authority_only(
    api: str,
    http: requests.Session,
    auth: dict[str, str],
    token: Callable[..., str],
    create: Callable,
    post: Callable,
    configure: Configure,
) -> None:
    document = create()
    dpp_id = document["digitalProductPassportId"]
    unregistered = read(api, http, dpp_id, auth)
    assert (unregistered.status_code, error_code(unregistered)) == (404, "RegistrationNotFound")

    created = post(body_of(document))
    assert created.status_code == 201
    record = created.json()["registration"]

    assert stored(api, http, dpp_id, auth) == record
    assert stored(api, http, dpp_id, bearer(token, "authority", operator=None)) == record
    # everyone else is told what an unregistered passport's owner is told
    for headers in (
        {},
        bearer(token, "operator", operator=OTHER_OPERATOR),
        bearer(token, "recycler", operator=None),
    ):
        assert_result(read(api, http, dpp_id, headers), 404, "RegistrationNotFound")
    missing = read(api, http, "urn:test:dpp/none#x", auth)
    assert (missing.status_code, error_code(missing)) == (404, "PassportNotFound")


def test_create_dpp_registers_automatically_when_configured(
    api: str,
    http: requests.Session,
    auth: dict[str, str],
    configure: Configure,
    registry: RegistryDouble,
    deliver_due: Any,
) -> None:
    from tests.support.documents import make_passport

    configure(url=registry.url)  # registry known, automatic registration off
    quiet = make_passport()
    response = http.post(f"{api}/v1/dpps", json=quiet, headers=auth)
    assert (response.status_code, response.headers["DPP-Registration"]) == (201, "off")
    assert_result(read(api, http, quiet["digitalProductPassportId"], auth), 404, "RegistrationNotFound")

    configure(url=registry.url, auto=True)
    document = make_passport()
    dpp_id = document["digitalProductPassportId"]
    response = http.post(f"{api}/v1/dpps", json=document, headers=auth)
    assert (response.status_code, response.headers["DPP-Registration"]) == (201, "pending")
    record = stored(api, http, dpp_id, auth)
    assert record["payload"]["endpointUrl"] == response.headers["Location"]
    assert registry.received() == []  # the create did not wait for the registry
    deliver_due(later(seconds=1))
    [received] = registry.received(dpp_id)
    assert received.body == record["payload"]


def test_a_stuck_registration_whose_worker_died_after_claiming_it_is_delivered_after_its_lease(
    api: str,
    http: requests.Session,
    auth: dict[str, str],
    root: Any,
    create: Callable,
    post: Callable,
    configure: Configure,
    registry: RegistryDouble,
    deliver_due: Any,
) -> None:
    """A worker claims a due registration (its lease) and dies before sending: the outbox (the
    registrations' sweeper) leaves it alone while the lease holds, then delivers it."""
    from shared.publication.registry import LEASE

    configure(url=registry.url)
    registry.fail_next(1, status=503)
    document = create()
    dpp_id = document["digitalProductPassportId"]
    assert post(body_of(document)).status_code == 202
    due = ts(stored(api, http, dpp_id, auth)["nextAttemptAt"]) + timedelta(seconds=1)
    rewrite_stored(root, dpp_id, lambda item: {"leaseUntil": ts_text(due + LEASE)})  # ... and it dies
    assert deliver_due(now=due)["delivered"] == 0  # leased: nobody else sends it twice
    assert deliver_due(now=due + LEASE + timedelta(seconds=1))["delivered"] == 1
    assert stored(api, http, dpp_id, auth)["state"] == "delivered"
    assert len(registry.received(dpp_id)) == 2  # the failed first attempt, then this one


def test_a_registration_that_cannot_be_sent_does_not_stop_the_outbox(
    api: str,
    http: requests.Session,
    auth: dict[str, str],
    root: Any,
    create: Callable,
    post: Callable,
    configure: Configure,
    registry: RegistryDouble,
    deliver_due: Any,
) -> None:
    """Issue 14: a record holding a lone surrogate (stored before bodies were checked for them)
    stopped the outbox run at it, and reading it was a 500."""
    configure(url=registry.url)
    registry.fail_next(2, status=503)
    poison, fine = create(), create()
    for document in (poison, fine):
        assert post(body_of(document)).status_code == 202
    rewrite_stored(
        root,
        poison["digitalProductPassportId"],
        lambda item: {"payload": {**item["payload"], "endpointUrl": "http://x.com/\ud800"}},
    )
    counts = deliver_due(now=later(hours=2))
    assert (counts["delivered"], counts["failed"]) == (1, 1)
    assert stored(api, http, fine["digitalProductPassportId"], auth)["state"] == "delivered"
    failed = read(api, http, poison["digitalProductPassportId"], auth)
    assert failed.status_code == 200, failed.text
    assert failed.json()["registration"]["state"] == "failed"
    assert "cannot be sent" in failed.json()["registration"]["lastError"]
