"""EN 18222 fine granular API: ReadDataElement and UpdateDataElement (PATCH and PUT)."""

from __future__ import annotations

from urllib.parse import quote

import pytest

from tests.support.documents import enc
from tests.support.results import assert_result


def _jsonpath(text: str) -> str:
    return quote(text, safe="")


@pytest.fixture
def sample(api, http, create) -> dict:
    from tests.support.documents import make_passport

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
        assert_result(http.get(f"{base}/{missing}"), 404)
    assert_result(http.get(f"{api}/v1/dpps/unknown-dpp/elements/nameplate"), 404)


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
    assert_result(http.patch(element, json="C", headers={**auth, "If-Match": etag}), 412)
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
