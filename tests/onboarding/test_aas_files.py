"""AAS environments through the bulk import and out of the bulk export: an exported passport
(AAS JSON or AASX) imports over HTTP as a passport with the original's content and exports again
as the same environment; what the AAS mapping loses is exactly what the export documents; bad
files fail as the import's files and rows do, writing nothing; the bulk export's AAS formats hold
every passport as the single-passport export does and pass the IDTA's file checks."""

from __future__ import annotations

import io
import json
import uuid
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from basyx.aas import model
from basyx.aas.adapter import aasx
from basyx.aas.adapter.json import read_aas_json_file

from local.run import SEED_OPERATOR
from tests.onboarding.test_imports import bearer, passport, status, upload
from tests.publication.test_aas import checked_aasx, checked_json
from tests.support.documents import enc, make_passport
from tests.support.results import assert_result

IDS = ("digitalProductPassportId", "uniqueProductIdentifier")
# What every write sets itself, and the envelope a read adds beside the document.
NOT_CONTENT = ("lastUpdate", "contentHash", "signature", "dppLifecycle")

RICH_NAMEPLATE = {
    "ManufacturerName": "ACME",
    "Product name": [{"value": "Trail shoe", "language": "en"}, {"value": "Laufschuh", "language": "de"}],
    "1st": None,
    "Materials": [
        {"name": "Cotton", "share": 0.95, "certified": True},
        {"name": "Elastane", "share": 0.05, "certified": False},
    ],
    "Sizes (EU)": [[38, 39], [40, 41]],
    "weightGrams": 310,
    "releaseDate": "2026-03-01",
    "manual": "https://example.org/manual.pdf",
    "Größe": "M",
    "notes": "",
}
RICH_CARE = {"washing °C": 30, "steps": ["wash", "dry"], "empty": []}


def aas_file(http: Any, api: str, dpp_id: str, fmt: str, headers: dict[str, str]) -> bytes:
    response = http.get(f"{api}/v1/dpps/{enc(dpp_id)}/aas", params={"format": fmt}, headers=headers)
    assert response.status_code == 200, response.text
    return bytes(response.content)


def replaced(value: Any, names: dict[str, str]) -> Any:
    """`value` with every string's occurrences of each key of `names` (raw or as one URL path
    segment) replaced by its value."""
    if isinstance(value, dict):
        return {key: replaced(item, names) for key, item in value.items()}
    if isinstance(value, list):
        return [replaced(item, names) for item in value]
    if isinstance(value, str):
        for old, new in names.items():
            value = value.replace(enc(old), enc(new)).replace(old, new)
    return value


def renamed(data: bytes, fmt: str, names: dict[str, str]) -> bytes:
    """The AAS JSON, or every JSON part of the AASX, with the ids in `names` replaced: the same
    passport under other ids, so that its import creates a new one."""
    if fmt == "json":
        return json.dumps(replaced(json.loads(data), names)).encode()
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w") as target:
        for entry in source.infolist():
            content = source.read(entry)
            if entry.filename.endswith(".json"):
                content = json.dumps(replaced(json.loads(content), names)).encode()
            target.writestr(entry, content)
    return out.getvalue()


def environment_json(data: bytes, fmt: str) -> dict[str, Any]:
    """The environment as AAS JSON, after aas-test-engines passed the file (the AASX's one part)."""
    if fmt == "json":
        checked_json(data)
        return dict(json.loads(data))
    checked_aasx(data)
    with zipfile.ZipFile(io.BytesIO(data)) as package:
        (part,) = [name for name in package.namelist() if name.startswith("aasx/") and name.endswith(".json")]
        return dict(json.loads(package.read(part)))


