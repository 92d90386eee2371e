"""The read-only AAS repository (`/api/aas/`, IDTA-01002 Part 2 v3.0): the IDTA's own server check
(aas-test-engines) passes its read profiles against the app as `make run` serves it (the session's
local host over Azurite and the Cosmos stand-in is the same host `make run` starts); ids, paging,
the access policy and the discovery lookup behave as documented."""

from __future__ import annotations

import base64
import json
import re
from typing import Any

import pytest
from aas_test_engines import api as aas_api
from aas_test_engines import config as aas_config
from aas_test_engines import http as aas_http

from shared.publication.aas_repository import PROFILES
from tests.support.documents import enc, make_passport
from tests.support.results import assert_result

_COLOUR = re.compile(r"\x1b\[[0-9;]*m")


def b64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def shell_id(api: str, dpp_id: str) -> str:
    return f"{api}/v1/dpps/{enc(dpp_id)}/aas"


def submodel_id(api: str, dpp_id: str, short: str) -> str:
    return f"{api}/v1/dpps/{enc(dpp_id)}/submodels/{short}"


@pytest.fixture(scope="module")
def seeded(seed_copy: Any, derived: Any) -> dict[str, Any]:
    """Two copies of the seed passport (paging needs two), listed once derived data caught up."""
    first = seed_copy()
    seed_copy()
    derived()
    return first


def failures(result: Any, trail: tuple[str, ...] = ()) -> list[str]:
    """The checker's findings of level ERROR or worse, each with the steps that led to it."""
    from aas_test_engines.result import Level

    here = (*trail, result.message.strip())
    if result.level in (Level.ERROR, Level.CRITICAL) and not result.sub_results:
        return [" > ".join(here)]
    return [found for sub in result.sub_results for found in failures(sub, here)]


def server_check(api: str, suite: str) -> tuple[bool, str]:
    """aas-test-engines' server check of one profile against the session's host; its failures and
    its whole report (as the checker prints it) when it fails."""
    client = aas_http.HttpClient(f"{api}/aas")
    result, _ = aas_api.execute_tests(client, aas_config.CheckApiConfig(suite=suite))
    report = _COLOUR.sub("", "\n".join(result.to_lines()))
    return result.ok(), "\n".join(failures(result)) + "\n\n" + report


@pytest.mark.parametrize("profile", PROFILES[:2], ids=lambda profile: profile.split("/")[-2])
def test_the_idta_server_check_passes_the_read_profile(api, seeded, profile):
    ok, report = server_check(api, profile)
    assert ok, report


def test_make_runs_host_serves_every_aas_route(api, http, app, seeded):
    """`make run` serves the app through this same local host (local/host, over Azurite and the
    Cosmos stand-in): every /api/aas route is in its route table and answers, the seed's shell
    among the shells."""
    from functions.routes import ROUTE_PREFIX, Route
    from local.host.routing import LocalFunctionsHost

    served = {route.template for route in LocalFunctionsHost(app, ROUTE_PREFIX).routes}
    assert {route.value for route in Route if route.value.startswith("api/aas/")} <= served
    listed = walk(http, f"{api}/aas/shells/$reference", 100)
    assert {
        "type": "ModelReference",
        "keys": [
            {"type": "AssetAdministrationShell", "value": shell_id(api, seeded["digitalProductPassportId"])}
        ],
    } in listed
    for path in (
        "description",
        "shells",
        "submodels",
        "submodels/$metadata",
        "submodels/$value",
        "submodels/$path",
    ):
        assert http.get(f"{api}/aas/{path}").status_code == 200, path


# Pages walked at a small limit: enough for a passport's submodels to span pages.
PREFIX = 12


def walk(http: Any, url: str, limit: int, pages: int = 10_000, **kwargs: Any) -> list[Any]:
    """The items of a listing's first `pages` pages (every item, by default), page by page with
    the cursors it gives."""
    items: list[Any] = []
    cursor = None
    for _ in range(pages):
        params = {"limit": limit, **({"cursor": cursor} if cursor else {})}
        response = http.get(url, params=params, **kwargs)
        assert response.status_code == 200, response.text
        body = response.json()
        assert set(body) == {"paging_metadata", "result"} and len(body["result"]) <= limit
        items.extend(body["result"])
        cursor = body["paging_metadata"].get("cursor")
        if not cursor:
            return items
    if pages < 10_000:
        return items
    raise AssertionError("the listing never ended")


