"""The AAS export (`GET /api/v1/dpps/{dppId}/aas`): every environment it writes passes the IDTA's
own checker (aas-test-engines' file checks, JSON and AASX), and the Eclipse BaSyx SDK reads it
back to the shell, the DppMetadata submodel and one submodel per content section, of exactly what
the reader may see."""

from __future__ import annotations

import csv
import io
import json
import re
import uuid
import zipfile
from typing import Any

import pytest
from aas_test_engines import file as aas_files
from basyx.aas import model
from basyx.aas.adapter import aasx
from basyx.aas.adapter.json import read_aas_json_file

from shared.publication.aas import DPP_METADATA_SEMANTIC_ID, idshort
from tests.onboarding.test_imports import FIXTURES, delivered_by_the_trigger, upload
from tests.support.documents import enc, gtin14, make_passport
from tests.support.results import assert_result

AASX = "application/asset-administration-shell-package+xml"
ID_SHORT = re.compile(r"^[a-zA-Z][a-zA-Z0-9_-]*[a-zA-Z0-9_]$|^[a-zA-Z]$")


def fetch(
    http: Any, api: str, dpp_id: str, fmt: str | None = None, date: str | None = None, **kwargs: Any
) -> Any:
    params = {name: value for name, value in (("format", fmt), ("date", date)) if value}
    response = http.get(f"{api}/v1/dpps/{enc(dpp_id)}/aas", params=params, **kwargs)
    assert response.status_code == 200, response.text
    return response


def checked_json(data: bytes) -> model.DictIdentifiableStore[model.Identifiable]:
    """The AAS JSON after aas-test-engines passed it, as BaSyx reads it (not failsafe: strict)."""
    result = aas_files.check_json_file(io.StringIO(data.decode("utf-8")))
    assert result.ok(), "\n".join(result.to_lines())
    return read_aas_json_file(io.StringIO(data.decode("utf-8")), failsafe=False)


def checked_aasx(data: bytes) -> model.DictIdentifiableStore[model.Identifiable]:
    result = aas_files.check_aasx_file(io.BytesIO(data))
    assert result.ok(), "\n".join(result.to_lines())
    store: model.DictIdentifiableStore[model.Identifiable] = model.DictIdentifiableStore()
    with aasx.AASXReader(io.BytesIO(data), failsafe=False) as reader:
        reader.read_into(store, aasx.DictSupplementaryFileContainer())
    return store


def exported(
    http: Any, api: str, dpp_id: str, **kwargs: Any
) -> list[model.DictIdentifiableStore[model.Identifiable]]:
    """The environment as AAS JSON (the default format) and as AASX, each checked and read back."""
    as_json = fetch(http, api, dpp_id, **kwargs)
    assert as_json.headers["Content-Type"].startswith("application/json")
    assert fetch(http, api, dpp_id, "json", **kwargs).headers["ETag"] == as_json.headers["ETag"]
    package = fetch(http, api, dpp_id, "aasx", **kwargs)
    assert package.headers["Content-Type"] == AASX
    assert package.headers["Content-Disposition"].startswith("attachment; filename=")
    return [checked_json(as_json.content), checked_aasx(package.content)]


def parts(
    store: model.DictIdentifiableStore[model.Identifiable],
) -> tuple[model.AssetAdministrationShell, dict[str, model.Submodel]]:
    (shell,) = [item for item in store if isinstance(item, model.AssetAdministrationShell)]
    submodels = {item.id_short: item for item in store if isinstance(item, model.Submodel)}
    assert {reference.get_identifier() for reference in shell.submodel} == {s.id for s in submodels.values()}
    return shell, submodels


def semantic_id(element: model.HasSemantics) -> str | None:
    return element.semantic_id.key[0].value if element.semantic_id else None


def values(collection: Any) -> dict[str, Any]:
    return {element.id_short: element for element in collection}


@pytest.fixture(scope="module")
def seeded(seed_copy: Any) -> dict[str, Any]:
    return seed_copy()