def without_last_update(environment: dict[str, Any]) -> dict[str, Any]:
    """The environment with DppMetadata's lastUpdate value blanked (every write sets its own) and
    each shell's submodel references, and an AASX's submodels, in one order (BaSyx keeps a
    shell's references in a set)."""
    for shell in environment.get("assetAdministrationShells", []):
        shell["submodels"].sort(key=lambda reference: reference["keys"][0]["value"])
    environment.get("submodels", []).sort(key=lambda submodel: submodel["id"])
    for submodel in environment["submodels"]:
        if submodel["idShort"] == "DppMetadata":
            for element in submodel["submodelElements"]:
                if element["idShort"] == "lastUpdate":
                    element["value"] = "-"
    return environment


def content(document: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in document.items() if key not in NOT_CONTENT}


def imported(
    http: Any,
    api: str,
    new_import: Callable[..., Any],
    delivered: Callable[..., str],
    file_name: str,
    data: bytes,
    headers: dict[str, str],
    **grant: Any,
) -> dict[str, Any]:
    """The import's status once the file is uploaded (to the grant's link) and delivered."""
    del new_import  # the grant is asked for here, with `grant`'s members and `headers`
    response = http.post(f"{api}/v1/imports", json={"fileName": file_name, **grant}, headers=headers)
    assert response.status_code == 201, response.text
    job = response.json()
    upload(http, job, data)
    delivered(job)
    return status(http, api, headers, job["importId"])


@pytest.fixture
def delivered(root: Any) -> Callable[[dict[str, Any]], str]:
    """What the blob trigger does when the upload lands (the trigger itself is tested elsewhere)."""

    def run(job: dict[str, Any]) -> str:
        return str(root.imports.run(f"{job['importId']}/{job['fileName']}"))

    return run


@pytest.fixture
def rich(api: str, http: Any, auth: dict[str, str]) -> dict[str, Any]:
    """A passport with keys that are no idShorts (mapped), language texts, nested lists and every
    scalar type the export maps (none of what it loses)."""
    document = make_passport(nameplate=RICH_NAMEPLATE, **{"care instructions": RICH_CARE})
    response = http.post(f"{api}/v1/dpps", json=document, headers=auth)
    assert response.status_code == 201, response.text
    return document


def round_trip(
    http: Any,
    api: str,
    new_import: Any,
    delivered: Any,
    original: dict[str, Any],
    headers: dict[str, str],
    fmt: str,
    file_name: str,
) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any], dict[str, str]]:
    """Export `original` in `fmt`, import it under new ids, read the new passport, export it:
    (the new passport, the first environment, the second with the ids put back, the new ids)."""
    suffix = uuid.uuid4().hex[:8]
    new = {original[name]: f"{original[name]}-rt{suffix}" for name in IDS}
    first = aas_file(http, api, original["digitalProductPassportId"], fmt, headers)
    result = imported(http, api, new_import, delivered, file_name, renamed(first, fmt, new), headers)
    assert (result["state"], result["total"], result["created"], result["failed"]) == ("done", 1, 1, 0), (
        result
    )
    new_id = new[original["digitalProductPassportId"]]
    read = http.get(f"{api}/v1/dpps/{enc(new_id)}", headers=headers)
    assert read.status_code == 200, read.text
    second = aas_file(http, api, new_id, fmt, headers)
    back = {value: key for key, value in new.items()}
    again = replaced(environment_json(second, fmt), back)
    return read.json(), environment_json(first, fmt), again, new


@pytest.mark.parametrize(("fmt", "file_name"), [("json", "passport.json"), ("aasx", "passport.aasx")])
def test_an_exported_passport_imports_as_one_with_its_content_and_exports_again_the_same(
    api, http, auth, new_import, delivered, rich, fmt, file_name
):
    """The AAS JSON (a `.json` file holding an environment) and the AASX, each under new ids: the
    new passport's content is the original's, key for key, and its export the original's."""
    read, first, again, new = round_trip(http, api, new_import, delivered, rich, auth, fmt, file_name)
    assert content(read) == replaced(content(rich), new)
    assert read["nameplate"]["Product name"] == RICH_NAMEPLATE["Product name"]
    assert read["care instructions"] == RICH_CARE
    assert without_last_update(again) == without_last_update(first)
    assert http.post(f"{api}/v1/verify", json={"dppId": read["digitalProductPassportId"]}).json()["valid"]