@pytest.fixture(scope="module")
def restricted(api: str, http: Any, auth: dict[str, str], derived: Any) -> dict[str, Any]:
    """A passport with a restricted section (supplychain) and a restricted element inside a public
    one (composition.substancesOfConcern), under the deployment's access policy."""
    document = make_passport(
        composition={"fibre": "cotton", "substancesOfConcern": [{"name": "secret-substance"}]},
        supplychain={"tier1": "restricted-factory-name"},
    )
    response = http.post(f"{api}/v1/dpps", json=document, headers=auth)
    assert response.status_code == 201, response.text
    derived()
    return document


def submodel_url(api: str, dpp_id: str, short: str, rest: str = "") -> str:
    return f"{api}/aas/submodels/{b64(submodel_id(api, dpp_id, short))}{rest}"


def test_a_restricted_element_is_refused_as_the_en_18222_element_read_refuses_it(
    api, http, auth, token, restricted, seeded
):
    dpp_id = restricted["digitalProductPassportId"]
    element = f"{api}/v1/dpps/{enc(dpp_id)}/elements"
    other = {"Authorization": f"Bearer {token('repairer', operator=None)}"}
    cases = [
        (submodel_url(api, dpp_id, "supplychain"), "supplychain"),
        (submodel_url(api, dpp_id, "supplychain", "/$value"), "supplychain"),
        (submodel_url(api, dpp_id, "supplychain", "/submodel-elements/tier1"), "supplychain/tier1"),
        (
            submodel_url(api, dpp_id, "composition", "/submodel-elements/substancesOfConcern"),
            "composition/substancesOfConcern",
        ),
        (
            submodel_url(api, dpp_id, "composition", "/submodel-elements/substancesOfConcern/$value"),
            "composition/substancesOfConcern",
        ),
        # Restricted whether or not it exists, as the element read says.
        (
            submodel_url(api, dpp_id, "composition", "/submodel-elements/substancesOfConcern[7].x"),
            "composition/substancesOfConcern/7/x",
        ),
    ]
    absent = f"{api}/v1/dpps/{enc(seeded['digitalProductPassportId'])}/elements"
    cases += [(submodel_url(api, seeded["digitalProductPassportId"], "supplychain"), absent + "/supplychain")]
    for headers, status in (({}, 401), (other, 403)):
        for aas_url, path in cases:
            expected = http.get(path if path.startswith("http") else f"{element}/{path}", headers=headers)
            assert expected.status_code == status, (path, expected.text)
            assert_result(http.get(aas_url, headers=headers), status, expected.json()["messages"][0]["code"])
    owner = http.get(
        submodel_url(api, dpp_id, "composition", "/submodel-elements/substancesOfConcern/$value"),
        headers=auth,
    )
    assert owner.status_code == 200 and owner.json() == {
        "substancesOfConcern": [{"name": "secret-substance"}]
    }
    public = http.get(submodel_url(api, dpp_id, "composition", "/$value"))
    assert public.status_code == 200 and public.json() == {"fibre": "cotton"}


def test_listings_leave_out_what_the_reader_may_not_see(api, http, auth, restricted):
    dpp_id = restricted["digitalProductPassportId"]
    ours = submodel_id(api, dpp_id, "")
    anonymous = [item for item in walk(http, f"{api}/aas/submodels", 100) if item["id"].startswith(ours)]
    assert sorted(item["idShort"] for item in anonymous) == ["DppMetadata", "composition", "nameplate"]
    assert "secret-substance" not in json.dumps(anonymous) and "restricted-factory" not in json.dumps(
        anonymous
    )
    owner = [
        item for item in walk(http, f"{api}/aas/submodels", 100, headers=auth) if item["id"].startswith(ours)
    ]
    assert sorted(item["idShort"] for item in owner) == [
        "DppMetadata",
        "composition",
        "nameplate",
        "supplychain",
    ]
    shell = http.get(f"{api}/aas/shells/{b64(shell_id(api, dpp_id))}").json()
    assert sorted(ref["keys"][0]["value"].rpartition("/")[2] for ref in shell["submodels"]) == [
        "DppMetadata",
        "composition",
        "nameplate",
    ]
    refs = walk(http, f"{api}/aas/shells/{b64(shell_id(api, dpp_id))}/submodel-refs", 1, headers=auth)
    assert len(refs) == 4


