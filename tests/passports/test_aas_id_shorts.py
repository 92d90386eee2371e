"""The element API takes the idShorts the AAS export gave keys that are no idShorts: an AAS client
that found `Product_name_<digest>` in the export reads the `Product name` member with it, in the
`/` form and in an idShortPath, the access policy deciding on the member it stands for."""

from __future__ import annotations

import json
from typing import Any

from tests.support.documents import enc, make_passport
from tests.support.results import assert_result


def id_shorts(elements: list[dict[str, Any]]) -> dict[str, str]:
    """The export's idShort of each element, by the key it stands for (its displayName, or itself)."""
    return {
        next(
            (name["text"] for name in element.get("displayName", []) if name["language"] == "en"),
            element["idShort"],
        ): element["idShort"]
        for element in elements
    }


def test_an_exported_id_short_reads_the_member_it_stands_for(api, http, auth, create):
    document = create(
        make_passport(
            nameplate={
                "Product name": [{"value": "Trail shoe", "language": "en"}],
                "Materials": [{"Fibre type": "Cotton"}, {"Fibre type": "Elastane"}],
            },
            **{"Care guide": {"washing °C": 30}},
            supplychain={"supplier name": "Secret Mill"},
        )
    )
    dpp_id = document["digitalProductPassportId"]
    exported = http.get(f"{api}/v1/dpps/{enc(dpp_id)}/aas", headers=auth)
    assert exported.status_code == 200, exported.text
    submodels = {submodel["idShort"]: submodel for submodel in json.loads(exported.content)["submodels"]}
    sections = id_shorts(list(submodels.values()))
    nameplate = id_shorts(submodels["nameplate"]["submodelElements"])
    (materials,) = [e for e in submodels["nameplate"]["submodelElements"] if e["idShort"] == "Materials"]
    fibre = id_shorts(materials["value"][0]["value"])["Fibre type"]
    care = sections["Care guide"]
    washing = id_shorts(submodels[care]["submodelElements"])["washing °C"]
    supplier = id_shorts(submodels["supplychain"]["submodelElements"])["supplier name"]
    assert len({fibre, care, washing, supplier, nameplate["Product name"]}) == 5
    assert not {fibre, care, washing, supplier, nameplate["Product name"]} & {"Fibre type", "Care guide"}

    base = f"{api}/v1/dpps/{enc(dpp_id)}/elements"
    cases = {
        "nameplate/" + nameplate["Product name"]: [{"value": "Trail shoe", "language": "en"}],
        f"nameplate/Materials/1/{fibre}": "Elastane",
        enc(f"nameplate.Materials[1].{fibre}"): "Elastane",
        f"{care}/{enc(washing)}": 30,
        enc(f"{care}.{washing}"): 30,
        enc("Care guide") + "/" + washing: 30,
    }
    for path, expected in cases.items():
        response = http.get(f"{base}/{path}")
        assert response.status_code == 200, (path, response.text)
        assert response.json() == expected, path
    # The policy decides on the member the idShort stands for: supplychain is not for anyone.
    assert_result(http.get(f"{base}/supplychain/{supplier}"), 401, "ElementRestricted")
    assert http.get(f"{base}/supplychain/{supplier}", headers=auth).json() == "Secret Mill"
    # An idShort no member is exported under, or one of another place, names nothing.
    assert_result(http.get(f"{base}/nameplate/{fibre}"), 404, "ElementNotFound")
    assert_result(http.get(f"{base}/nameplate/Product_name_00000000"), 404, "ElementNotFound")


def test_sections_are_named_as_the_export_names_submodels_beside_dpp_metadata_and_artifacts():
    """A section called `DppMetadata` is exported under another idShort (that one is the header's
    submodel's); that idShort names it, and a header field is never read as a section."""
    from shared.documents.element_paths import expand_id_short_paths
    from shared.documents.id_shorts import idshort

    document = {**make_passport(), "DppMetadata": {"a": 1}, "Artifacts": {"b": 2}}
    for section in ("DppMetadata", "Artifacts"):
        short = idshort(section, {"DppMetadata", "Artifacts"})
        assert short != section
        assert (
            expand_id_short_paths(document, [short, "a" if section == "DppMetadata" else "b"])[0] == section
        )
    assert expand_id_short_paths(document, [idshort("nameplate", {"nameplate"}), "x"])[0] != "nameplate"