@pytest.mark.parametrize("fmt", ["json", "aasx"])
def test_the_seeded_passport_round_trips_all_but_its_lifecycle(
    api, http, token, new_import, delivered, seed_copy, fmt
):
    """The seed's content comes back key for key; its lifecycle (version label, validity) is no
    part of its environment, so the new passport has a lifecycle of its own."""
    owner = bearer(token("operator", operator=SEED_OPERATOR))
    seed = seed_copy()
    read, first, again, new = round_trip(http, api, new_import, delivered, seed, owner, fmt, f"seed.{fmt}")
    assert content(read) == replaced(content(seed), new)
    lifecycle = http.get(f"{api}/v1/dpps/{enc(read['digitalProductPassportId'])}/lifecycle", headers=owner)
    own = lifecycle.json()["lifecycle"]
    assert (
        (own["versionLabel"], own["validTo"])
        == ("v1", None)
        != (seed["dppLifecycle"]["versionLabel"], seed["dppLifecycle"]["validTo"])
    )
    assert without_last_update(again) == without_last_update(first)


def test_what_the_aas_mapping_loses_comes_back_changed_exactly_as_documented(
    api, http, auth, new_import, delivered
):
    """Mixed scalars become strings, a scalar beside objects is wrapped as {"value"}, an
    xs:dateTime is BaSyx's spelling; everything else stays, and a second trip changes nothing more."""
    lossy = {
        "Mixed": [1, "a", True],
        "wrapped": [1, {"x": 2}],
        "when": "2026-05-01T10:00:00.5Z",
        "kept": {"n": 1, "texts": ["a", "b"], "twice": [{"value": "a", "language": "en"}] * 2},
    }
    original = make_passport(nameplate=lossy)
    assert http.post(f"{api}/v1/dpps", json=original, headers=auth).status_code == 201
    read, first, again, _ = round_trip(http, api, new_import, delivered, original, auth, "json", "lossy.json")
    assert read["nameplate"] == {
        "Mixed": ["1", "a", "true"],
        "wrapped": [{"value": 1}, {"x": 2}],
        "when": "2026-05-01T10:00:00.500000+00:00",
        "kept": {"n": 1, "texts": ["a", "b"], "twice": [{"value": "a", "language": "en"}] * 2},
    }
    assert without_last_update(again) == without_last_update(first)
    second, first_again, third, _ = round_trip(
        http, api, new_import, delivered, read, auth, "json", "again.json"
    )
    assert second["nameplate"] == read["nameplate"]
    assert without_last_update(third) == without_last_update(first_again)


def aas_environment(*shells: tuple[str, list[dict[str, Any]]]) -> dict[str, Any]:
    """An AAS JSON environment: each shell (its product id) with the submodels given."""
    environment: dict[str, Any] = {"assetAdministrationShells": [], "submodels": []}
    for number, (product_id, submodels) in enumerate(shells):
        references = []
        for submodel in submodels:
            environment["submodels"].append(submodel)
            references.append(
                {"type": "ModelReference", "keys": [{"type": "Submodel", "value": submodel["id"]}]}
            )
        environment["assetAdministrationShells"].append(
            {
                "modelType": "AssetAdministrationShell",
                "id": f"urn:test:aas:{uuid.uuid4().hex}:{number}",
                "assetInformation": {"assetKind": "Instance", "globalAssetId": product_id},
                "submodels": references,
            }
        )
    return environment


def metadata(document: dict[str, Any], *extra: str) -> dict[str, Any]:
    return {
        "modelType": "Submodel",
        "id": f"urn:test:sm:{uuid.uuid4().hex}",
        "idShort": "DppMetadata",
        "semanticId": {
            "type": "ExternalReference",
            "keys": [{"type": "GlobalReference", "value": "https://admin-shell.io/idta/cds/dppMetadata/1"}],
        },
        "submodelElements": [
            {"modelType": "Property", "idShort": key, "valueType": "xs:string", "value": document[key]}
            for key in ("digitalProductPassportId", "granularity", "dppSchemaVersion", "dppStatus", *extra)
        ],
    }


