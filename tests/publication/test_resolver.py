"""The GS1 resolver at the host root: negotiation, linksets (RFC 9264), link types, item → batch →
model fallback, errors as Result objects; short URLs; the consumer page as served."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from tests.support.documents import enc, gtin14, make_passport
from tests.support.gs1 import gs1_verdicts
from tests.support.results import assert_result

VOC = "https://gs1.org/voc/"


def new_gtin() -> str:
    # 9506 is a GS1 company prefix the tests' operator holds.
    return gtin14("09506" + str(uuid.uuid4().int)[:8])


@pytest.fixture(scope="module")
def gs1(api: str, http: Any, auth: dict[str, str]) -> dict[str, Any]:
    """A model passport, and an item passport of another GTIN, both GS1-identified."""
    model_gtin, item_gtin = new_gtin(), new_gtin()
    model = make_passport(
        uniqueProductIdentifier=f"https://id.gs1.org/01/{model_gtin}",
        granularity="Model",
        nameplate={
            "productName": [
                {"value": "Green polo <script>alert(1)</script>", "language": "en"},
                {"value": "Grünes Polo", "language": "de"},
            ],
            "ManufacturerName": "ACME",
        },
        sustainability={"waterUsageLitres": 90},
        supplychain={"tier1": "Spinnerei-Geheim"},
    )
    item = make_passport(uniqueProductIdentifier=f"https://example.com/01/{item_gtin}/21/S-1")
    for document in (model, item):
        assert http.post(f"{api}/v1/dpps", json=document, headers=auth).status_code == 201
    return {
        "base": api.rsplit("/api", 1)[0],
        "model": model,
        "item": item,
        "model_gtin": model_gtin,
        "item_gtin": item_gtin,
    }


def get(http: Any, url: str, **headers: str) -> Any:
    return http.get(url, headers=headers, allow_redirects=False)


def test_accept_picks_the_link_and_the_answer_is_a_redirect(http, gs1):
    url = f"{gs1['base']}/01/{gs1['model_gtin']}"
    dpp_id = gs1["model"]["digitalProductPassportId"]
    expected = {
        "text/html": f"/api/v1/dpps/{enc(dpp_id)}/page",
        "application/json": f"/api/v1/dpps/{enc(dpp_id)}",
        "application/ld+json": "/latest?lite=true",
        "*/*": f"/api/v1/dpps/{enc(dpp_id)}/page",
        "application/json;q=0.5, text/html;q=0.9": "/page",
    }
    for accept, ending in expected.items():
        response = get(http, url, Accept=accept)
        assert response.status_code == 307, (accept, response.text)
        assert (
            response.headers["Location"].split(gs1["base"], 1)[1].endswith(ending)
            or ending in response.headers["Location"]
        )
        assert response.headers["Vary"] == "Accept"  # the link depends on Accept, on nothing else
        assert response.headers["Cache-Control"].startswith("public, max-age=")
        assert 'rel="linkset"' in response.headers["Link"]
        assert response.headers["ETag"].startswith('"')  # strong, so an edge can revalidate it
    followed = http.get(url, headers={"Accept": "application/json"})
    assert followed.json()["digitalProductPassportId"] == dpp_id


def test_the_linkset_follows_rfc_9264_and_the_resolver_standard(http, gs1):
    url = f"{gs1['base']}/01/{gs1['model_gtin']}"
    for response in (get(http, url + "?linkType=linkset"), get(http, url, Accept="application/linkset+json")):
        assert response.status_code == 200
        assert response.headers["Content-Type"].startswith("application/linkset+json")
        assert 'rel="http://www.w3.org/ns/json-ld#context"' in response.headers["Link"]
        assert response.headers["ETag"].startswith('"')
        (context,) = response.json()["linkset"]
        assert context["anchor"] == url
        assert {VOC + "pip", VOC + "dpp", VOC + "sustainabilityInfo", VOC + "defaultLink"} <= set(context)
        assert VOC + "certificationInfo" not in context  # the passport has no certification section
        for relation, targets in context.items():
            if relation == "anchor":
                continue
            assert isinstance(targets, list) and targets
            assert all(
                set(target) <= {"href", "type", "title", "hreflang"} and target["href"].startswith("http")
                for target in targets
            )
        (pip,) = context[VOC + "pip"]
        assert pip["type"] == "text/html" and pip["hreflang"] == ["de", "en"]
        assert [target["type"] for target in context[VOC + "dpp"]] == [
            "application/ld+json",
            "application/json",
        ]
    assert gs1_verdicts([url]) == [True]


def test_link_types_redirect_and_an_unknown_one_gets_the_default(http, gs1):
    url = f"{gs1['base']}/01/{gs1['model_gtin']}"
    page = get(http, url + "?linkType=gs1:pip").headers["Location"]
    assert page.endswith("/page")
    assert get(http, url + "?linkType=gs1:dpp").headers["Location"].endswith("/latest?lite=true")
    assert get(http, url + "?linkType=gs1:sustainabilityInfo").headers["Location"] == page + "#sustainability"
    assert get(http, url + "?linkType=gs1:nonsense").headers["Location"] == page


def test_item_batch_model_fallback_and_errors(http, gs1):
    base, model_gtin, item_gtin = gs1["base"], gs1["model_gtin"], gs1["item_gtin"]
    item = get(http, f"{base}/01/{item_gtin}/21/S-1", Accept="application/json")
    assert (item.headers["DPP-Resolved-Level"], item.status_code) == ("item", 307)
    assert enc(gs1["item"]["digitalProductPassportId"]) in item.headers["Location"]
    fallback = get(http, f"{base}/01/{model_gtin}/10/LOT-9/21/NOPE", Accept="application/json")
    assert fallback.headers["DPP-Resolved-Level"] == "model"
    assert enc(gs1["model"]["digitalProductPassportId"]) in fallback.headers["Location"]
    assert_result(get(http, f"{base}/01/{new_gtin()}"), 404, "PassportNotFound")
    assert_result(
        get(http, f"{base}/01/{item_gtin[:-1]}{(int(item_gtin[-1]) + 1) % 10}"),
        400,
        "InvalidProductIdentifier",
    )
    assert_result(get(http, f"{base}/01/abc"), 400, "InvalidProductIdentifier")
    assert_result(get(http, f"{base}/01/{model_gtin}/21/A/10/B"), 400, "InvalidProductIdentifier")
    # The product is one whatever host its Digital Link URI was written with.
    other_host = http.get(
        f"{base}/api/v1/dppsByProductId/{enc(f'https://elsewhere.example/01/{model_gtin}')}"
    )
    assert other_host.json()["digitalProductPassportId"] == gs1["model"]["digitalProductPassportId"]


def test_the_resolver_describes_itself_and_short_urls_negotiate_too(http, gs1):
    described = http.get(f"{gs1['base']}/.well-known/gs1resolver")
    assert described.status_code == 200 and described.json()["supportedPrimaryKeys"] == ["01"]
    dpp_id = gs1["model"]["digitalProductPassportId"]
    short = f"{gs1['base']}/p/{enc(dpp_id)}"
    assert (
        get(http, short, Accept="application/json")
        .headers["Location"]
        .endswith(f"/api/v1/dpps/{enc(dpp_id)}")
    )
    (context,) = get(http, short + "?linkType=linkset").json()["linkset"]
    assert context["anchor"] == short
    assert_result(get(http, f"{gs1['base']}/p/{enc('urn:nothing')}"), 404, "PassportNotFound")


def test_the_page_escapes_content_picks_the_language_and_withholds_what_the_public_may_not_see(http, gs1):
    page_url = f"{gs1['base']}/api/v1/dpps/{enc(gs1['model']['digitalProductPassportId'])}/page"
    english = http.get(page_url)
    assert english.status_code == 200 and english.headers["Content-Type"].startswith("text/html")
    assert "<script>" not in english.text and "&lt;script&gt;alert(1)&lt;/script&gt;" in english.text
    assert '<html lang="en">' in english.text
    assert "default-src 'none'" in english.headers["Content-Security-Policy"]
    assert "Spinnerei-Geheim" not in english.text
    german = http.get(page_url, headers={"Accept-Language": "de-DE,de;q=0.9,en;q=0.5"})
    assert '<html lang="de">' in german.text and "Grünes Polo" in german.text
    assert german.headers["Content-Language"] == "de" and german.headers["ETag"] != english.headers["ETag"]
    assert english.headers["Vary"] == "Accept-Language"
    assert '<html lang="de">' in http.get(page_url, params={"lang": "de"}).text
    assert http.get(page_url, headers={"If-None-Match": english.headers["ETag"]}).status_code == 304


def test_a_product_that_gets_a_new_passport_resolves_to_it_at_once(api, http, auth, gs1):
    gtin = new_gtin()
    product = f"https://id.gs1.org/01/{gtin}"
    first = make_passport(uniqueProductIdentifier=product)
    assert http.post(f"{api}/v1/dpps", json=first, headers=auth).status_code == 201
    url = f"{gs1['base']}/01/{gtin}"
    assert (
        enc(first["digitalProductPassportId"])
        in get(http, url, Accept="application/json").headers["Location"]
    )
    assert (
        http.delete(f"{api}/v1/dpps/{enc(first['digitalProductPassportId'])}", headers=auth).status_code
        == 204
    )
    assert_result(get(http, url), 404, "PassportNotFound")
    second = make_passport(uniqueProductIdentifier=product)
    assert http.post(f"{api}/v1/dpps", json=second, headers=auth).status_code == 201
    assert (
        enc(second["digitalProductPassportId"])
        in get(http, url, Accept="application/json").headers["Location"]
    )
