"""Relations across providers: two instances of the service, each with its own host, database and
signing key over the local stack. A is the session's app; B is a second one built and served the
same way. An assembly on A names a part on B through B's GS1 resolver; A fetches, verifies against
B's did:web keys, and reports what it found, for as long as B's answers allow.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests

from shared.access.authentication import ANONYMOUS
from shared.publication.relations import GraphQuery
from tests.doubles.web import Answer, WebServer, revalidating
from tests.support.documents import enc, gtin14, make_passport, namespace
from tests.support.ports import free_port
from tests.support.remote import Clock, remote_passports

B_OPERATOR, B_COMPANY = "did:example:provider-b", "9507"


@dataclass
class Provider:
    root: Any
    origin: str  # its public URL, as its DIDs and links name it
    api: str
    headers: dict[str, str]

    def create(self, http: requests.Session, **overrides: Any) -> dict[str, Any]:
        document = make_passport(**overrides)
        response = http.post(f"{self.api}/v1/dpps", json=document, headers=self.headers)
        assert response.status_code == 201, response.text
        return document


@pytest.fixture(scope="module")
def provider_b(
    app_env: dict[str, str], token: Callable[..., str], tmp_path_factory: Any
) -> Iterator[Provider]:
    """A second instance: another database, another signing key, another host (port)."""
    from functions import app_root, create_app
    from functions.routes import API, ROUTE_PREFIX
    from local.host.server import start_in_thread
    from local.run import assign_namespaces
    from shared.integrity.signers import ensure_local_key
    from shared.platform.settings import load_settings

    port = free_port()
    origin = f"http://127.0.0.1:{port}"
    key = ensure_local_key(Path(tmp_path_factory.mktemp("provider-b")) / "signing-key.pem")
    env = {
        **app_env,
        "COSMOS_DATABASE": f"provider-b-{uuid.uuid4().hex[:8]}",
        "DPP_PUBLIC_URL": origin,
        "DPP_SIGNING_KEY_FILE": str(key),
    }
    root = app_root(load_settings(env))
    assign_namespaces(root, B_OPERATOR, [namespace(B_OPERATOR)], [B_COMPANY])
    server, base = start_in_thread(create_app(root), port=port, route_prefix=ROUTE_PREFIX)
    headers = {"Authorization": f"Bearer {token('operator', operator=B_OPERATOR)}"}
    yield Provider(root, origin, f"{base}/{API}", headers)
    server.shutdown()


def b_gtin() -> str:
    return gtin14("0" + B_COMPANY + str(uuid.uuid4().int)[:8])


def part_on_b(provider_b: Provider, http: requests.Session) -> tuple[dict[str, Any], str]:
    """A part passport on B, and its Digital Link URI on B's resolver (what A's operator writes)."""
    gtin = b_gtin()
    part = provider_b.create(
        http, economicOperatorId=B_OPERATOR, uniqueProductIdentifier=f"https://id.gs1.org/01/{gtin}"
    )
    return part, f"{provider_b.origin}/01/{gtin}"


def graph(http: requests.Session, api: str, dpp_id: str, **params: str) -> dict[str, Any]:
    response = http.get(f"{api}/v1/dpps/{enc(dpp_id)}/relations", params=params)
    assert response.status_code == 200, response.text
    return response.json()


def node(result: dict[str, Any], url: str) -> dict[str, Any]:
    return next(found for found in result["nodes"] if found["url"] == url)


def test_an_assembly_on_a_names_a_part_on_b_verified_and_sees_its_revocation(
    api, http, auth, create, provider_b
):
    part, url = part_on_b(provider_b, http)
    assembly = create(relations={"hasPart": [{"target": url, "quantity": 2, "label": "motor"}]})

    first = graph(http, api, assembly["digitalProductPassportId"], direction="out")
    remote = node(first, url)
    assert remote["verification"] == "verified", remote
    assert remote["status"] == "Valid"
    assert (remote["dppId"], remote["productId"]) == (
        part["digitalProductPassportId"],
        part["uniqueProductIdentifier"],
    )
    # B's key, from B's host: the issuer names B's origin and B's operator.
    assert remote["issuer"].startswith("did:web:127.0.0.1%3A" + provider_b.origin.rsplit(":", 1)[1])
    assert remote["issuer"].endswith(enc(B_OPERATOR))
    # The RFC 9901 reference verifier, with the keys of B's DID document alone, agrees.
    from tests.support.presentations import verified

    did = http.get(f"{provider_b.api}/v1/operators/{enc(B_OPERATOR)}/did.json").json()
    assert did["id"] == remote["issuer"]
    keys = {"keys": [method["publicKeyJwk"] for method in did["verificationMethod"]]}
    served = http.get(f"{provider_b.api}/v1/dpps/{enc(part['digitalProductPassportId'])}").json()
    claims = verified(served["signature"], keys)
    assert (claims["dpp"]["id"], claims["dpp"]["lifecycle"]["status"]) == (remote["dppId"], remote["status"])
    assert first["edges"] == [
        {"source": first["nodes"][0]["url"], "target": url, "type": "hasPart", "quantity": 2}
    ]

    revoke = http.post(
        f"{provider_b.api}/v1/dpps/{enc(part['digitalProductPassportId'])}/revoke",
        json={"reason": "recalled"},
        headers=provider_b.headers,
    )
    assert revoke.status_code == 200, revoke.text
    # B serves its EN 18222 documents with `no-cache`: A's cached answer is stale at once, so the
    # next read revalidates and sees the new version.
    after = node(graph(http, api, assembly["digitalProductPassportId"], direction="out"), url)
    assert (after["status"], after["verification"]) == ("Revoked", "verified")


def test_a_tampered_document_on_b_is_reported_unverified(api, http, create, provider_b):
    from shared.passports.repository import HEAD_ID
    from shared.storage.cosmos import PASSPORTS

    part, url = part_on_b(provider_b, http)
    store = provider_b.root.store
    head = store.read(PASSPORTS, HEAD_ID, part["digitalProductPassportId"])
    head["document"]["nameplate"]["ManufacturerName"] = "Someone else"
    store.upsert(PASSPORTS, head)
    served = http.get(f"{provider_b.api}/v1/dpps/{enc(part['digitalProductPassportId'])}").json()
    assert served["nameplate"]["ManufacturerName"] == "Someone else"

    assembly = create(relations={"hasPart": [{"target": url}]})
    remote = node(graph(http, api, assembly["digitalProductPassportId"], direction="out"), url)
    assert remote["verification"] == "unverified"
    assert "content" in remote["reason"]
    # The reference verifier too: the signature holds, but it discloses another document.
    from tests.support.presentations import verified

    did = http.get(f"{provider_b.api}/v1/operators/{enc(B_OPERATOR)}/did.json").json()
    keys = {"keys": [method["publicKeyJwk"] for method in did["verificationMethod"]]}
    disclosed = verified(served["signature"], keys)["document"]
    assert disclosed["nameplate"]["ManufacturerName"] != served["nameplate"]["ManufacturerName"]


def test_an_unreachable_provider_is_reported_without_failing_the_read(api, http, create):
    closed = f"http://127.0.0.1:{free_port()}/01/{b_gtin()}"
    unknown = "https://no-such-provider.invalid/api/v1/dpps/x"
    assembly = create(relations={"hasPart": [{"target": closed}, {"target": unknown}]})
    result = graph(http, api, assembly["digitalProductPassportId"], direction="out")
    for url in (closed, unknown):
        found = node(result, url)
        assert (found["verification"], found["status"]) == ("unreachable", "unknown")
        assert found["reason"]


def test_absolute_urls_of_this_service_are_read_locally_and_indexed(api, http, create, root, derived):
    local_part = create()
    own = root.settings.public_url
    by_url = f"{own}/api/v1/dpps/{enc(local_part['digitalProductPassportId'])}"
    assembly = create(relations={"hasPart": [{"target": by_url}]})
    out = graph(http, api, assembly["digitalProductPassportId"], direction="out")
    (named,) = [found for found in out["nodes"] if found["dppId"] == local_part["digitalProductPassportId"]]
    assert named["verification"] == "local"  # read here, not fetched over HTTP
    derived()
    incoming = graph(http, api, local_part["digitalProductPassportId"], direction="in")
    assert [edge["type"] for edge in incoming["edges"]] == ["hasPart"]


def test_a_redirect_to_loopback_is_refused_when_the_setting_forbids_it(root, app_env, create):
    """A's data under rules that allow one test address (127.0.0.2) but no other loopback one: a
    provider there redirecting to 127.0.0.1 is refused, and 127.0.0.1 is never asked."""
    from shared.composition import Root
    from shared.platform.settings import load_settings

    strict = Root(
        load_settings({**app_env, "DPP_OUTBOUND_ALLOWED_NETWORKS": "127.0.0.2/32"}),
        store=root.store,
        keyring=root.keyring,
        own_routes=root.own_routes,
    )
    with WebServer("127.0.0.2") as elsewhere, WebServer("127.0.0.1") as loopback:
        loopback.script["/dpp"] = Answer(200, b"{}")
        path = f"/01/{gtin14('0950700000001')}"
        elsewhere.script[path] = Answer(307, b"", {"Location": loopback.url("/dpp")})
        target = elsewhere.url(path)
        assembly = create(relations={"hasPart": [{"target": target}]})
        head = strict.passports.head(assembly["digitalProductPassportId"])
        result = strict.relations.graph(head, GraphQuery("out", None, 1), ANONYMOUS, _Links(strict))
        found = node(result, target)
        assert found["verification"] == "unreachable"
        assert "refused" in found["reason"] and "127.0.0.1" in found["reason"]
        assert elsewhere.asked(path) == 1 and loopback.requests == []


class _Links:
    def __init__(self, root: Any):
        self.origin = root.settings.public_url

    def passport(self, dpp_id: str) -> str:
        return f"{self.origin}/api/v1/dpps/{enc(dpp_id)}"


def _b_document(http: requests.Session, provider_b: Provider) -> tuple[dict[str, Any], bytes]:
    part, _ = part_on_b(provider_b, http)
    response = http.get(f"{provider_b.api}/v1/dpps/{enc(part['digitalProductPassportId'])}")
    assert response.status_code == 200
    return part, response.content


def test_answers_are_kept_as_long_as_their_cache_control_allows(http, provider_b):
    from shared.platform.outbound import Budget

    _, body = _b_document(http, provider_b)
    clock = Clock()
    remote = remote_passports(clock)
    with WebServer("127.0.0.2") as copy:
        copy.script["/fresh"] = revalidating(body, '"v1"', "max-age=60")
        copy.script["/unkept"] = Answer(200, body, {"Cache-Control": "no-store"})
        url = copy.url("/fresh")
        first = remote.node(url, Budget(5))
        # B's document served from another host: not B's to vouch for.
        assert first.verification == "unverified" and "not on 127.0.0.2" in str(first.reason)
        clock.advance(30)
        assert remote.node(url, Budget(5)) == first and copy.asked("/fresh") == 1
        clock.advance(31)
        again = remote.node(url, Budget(5))
        assert copy.asked("/fresh") == 2 and copy.requests[-1].headers["if-none-match"] == '"v1"'
        assert (again.verification, again.reason) == (first.verification, first.reason)
        assert again.fetched_at != first.fetched_at
        for _ in range(2):
            remote.node(copy.url("/unkept"), Budget(5))
        assert copy.asked("/unkept") == 2


def test_a_linkset_elsewhere_naming_the_document_on_b_is_followed_and_verified(http, provider_b):
    import json

    from shared.platform.outbound import Budget

    part, _ = part_on_b(provider_b, http)
    document_url = f"{provider_b.api}/v1/dpps/{enc(part['digitalProductPassportId'])}"
    linkset = {
        "linkset": [
            {
                "anchor": "https://id.gs1.org/01/x",
                "https://gs1.org/voc/pip": [{"href": "https://brand.example/p", "type": "text/html"}],
                "https://gs1.org/voc/dpp": [{"href": document_url, "type": "application/json"}],
            }
        ]
    }
    with WebServer("127.0.0.2") as resolver:
        resolver.script["/01/x"] = Answer(
            200, json.dumps(linkset).encode(), {"Content-Type": "application/linkset+json"}
        )
        found = remote_passports(Clock()).node(resolver.url("/01/x"), Budget(5))
    assert (found.verification, found.dpp_id) == ("verified", part["digitalProductPassportId"])


def test_the_fetch_budget_bounds_one_read_and_what_is_past_it_is_listed_unverified(
    root, app_env, create, http, provider_b
):
    from shared.composition import Root
    from shared.platform.settings import load_settings

    tight = Root(
        load_settings({**app_env, "DPP_OUTBOUND_FETCH_BUDGET": "3"}),
        store=root.store,
        keyring=root.keyring,
        own_routes=root.own_routes,
    )
    targets = [part_on_b(provider_b, http)[1] for _ in range(3)]
    assembly = create(relations={"hasPart": [{"target": url} for url in targets]})
    head = tight.passports.head(assembly["digitalProductPassportId"])
    result = tight.relations.graph(head, GraphQuery("out", None, 1), ANONYMOUS, _Links(tight))
    remote = [node(result, url) for url in targets]
    # A part costs three requests (the resolver's redirect, the document, B's DID document).
    assert any("budget" in str(found.get("reason")) for found in remote)
    assert all(found["verification"] == "verified" or "budget" in found["reason"] for found in remote)


@pytest.mark.parametrize(
    ("control", "seconds"),
    [
        ("public, max-age=60", 60),
        ("max-age=999999", 3600),  # capped
        ("public, no-cache", 0),
        ("", 0),
        ("max-age=abc", 0),
        ("no-store", None),
        ("private, max-age=60", None),
    ],
)
def test_freshness_follows_cache_control(control, seconds):
    from shared.publication.remote import freshness

    lasting = freshness({"cache-control": control})
    assert (None if lasting is None else lasting.total_seconds()) == seconds


def _relations_fixture(api, http, auth, create, root, provider_b) -> dict[str, Any]:
    """An assembly naming a valid, a revoked and a superseded passport here, a part on B and a
    product nobody here holds."""
    own = root.settings.public_url
    motor, revoked = create(), create()
    assert http.post(
        f"{api}/v1/dpps/{enc(revoked['digitalProductPassportId'])}/revoke",
        json={"reason": "recall"},
        headers=auth,
    ).ok
    older = create(dppLifecycle={"versionLabel": "v1.0.0"})
    assert http.post(
        f"{api}/v1/dpps/{enc(older['digitalProductPassportId'])}/publish",
        json={"versionLabel": "v1.1.0"},
        headers=auth,
    ).ok
    _, b_url = part_on_b(provider_b, http)
    relations = {
        "hasPart": [
            {"target": motor["uniqueProductIdentifier"], "quantity": 2, "label": "motor"},
            {"target": revoked["uniqueProductIdentifier"], "label": "old pump"},
            {"target": b_url, "label": "battery"},
        ],
        "isSuccessorOf": [{"target": f"{own}/api/v1/dpp/{enc(older['uniqueProductIdentifier'])}/v1.0.0"}],
        "relatedTo": [{"target": "urn:nowhere:manual", "label": "manual"}],
    }
    assembly = create(relations=relations)
    return {"assembly": assembly, "motor": motor, "revoked": revoked, "older": older, "b_url": b_url}


def _lite_rows(api: str, http: requests.Session, document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    view = http.get(
        f"{api}/v1/dpp/{enc(document['uniqueProductIdentifier'])}/latest", params={"lite": "true"}
    )
    assert view.status_code == 200, view.text
    return {row.get("label", row["target"]): row for row in view.json()["relatedPassports"]}


def _eventually(check: Callable[[], bool], seconds: float = 10) -> None:
    import time

    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "not within the time allowed"
        time.sleep(0.1)


def test_views_and_the_page_show_each_relation_and_how_its_target_stands(
    api, http, auth, create, root, provider_b, browser
):
    from selenium.webdriver.common.by import By

    from tests.support.browser import artifact_path, axe_violations

    made = _relations_fixture(api, http, auth, create, root, provider_b)
    rows = _lite_rows(api, http, made["assembly"])
    standing = {name: (row["status"], row["verification"]) for name, row in rows.items()}
    assert standing["motor"] == ("Valid", "local") and rows["motor"]["quantity"] == 2
    assert rows["motor"]["href"].endswith(f"/api/v1/dpps/{enc(made['motor']['digitalProductPassportId'])}")
    assert standing["old pump"] == ("Revoked", "local")
    assert standing["manual"] == ("NotFound", "local") and "href" not in rows["manual"]
    older = next(row for row in rows.values() if row["relation"] == "isSuccessorOf")
    assert (older["status"], older["dppId"]) == ("Superseded", made["older"]["digitalProductPassportId"])
    # B is not waited for: fetched in the background, its standing shows on a later read.
    assert rows["battery"]["href"] == made["b_url"]
    _eventually(lambda: _lite_rows(api, http, made["assembly"])["battery"]["verification"] == "verified")
    assert _lite_rows(api, http, made["assembly"])["battery"]["status"] == "Valid"

    page = f"{api}/v1/dpps/{enc(made['assembly']['digitalProductPassportId'])}/page"
    browser.set_window_size(390, 844)
    browser.get(page)
    section = browser.find_element(By.ID, "relations")
    assert [h.text for h in section.find_elements(By.TAG_NAME, "h3")] == ["Parts", "Successor of", "Related"]
    items = {
        item.find_element(By.CSS_SELECTOR, "a, span").text: item.text
        for item in section.find_elements(By.TAG_NAME, "li")
    }
    assert "\N{MULTIPLICATION SIGN} 2" in items["motor"] and "Valid" in items["motor"]
    assert "Revoked" in items["old pump"]
    assert "signature checked" in items["battery"]
    assert "Not found" in items["manual"]
    assert [v for v in axe_violations(browser) if v["impact"] in ("serious", "critical")] == []
    browser.execute_script("arguments[0].scrollIntoView()", section)
    artifact_path("page-relations-phone.png").write_bytes(browser.get_screenshot_as_png())
    section.find_element(By.LINK_TEXT, "motor").click()
    motor_page = f"/api/v1/dpps/{enc(made['motor']['digitalProductPassportId'])}/page"
    assert browser.current_url.endswith(motor_page)
    assert browser.find_element(By.TAG_NAME, "h1").text == made["motor"]["uniqueProductIdentifier"]


def test_a_redirect_the_provider_lets_be_kept_is_not_asked_again_until_it_expires(http, provider_b):
    from shared.platform.outbound import Budget

    _, body = _b_document(http, provider_b)
    clock = Clock()
    remote = remote_passports(clock)
    with WebServer("127.0.0.2") as provider:
        provider.script["/01/x"] = Answer(307, b"", {"Location": "/doc", "Cache-Control": "max-age=60"})
        provider.script["/doc"] = revalidating(body, '"d1"', "no-cache")
        url = provider.url("/01/x")
        remote.node(url, Budget(5))
        assert (provider.asked("/01/x"), provider.asked("/doc")) == (1, 1)
        clock.advance(1)
        remote.node(url, Budget(5))  # the document is `no-cache`: revalidated, the redirect kept
        assert (provider.asked("/01/x"), provider.asked("/doc")) == (1, 2)
        assert provider.requests[-1].headers["if-none-match"] == '"d1"'
        clock.advance(60)
        remote.node(url, Budget(5))
        assert (provider.asked("/01/x"), provider.asked("/doc")) == (2, 3)


def test_a_lite_view_on_b_is_verified_and_a_tampered_one_is_not(api, http, create, provider_b):
    part, _ = part_on_b(provider_b, http)
    view = f"{provider_b.api}/v1/dpp/{enc(part['uniqueProductIdentifier'])}/latest?lite=true"
    assembly = create(relations={"hasPart": [{"target": view}]})
    found = node(graph(http, api, assembly["digitalProductPassportId"], direction="out"), view)
    assert (found["verification"], found["dppId"]) == ("verified", part["digitalProductPassportId"])

    from shared.passports.repository import HEAD_ID
    from shared.storage.cosmos import PASSPORTS

    other, _ = part_on_b(provider_b, http)
    head = provider_b.root.store.read(PASSPORTS, HEAD_ID, other["digitalProductPassportId"])
    head["document"]["nameplate"]["ManufacturerName"] = "Someone else"
    provider_b.root.store.upsert(PASSPORTS, head)
    tampered = f"{provider_b.api}/v1/dpp/{enc(other['uniqueProductIdentifier'])}/latest?lite=true"
    assembly = create(relations={"hasPart": [{"target": tampered}]})
    found = node(graph(http, api, assembly["digitalProductPassportId"], direction="out"), tampered)
    assert found["verification"] == "unverified" and "content" in found["reason"]