def section(id_short: str, **values: str) -> dict[str, Any]:
    return {
        "modelType": "Submodel",
        "id": f"urn:test:sm:{uuid.uuid4().hex}",
        "idShort": id_short,
        "submodelElements": [
            {"modelType": "Property", "idShort": key, "valueType": "xs:string", "value": value}
            for key, value in values.items()
        ],
    }


def test_a_shell_without_dpp_metadata_fails_its_row_and_the_others_import(
    api, http, auth, new_import, delivered
):
    """A hand-written environment (not the export's): a good shell (its product id from its
    globalAssetId, a displayName that is only a label), one without DppMetadata, one whose
    globalAssetId is another product than its DppMetadata's, one with an element in DppMetadata
    that is no header field: one passport, three failed rows in a report of JSON Lines."""
    good, bare, other, odd = make_passport(), make_passport(), make_passport(), make_passport()
    labelled = section("nameplate", ManufacturerName="AAS Co")
    labelled["submodelElements"][0]["displayName"] = [{"language": "en", "text": "Manufacturer name"}]
    odd_metadata = metadata(odd, "uniqueProductIdentifier")
    odd_metadata["submodelElements"].append(
        {"modelType": "Property", "idShort": "colour", "valueType": "xs:string", "value": "red"}
    )
    environment = aas_environment(
        (good["uniqueProductIdentifier"], [metadata(good), labelled]),
        (bare["uniqueProductIdentifier"], [section("nameplate", ManufacturerName="none")]),
        (good["uniqueProductIdentifier"] + "-x", [metadata(other, "uniqueProductIdentifier")]),
        (odd["uniqueProductIdentifier"], [odd_metadata]),
    )
    result = imported(
        http,
        api,
        new_import,
        delivered,
        "shells.txt",
        json.dumps(environment).encode(),
        auth,
        format="aas-json",
    )
    assert (result["state"], result["format"], result["total"]) == ("done", "aas-json", 4)
    assert (result["created"], result["failed"]) == (1, 3)
    reasons = {failure["row"]: failure["reason"] for failure in result["failures"]}
    assert "0 DppMetadata submodels" in reasons[2]
    assert "globalAssetId" in reasons[3]
    assert "no header fields: colour" in reasons[4]
    assert passport(http, api, odd["uniqueProductIdentifier"]) is None
    stored = passport(http, api, good["uniqueProductIdentifier"])
    assert stored is not None and stored["nameplate"] == {"ManufacturerName": "AAS Co"}
    assert stored["economicOperatorId"] == good["economicOperatorId"]
    assert passport(http, api, bare["uniqueProductIdentifier"]) is None
    assert http.get(f"{api}/v1/dpps/{enc(other['digitalProductPassportId'])}").status_code == 404
    failed_rows = http.get(result["report"]["failedRows"]).text.splitlines()
    assert json.loads(failed_rows[0]) is None  # the shell was no passport


def zip_bomb() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as package:
        package.writestr("aasx/data.json", b" " * (20 * 1024 * 1024))
    return out.getvalue()


@pytest.mark.parametrize(
    ("file_name", "data", "words"),
    [
        ("noise.aasx", b"PK\x03\x04 not really a zip", "not an AASX package"),
        ("bomb.aasx", zip_bomb(), "times its size"),
        ("plain.aasx", None, "is not a valid ECMA376-2 (OPC) file"),
        ("broken.json", json.dumps({"assetAdministrationShells": [{"idShort": "x"}]}).encode(), "BaSyx"),
        ("shell-less.json", json.dumps({"submodels": []}).encode(), "no asset administration shell"),
    ],
)
def test_a_file_that_is_no_aas_environment_fails_whole_and_writes_nothing(
    api, http, auth, new_import, delivered, file_name, data, words
):
    if data is None:  # a ZIP archive holding an environment, but no AASX package around it
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w") as package:
            package.writestr("aasx/data.json", json.dumps(aas_environment()))
        data = out.getvalue()
    job = new_import(file_name)
    upload(http, job, data)
    assert delivered(job) == "failed"
    result = status(http, api, auth, job["importId"])
    assert result["state"] == "failed" and words in result["reason"], result["reason"]
    assert (result["created"], result["updated"]) == (0, 0)