def test_ids_that_are_no_base64url_are_400_and_ids_of_nothing_here_404(api, http, seeded):
    dpp_id = seeded["digitalProductPassportId"]
    for bad in (
        "invalid-base64url=====",
        "a",
        "%25%25",
        "4pyTIMOgIGxh4p2k" + "=" * 3,
        b64("x")[:-1] + "\u00e9",
    ):
        assert_result(http.get(f"{api}/aas/shells/{bad}"), 400, "InvalidIdentifier")
        assert_result(http.get(f"{api}/aas/submodels/{bad}/$value"), 400, "InvalidIdentifier")
    not_utf8 = base64.urlsafe_b64encode(b"\xff\xfe").decode().rstrip("=")
    assert_result(http.get(f"{api}/aas/shells/{not_utf8}"), 400, "InvalidIdentifier")
    assert_result(http.get(f"{api}/aas/lookup/shells", params={"assetIds": "!!"}), 400, "InvalidIdentifier")
    assert_result(
        http.get(f"{api}/aas/lookup/shells", params={"assetIds": b64('["x"]')}), 400, "InvalidParameter"
    )
    passport = f"{api}/v1/dpps/{enc(dpp_id)}"
    lower = passport.replace("%3A", "%3a")  # the same passport, but not the id the export writes
    unknown = [
        f"{api}/v1/dpps/{enc('urn:nobody:dpp:none')}/aas",
        f"{lower}/aas",
        f"{passport}/aas/extra",
        f"{passport}/aasx",
        f"https://elsewhere.example/api/v1/dpps/{enc(dpp_id)}/aas",
        "urn:not-a-url",
    ]
    for identifier in unknown:
        assert_result(http.get(f"{api}/aas/shells/{b64(identifier)}"), 404, "NotFound")
    for identifier in (
        f"{passport}/submodels/nothing",
        f"{lower}/submodels/nameplate",
        f"{passport}/submodels/",
    ):
        assert_result(http.get(f"{api}/aas/submodels/{b64(identifier)}"), 404, "NotFound")
    nameplate = submodel_url(api, dpp_id, "nameplate")
    assert http.get(nameplate).status_code == 200
    assert_result(http.get(f"{nameplate}/submodel-elements/NoSuchElement"), 404, "NotFound")
    assert_result(http.get(f"{nameplate}/submodel-elements/1bad..path"), 400, "InvalidElementPath")
    assert_result(http.get(f"{nameplate}/submodel-elements/ProductName/$path"), 400, "InvalidElementPath")
    other_shell = b64(shell_id(api, "urn:nobody:dpp:none"))
    assert_result(
        http.get(f"{api}/aas/shells/{other_shell}/submodels/{b64(submodel_id(api, dpp_id, 'nameplate'))}"),
        404,
        "NotFound",
    )
    assert_result(http.get(f"{api}/aas/shells", params={"cursor": "bm90LWEtY3Vyc29y"}), 400, "InvalidCursor")
    assert_result(http.get(f"{api}/aas/shells", params={"limit": "0"}), 400, "InvalidLimit")