def test_the_seeded_passport_exports_as_a_valid_environment_basyx_reads_back(api, http, seeded):
    for store in exported(http, api, seeded["digitalProductPassportId"]):
        shell, submodels = parts(store)
        info = shell.asset_information
        assert info.global_asset_id == seeded["uniqueProductIdentifier"]
        assert info.asset_kind == model.AssetKind.TYPE  # granularity Model
        assert not info.specific_asset_id  # a URN: no Digital Link URI
        sections = ["nameplate", "composition", "certification", "sustainability"]
        assert sorted(submodels) == sorted(["DppMetadata", *sections])
        metadata = submodels["DppMetadata"]
        assert semantic_id(metadata) == DPP_METADATA_SEMANTIC_ID
        header = values(metadata.submodel_element)
        for name in ("digitalProductPassportId", "uniqueProductIdentifier", "dppStatus", "facilityId"):
            assert header[name].value == seeded[name]
        assert header["lastUpdate"].value_type is model.datatypes.DateTime
        specs = [item.value for item in header["contentSpecificationIds"].value]
        assert specs == seeded["contentSpecificationIds"]
        for section, spec in zip(sections, seeded["contentSpecificationIds"], strict=True):
            assert semantic_id(submodels[section]) == spec
        nameplate = values(submodels["nameplate"].submodel_element)
        assert isinstance(nameplate["ProductName"], model.MultiLanguageProperty)
        assert nameplate["ProductName"].value["de-DE"] == "PierrieCardin Poloshirt - Gruen, Groesse M"
        materials = values(submodels["composition"].submodel_element)["materials"]
        assert isinstance(materials, model.SubmodelElementList)
        assert materials.type_value_list_element is model.SubmodelElementCollection
        first = values(materials.value[0].value)
        assert (first["name"].value, first["percentage"].value) == ("Organic Cotton", 95)
        assert first["percentage"].value_type is model.datatypes.Integer
        labels = values(submodels["certification"].submodel_element)
        assert [item.value for item in labels["labels"].value] == seeded["certification"]["labels"]
        assert labels["lastAuditDate"].value_type is model.datatypes.Date
        figures = values(submodels["sustainability"].submodel_element)
        assert figures["carbonFootprintKgCO2e"].value_type is model.datatypes.Double


@pytest.fixture(scope="module")
def restricted(api: str, http: Any, auth: dict[str, str]) -> dict[str, Any]:
    """A GS1-identified item with keys that are no idShorts, a restricted section, and two
    artifacts: one public, one under that restricted section's policy."""
    gtin = gtin14("09506" + str(uuid.uuid4().int)[:8])
    document = make_passport(
        uniqueProductIdentifier=f"https://id.gs1.org/01/{gtin}/21/SN-42",
        nameplate={
            "Product name": [{"value": "Trail shoe", "language": "en"}],
            "1st": None,
            "Mixed": [1, "a"],
        },
        supplychain={"tier1": "restricted-factory-name"},
    )
    response = http.post(f"{api}/v1/dpps", json=document, headers=auth)
    assert response.status_code == 201, response.text
    for artifact_type in ("composition", "supplychain"):
        response = http.put(
            f"{api}/v1/dpps/{enc(document['digitalProductPassportId'])}/artifacts/{artifact_type}",
            data=json.dumps({"about": artifact_type}).encode(),
            headers={**auth, "Content-Type": "application/json"},
        )
        assert response.status_code == 201, response.text
    return document


def test_an_anonymous_export_leaves_out_what_the_access_policy_withholds(api, http, auth, restricted):
    dpp_id = restricted["digitalProductPassportId"]
    for store in exported(http, api, dpp_id):
        shell, submodels = parts(store)
        assert "supplychain" not in submodels
        assert "restricted-factory-name" not in repr([list(s.submodel_element) for s in submodels.values()])
        files = values(submodels["Artifacts"].submodel_element)
        assert list(files) == ["composition"]
        (link,) = shell.asset_information.specific_asset_id
        gs1_path = restricted["uniqueProductIdentifier"].removeprefix("https://id.gs1.org")
        assert link.name == "digitalLinkUri" and link.value == api.removesuffix("/api") + gs1_path
        content = http.get(files["composition"].value)
        assert (content.status_code, content.json()) == (200, {"about": "composition"})
        assert files["composition"].content_type == "application/json"
    for store in exported(http, api, dpp_id, headers=auth):
        _, submodels = parts(store)
        assert values(submodels["supplychain"].submodel_element)["tier1"].value == "restricted-factory-name"
        assert sorted(values(submodels["Artifacts"].submodel_element)) == ["composition", "supplychain"]
    anonymous, owner = fetch(http, api, dpp_id), fetch(http, api, dpp_id, headers=auth)
    assert (anonymous.headers["DPP-Disclosure"], owner.headers["DPP-Disclosure"]) == ("partial", "complete")
    assert anonymous.headers["Cache-Control"] == "public, no-cache"
    assert owner.headers["Cache-Control"] == "private, no-store"
    assert anonymous.headers["ETag"].startswith('W/"') and anonymous.headers["ETag"] != owner.headers["ETag"]
    again = http.get(f"{api}/v1/dpps/{enc(dpp_id)}/aas", headers={"If-None-Match": anonymous.headers["ETag"]})
    assert again.status_code == 304