def test_an_aasx_with_an_xml_part_imports_and_resolves_no_entity(
    api, http, auth, new_import, delivered, rich
):
    """The same environment in an AASX's XML part (what AASX Package Explorer writes) imports the
    same passport; an external entity in it is left unresolved (no file read into a passport)."""
    data = aas_file(http, api, rich["digitalProductPassportId"], "json", auth)
    new = {rich[name]: f"{rich[name]}-xml" for name in IDS}
    store = read_aas_json_file(io.StringIO(renamed(data, "json", new).decode()), failsafe=False)
    (shell,) = [item for item in store if isinstance(item, model.AssetAdministrationShell)]
    package = io.BytesIO()
    with aasx.AASXWriter(package, failsafe=False) as writer:
        writer.write_aas(shell.id, store, aasx.DictSupplementaryFileContainer(), write_json=False)
    result = imported(http, api, new_import, delivered, "explorer.aasx", package.getvalue(), auth)
    assert (result["state"], result["created"]) == ("done", 1), result
    read = http.get(f"{api}/v1/dpps/{enc(new[rich['digitalProductPassportId']])}", headers=auth).json()
    assert content(read) == replaced(content(rich), new)

    evil = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(package.getvalue())) as source, zipfile.ZipFile(evil, "w") as target:
        for entry in source.infolist():
            part = source.read(entry)
            if entry.filename == "aasx/data.xml":
                doctype = b'<!DOCTYPE aas:environment [<!ENTITY x SYSTEM "file:///etc/hostname">]>\n'
                part = part.replace(b"<aas:environment", doctype + b"<aas:environment", 1)
                part = part.replace(b"<aas:value>ACME</aas:value>", b"<aas:value>&x;ACME</aas:value>", 1)
                assert b"&x;" in part
            target.writestr(entry, part)
    result = imported(http, api, new_import, delivered, "evil.aasx", evil.getvalue(), auth)
    assert (result["state"], result["updated"]) == ("done", 1), result
    read = http.get(f"{api}/v1/dpps/{enc(new[rich['digitalProductPassportId']])}", headers=auth).json()
    hostname = Path("/etc/hostname").read_text(encoding="utf-8").strip()
    # The reference is dropped with what follows it in that text, never replaced by the file.
    assert read["nameplate"]["ManufacturerName"] == "" and hostname not in json.dumps(read)


# -- the bulk export ---------------------------------------------------------------------------------


@pytest.fixture
def exporter(root: Any, api: str, http: Any) -> Callable[..., dict[str, Any]]:
    def run(headers: dict[str, str], body: Any) -> dict[str, Any]:
        response = http.post(f"{api}/v1/exports", json=body, headers=headers)
        assert response.status_code == 202, response.text
        job = response.json()
        assert root.exports.run(f"requests/{job['exportId']}.json") == "done"
        return dict(http.get(job["statusUrl"], headers=headers).json())

    return run


@pytest.fixture
def operator(token: Any, namespaced: Any) -> tuple[str, dict[str, str]]:
    name = namespaced(f"did:example:aas-exporter:{uuid.uuid4().hex[:8]}")
    return name, bearer(token("operator", operator=name))


def by_id(environment: dict[str, Any]) -> dict[str, Any]:
    return {
        item["id"]: item for key in ("assetAdministrationShells", "submodels") for item in environment[key]
    }