def test_limit_one_walks_every_shell_once_with_cursors(api, http, auth, seeded, restricted, derived):
    created = [make_passport() for _ in range(3)]
    for document in created:
        assert http.post(f"{api}/v1/dpps", json=document, headers=auth).status_code == 201
    derived()
    gone = created.pop()
    assert (
        http.delete(f"{api}/v1/dpps/{enc(gone['digitalProductPassportId'])}", headers=auth).status_code == 204
    )
    # The session's database holds every passport the suite wrote: the walk at limit=1 covers a
    # prefix of the listing (its cursors chaining page by page), the whole listing is read by 100s.
    ids = [shell["id"] for shell in walk(http, f"{api}/aas/shells", 100)]
    assert len(ids) == len(set(ids))
    assert [shell["id"] for shell in walk(http, f"{api}/aas/shells", 1, pages=PREFIX)] == ids[:PREFIX]
    mine = [seeded, restricted, *created]
    assert {shell_id(api, d["digitalProductPassportId"]) for d in mine} <= set(ids)
    assert shell_id(api, gone["digitalProductPassportId"]) not in ids  # re-read: deleted, never listed
    # Submodels page across passports (a passport's submodels may span pages).
    reference = f"{api}/aas/submodels/$reference"
    every = [item["keys"][0]["value"] for item in walk(http, reference, 100)]
    assert len(every) == len(set(every))
    paged = [item["keys"][0]["value"] for item in walk(http, reference, 2, pages=PREFIX)]
    assert paged == every[: 2 * PREFIX]
    for document in created:
        prefix = submodel_id(api, document["digitalProductPassportId"], "")
        assert sorted(i for i in every if i.startswith(prefix)) == [
            prefix + "DppMetadata",
            prefix + "nameplate",
        ]


def test_the_discovery_lookup_finds_the_shell_of_a_product_id(api, http, seeded):
    product_id = seeded["uniqueProductIdentifier"]
    expected = shell_id(api, seeded["digitalProductPassportId"])

    def lookup(*assets: dict[str, str]) -> Any:
        response = http.get(
            f"{api}/aas/lookup/shells", params={"assetIds": ",".join(b64(json.dumps(a)) for a in assets)}
        )
        assert response.status_code == 200, response.text
        return response.json()

    assert lookup({"name": "globalAssetId", "value": product_id}) == {
        "paging_metadata": {},
        "result": [expected],
    }
    assert lookup({"name": "globalAssetId", "value": product_id + "-none"})["result"] == []
    assert lookup({"name": "serialNumber", "value": product_id})["result"] == []
    filtered = http.get(
        f"{api}/aas/shells",
        params={"assetIds": b64(json.dumps({"name": "globalAssetId", "value": product_id}))},
    ).json()
    assert [shell["id"] for shell in filtered["result"]] == [expected]
    links = http.get(f"{api}/aas/lookup/shells/{b64(expected)}").json()
    assert links == [{"name": "globalAssetId", "value": product_id}]


def test_an_unchanged_answer_is_a_304_to_the_etag_held_and_a_change_a_new_tag(api, http, auth, create):
    document = create(nameplate={"ManufacturerName": "ACME"})
    dpp_id = document["digitalProductPassportId"]
    urls = [
        f"{api}/aas/shells/{b64(shell_id(api, dpp_id))}",
        submodel_url(api, dpp_id, "nameplate"),
        submodel_url(api, dpp_id, "nameplate", "/submodel-elements/ManufacturerName/$value"),
    ]
    held = {}
    for url in urls:
        first = http.get(url)
        assert first.status_code == 200 and first.headers["ETag"], url
        again = http.get(url, headers={"If-None-Match": first.headers["ETag"]})
        assert (again.status_code, again.content) == (304, b""), url
        assert again.headers["ETag"] == first.headers["ETag"]
        held[url] = first.headers["ETag"]
    patched = http.patch(
        f"{api}/v1/dpps/{enc(dpp_id)}",
        json={"nameplate": {"ManufacturerName": "ACME Two"}},
        headers={**auth, "Content-Type": "application/merge-patch+json"},
    )
    assert patched.status_code == 200, patched.text
    for url in urls[1:]:  # the shell names the same submodels: only their content changed
        changed = http.get(url, headers={"If-None-Match": held[url]})
        assert changed.status_code == 200 and changed.headers["ETag"] != held[url], url
    value = http.get(urls[2]).json()
    assert value == {"ManufacturerName": "ACME Two"}