def test_keys_that_are_no_id_shorts_map_to_ones_that_are_and_keep_their_spelling(api, http, restricted):
    (store, _) = exported(http, api, restricted["digitalProductPassportId"])
    _, submodels = parts(store)
    nameplate = values(submodels["nameplate"].submodel_element)
    spelled = {
        element.display_name["en"]: short for short, element in nameplate.items() if element.display_name
    }
    assert spelled == {"Product name": idshort("Product name"), "1st": idshort("1st")}
    assert all(ID_SHORT.match(short) for short in nameplate)
    assert nameplate["Mixed"].value_type_list_element is model.datatypes.String


def test_id_shorts_are_the_key_when_it_is_one_else_deterministic_and_unique():
    assert [idshort(key) for key in ("ManufacturerName", "a", "x-1")] == ["ManufacturerName", "a", "x-1"]
    for key in ("_", "1st", "Größe (cm)", "", "ends-", "x" * 129, "a b"):
        short = idshort(key)
        assert ID_SHORT.match(short) and len(short) <= 128 and short == idshort(key), key
    assert idshort("a b") != idshort("a_b") == "a_b"
    assert idshort("a b", taken=[idshort("a b")]) not in {idshort("a b"), "a_b"}


def akeneo_products_of_their_own() -> tuple[bytes, str]:
    """The Akeneo fixture file with fresh SKUs and EANs (PierrieCardin's GS1 prefix 4012345), so its
    passports are new ones whatever other tests imported the file before; and the polo's product id."""
    text = (FIXTURES / "akeneo-products.csv").read_text(encoding="utf-8")
    tag = uuid.uuid4().int
    polo = ""
    for n, row in enumerate(csv.DictReader(io.StringIO(text), delimiter=";")):
        ean = gtin14(f"04012345{(tag + n) % 90_000 + 10_000:05d}")[1:]  # not the fixture's 0000x
        text = text.replace(f"{row['ean']};", f"{ean};").replace(f"{row['sku']};", f"{row['sku']}-{tag:x};")
        polo = polo or f"https://id.gs1.org/01/0{ean}"
    return text.encode("utf-8"), polo


def test_imported_passports_export_as_valid_environments(app, api, http, token):
    """The Akeneo fixture file imported as `make run`'s operator (PierrieCardin, GS1 prefix 4012345)."""
    from local.run import SEED_OPERATOR

    owner = {"Authorization": f"Bearer {token('operator', operator=SEED_OPERATOR)}"}
    response = http.post(f"{api}/v1/imports", json={"fileName": "akeneo-products.csv"}, headers=owner)
    assert response.status_code == 201, response.text
    grant = response.json()
    products, product_id = akeneo_products_of_their_own()
    upload(http, grant, products, metadata={"mapping": "akeneo"})
    delivered_by_the_trigger(app)
    dpp_id = http.get(f"{api}/v1/dppsByProductId/{enc(product_id)}").json()["digitalProductPassportId"]
    for store in exported(http, api, dpp_id, headers=owner):
        shell, submodels = parts(store)
        assert shell.asset_information.global_asset_id == product_id
        assert len(submodels) > 1 and semantic_id(submodels["DppMetadata"]) == DPP_METADATA_SEMANTIC_ID


def test_a_format_other_than_json_or_aasx_and_an_unknown_passport_are_refused(api, http, seeded):
    dpp_id = enc(seeded["digitalProductPassportId"])
    assert_result(http.get(f"{api}/v1/dpps/{dpp_id}/aas?format=xml"), 400, "InvalidParameter")
    unknown = enc(f"urn:test:dpp/{uuid.uuid4().hex}")
    assert_result(http.get(f"{api}/v1/dpps/{unknown}/aas"), 404, "PassportNotFound")
    assert zipfile.is_zipfile(
        io.BytesIO(fetch(http, api, seeded["digitalProductPassportId"], "aasx").content)
    )


def test_an_export_at_a_date_is_of_the_version_then(api, http, auth, create):
    document = create(nameplate={"ManufacturerName": "ACME"})
    dpp_id = document["digitalProductPassportId"]
    before = http.get(f"{api}/v1/dpps/{enc(dpp_id)}").json()["lastUpdate"]
    patched = http.patch(
        f"{api}/v1/dpps/{enc(dpp_id)}",
        json={"nameplate": {"ManufacturerName": "ACME Two"}},
        headers={**auth, "Content-Type": "application/merge-patch+json"},
    )
    assert patched.status_code == 200, patched.text
    for date, expected in ((before, "ACME"), (None, "ACME Two")):
        response = fetch(http, api, dpp_id, date=date)
        _, submodels = parts(checked_json(response.content))
        assert values(submodels["nameplate"].submodel_element)["ManufacturerName"].value == expected


def test_basyx_is_loaded_on_the_first_export_only():
    """The app's cold start does not pay for BaSyx: importing every adapter leaves it unloaded."""
    import subprocess
    import sys

    probe = (
        "import sys, functions, functions.passports; print(sorted(m for m in sys.modules if 'basyx' in m))"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]", result.stdout