@pytest.mark.parametrize("fmt", ["aas-json", "aasx"])
def test_the_bulk_export_holds_every_passport_as_its_own_export_and_imports_back_unchanged(
    api, http, exporter, operator, new_import, delivered, fmt
):
    name, headers = operator
    # No null: a file's passport that exists already is merge-patched, where a null removes a member.
    nameplate = {key: value for key, value in RICH_NAMEPLATE.items() if value is not None}
    made = [make_passport(economicOperatorId=name, nameplate=nameplate) for _ in range(2)]
    made.append(make_passport(economicOperatorId=name))
    for document in made:
        assert http.post(f"{api}/v1/dpps", json=document, headers=headers).status_code == 201
    # An artifact is a File in the Artifacts submodel, naming this deployment's URL: not imported.
    manual = http.put(
        f"{api}/v1/dpps/{enc(made[2]['digitalProductPassportId'])}/artifacts/repair",
        data=b"%PDF-1.7 manual",
        headers={**headers, "Content-Type": "application/pdf"},
    )
    assert manual.status_code == 201, manual.text
    job = exporter(headers, {"format": fmt})
    assert (job["state"], job["format"], job["exported"]) == ("done", fmt, 3)
    data = http.get(job["downloads"]["passports"]).content
    single = "json" if fmt == "aas-json" else "aasx"
    if fmt == "aas-json":
        checked_json(data)
        environment = json.loads(data)
    else:
        checked_aasx(data)
        environment = {"assetAdministrationShells": [], "submodels": []}
        with zipfile.ZipFile(io.BytesIO(data)) as package:
            parts = sorted(
                n for n in package.namelist() if n.startswith("aasx/passport-") and n.endswith(".json")
            )
            assert len(parts) == 3
            for part in parts:
                for key, items in json.loads(package.read(part)).items():
                    environment[key] += items
    exported = by_id(environment)
    assert len(environment["assetAdministrationShells"]) == 3
    for document in made:
        own = by_id(
            environment_json(
                aas_file(http, api, document["digitalProductPassportId"], single, headers), single
            )
        )
        assert {key: exported[key] for key in own} == own

    # The file imports again through the bulk import: every passport is found and left unchanged.
    result = imported(http, api, new_import, delivered, f"all.{single}", data, headers)
    assert (result["state"], result["total"], result["unchanged"], result["failed"]) == ("done", 3, 3, 0), (
        result
    )


def test_an_empty_bulk_export_is_an_empty_environment_and_a_format_is_one_of_three(
    api, http, exporter, operator
):
    _, headers = operator
    job = exporter(headers, {"format": "aas-json"})
    assert (job["exported"], http.get(job["downloads"]["passports"]).json()) == (0, {})
    for body in ({"format": "xml"}, {"format": None}, {"format": "aasx", "extra": 1}):
        assert_result(http.post(f"{api}/v1/exports", json=body, headers=headers), 400, "InvalidExport")
    assert exporter(headers, {})["format"] == "jsonl"


def test_an_environment_over_the_size_read_whole_is_refused_before_basyx_reads_it():
    """An AAS JSON file, or an AASX whose AAS parts unpack to, more than MAX_AAS_BYTES."""
    from shared.onboarding.file_formats import MAX_AAS_BYTES, ImportFileError, read_records

    padded = b'{"submodels": []}' + b" " * MAX_AAS_BYTES
    package = io.BytesIO()
    with zipfile.ZipFile(package, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("aasx/data.json", padded)
    for data, fmt in ((padded, "aas-json"), (padded, "json"), (package.getvalue(), "aasx")):
        with pytest.raises(ImportFileError, match=f"at most {MAX_AAS_BYTES} are read"):
            list(read_records(io.BytesIO(data), fmt))


def test_the_grant_names_the_aas_formats_and_refuses_others(api, http, auth):
    for file_name, declared, fmt in (("p.aasx", None, "aasx"), ("p.json", "aas-json", "aas-json")):
        body = {"fileName": file_name, **({"format": declared} if declared else {})}
        response = http.post(f"{api}/v1/imports", json=body, headers=auth)
        assert (response.status_code, response.json()["format"]) == (201, fmt), response.text
    refused = http.post(f"{api}/v1/imports", json={"fileName": "p.aasx", "format": "aas-xml"}, headers=auth)
    assert "aas-json, aasx" in assert_result(refused, 400, "InvalidImport")["text"]
