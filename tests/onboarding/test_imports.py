"""Bulk import end to end against Azurite and the Cosmos-compatible server: grants and upload
links, every format, mappings, reports, ownership, limits, duplicate delivery and a crash midway."""

from __future__ import annotations

import csv
import io
import json
import os
import random
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from shared.onboarding.mappings import MAPPINGS_DIR
from tests.support.documents import OWNER, REPO, enc, gtin14, make_passport
from tests.support.results import assert_result

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "imports"


def bearer(value: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {value}"}


def code_of(response: Any) -> str:
    """The code of an error answer, once it is checked to be a whole Result object."""
    return assert_result(response, response.status_code)["code"]


def upload(http, grant: dict[str, Any], data: bytes, metadata: dict[str, str] | None = None) -> None:
    headers = dict(grant["uploadHeaders"])
    for key, value in (metadata or {}).items():
        headers[f"x-ms-meta-{key}"] = value
    response = http.put(grant["uploadUrl"], data=data, headers=headers)
    assert response.status_code == 201, response.text


@pytest.fixture
def deliver(root: Any) -> Callable[..., str]:
    """What the blob trigger does when the upload lands (the trigger itself is tested elsewhere);
    `clock` runs it at another time."""

    def run(
        grant: dict[str, Any],
        clock: Callable[[], datetime] | None = None,
        metadata: dict[str, str] | None = None,
    ) -> str:
        imports = root.imports if clock is None else importer(root, clock=clock)
        result: str = imports.run(grant["importId"] + "/" + grant["fileName"], metadata=metadata)
        return result

    return run


def importer(
    root: Any, *, clock: Callable[[], datetime] | None = None, service: Any = None, **limits: Any
) -> Any:
    """An import runner like the app's, with another clock, passport service or limits."""
    from shared.onboarding.imports import Imports

    config = replace(root.settings, **limits)
    return Imports(
        service or root.service, root.store, root.blobs, config, **({"clock": clock} if clock else {})
    )


def status(http, api, auth, import_id: str) -> dict[str, Any]:
    response = http.get(f"{api}/v1/imports/{import_id}", headers=auth)
    assert response.status_code == 200, response.text
    return response.json()


def passport(http, api, product_id: str) -> dict[str, Any] | None:
    response = http.get(f"{api}/v1/dppsByProductId/{enc(product_id)}")
    return response.json() if response.status_code == 200 else None


def versions(http, api, dpp_id: str) -> list[dict[str, Any]]:
    return http.get(f"{api}/v1/dpps/{enc(dpp_id)}/history").json()["versions"]


def documents(n: int, **overrides: Any) -> list[dict[str, Any]]:
    return [make_passport(**overrides) for _ in range(n)]


def jsonl(items: list[dict[str, Any]]) -> bytes:
    return "".join(json.dumps(item) + "\n" for item in items).encode()


CSV_MAPPING = {
    "version": 1,
    "constants": {"granularity": "Model", "dppSchemaVersion": "EN18223:v1.0", "dppStatus": "Active"},
    "fields": [
        {"target": "digitalProductPassportId", "column": "sku", "template": "urn:test:dpp:{value}"},
        {"target": "uniqueProductIdentifier", "column": "gtin", "template": "https://id.gs1.org/01/{value}"},
        {"target": "$.nameplate.ProductName", "column": "name", "language": "en"},
        {
            "target": "$.nameplate.WeightKg",
            "column": "weight_g",
            "type": "number",
            "unit": {"from": "g", "to": "kg"},
        },
        {"target": "$.certification.labels", "column": "labels", "split": "|"},
    ],
}


def csv_rows(rows: list[dict[str, str]], extra: tuple[str, ...] = ()) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=["sku", "gtin", "name", "weight_g", "labels", *extra])
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode()


def unique_rows(n: int) -> list[dict[str, str]]:
    """Products with GTINs of OWNER's company prefix 9506, from a random run of item references."""
    run = uuid.uuid4().hex[:8]
    first = random.randrange(10**8 - n)
    return [
        {
            "sku": f"{run}-{i}",
            "gtin": gtin14(f"19506{first + i:08d}"),
            "name": f"Shirt {i}",
            "weight_g": "250",
            "labels": "GOTS|OEKO",
        }
        for i in range(n)
    ]


# -- formats -----------------------------------------------------------------------------------------


def test_jsonl_import_creates_signed_passports_owned_by_the_uploader(deliver, api, http, auth, new_import):
    items = documents(3)
    grant = new_import("passports.jsonl")
    assert grant["state"] == "awaiting-upload"
    upload(http, grant, jsonl(items))
    assert deliver(grant) == "done"
    result = status(http, api, auth, grant["importId"])
    assert (result["state"], result["total"], result["processed"]) == ("done", 3, 3)
    assert (result["created"], result["updated"], result["failed"]) == (3, 0, 0)
    for item in items:
        stored = passport(http, api, item["uniqueProductIdentifier"])
        assert stored is not None
        assert stored["economicOperatorId"] == OWNER
        assert stored["nameplate"] == item["nameplate"]
        assert http.post(f"{api}/v1/verify", json={"dppId": item["digitalProductPassportId"]}).json()["valid"]
        [created] = versions(http, api, item["digitalProductPassportId"])
        assert created["operation"] == "create"
        assert created["writer"].startswith(f"import:{grant['importId']}")


def test_csv_with_a_mapping_and_a_report_of_every_failure(deliver, api, http, auth, new_import):
    rows = unique_rows(3)
    rows[1]["weight_g"] = "heavy"  # a row error in a mapped column
    rows[2]["gtin"] = ""  # the product id is missing: the passport is invalid
    grant = new_import("products.csv", CSV_MAPPING)
    upload(http, grant, csv_rows(rows))
    assert deliver(grant) == "done"
    result = status(http, api, auth, grant["importId"])
    assert (result["total"], result["created"], result["failed"]) == (3, 1, 2)
    failures = {failure["row"]: failure for failure in result["failures"]}
    assert set(failures) == {3, 4}  # header is row 1
    assert failures[3]["column"] == "weight_g"
    assert "uniqueProductIdentifier" in failures[4]["reason"]
    good = passport(http, api, f"https://id.gs1.org/01/{rows[0]['gtin']}")
    assert good["nameplate"] == {"ProductName": [{"value": "Shirt 0", "language": "en"}], "WeightKg": 0.25}
    assert good["certification"] == {"labels": ["GOTS", "OEKO"]}
    # the report and the failed rows, ready to fix and upload again
    report = http.get(result["report"]["json"]).json()
    assert report["upload"] == f"imports/{grant['importId']}/products.csv"
    assert [failure["row"] for failure in report["failures"]] == [3, 4]
    failed = list(csv.DictReader(io.StringIO(http.get(result["report"]["failedRows"]).text)))
    assert [row["sku"] for row in failed] == [rows[1]["sku"], rows[2]["sku"]]
    assert failed[0]["importColumn"] == "weight_g"
    assert failed[0]["importRow"] == "3"


def test_csv_parts_and_parent_columns_become_the_relations_section(deliver, api, http, auth, new_import):
    pack, module, orphan = unique_rows(3)
    pack.update(parts=f"https://id.gs1.org/01/{module['gtin']} | https://parts.example.com/bms/7", count="2")
    module.update(parent=pack["gtin"])
    orphan.update(parent="123")  # not a GTIN: the passport's validation refuses the Digital Link
    relation_rules = [
        {
            "target": "$.relations.hasPart",
            "column": "parts",
            "split": "|",
            "label": "module",
            "quantityColumn": "count",
        },
        {"target": "$.relations.isPartOf", "column": "parent", "template": "https://id.gs1.org/01/{value}"},
    ]
    grant = new_import("battery.csv", {**CSV_MAPPING, "fields": [*CSV_MAPPING["fields"], *relation_rules]})
    upload(http, grant, csv_rows([pack, module, orphan], extra=("parts", "count", "parent")))
    assert deliver(grant) == "done"
    result = status(http, api, auth, grant["importId"])
    assert (result["created"], result["failed"]) == (2, 1)
    [failure] = result["failures"]
    assert failure["row"] == 4 and "relations" in failure["reason"]
    stored = passport(http, api, f"https://id.gs1.org/01/{pack['gtin']}")
    assert stored["relations"] == {
        "hasPart": [
            {"target": f"https://id.gs1.org/01/{module['gtin']}", "quantity": 2, "label": "module"},
            {"target": "https://parts.example.com/bms/7", "quantity": 2, "label": "module"},
        ]
    }
    stored = passport(http, api, f"https://id.gs1.org/01/{module['gtin']}")
    assert stored["relations"] == {"isPartOf": [{"target": f"https://id.gs1.org/01/{pack['gtin']}"}]}


def test_xlsx_and_json_array(deliver, api, http, auth, new_import):
    from openpyxl import Workbook

    rows = unique_rows(2)
    book = Workbook()
    sheet = book.active
    sheet.append(["sku", "gtin", "name", "weight_g", "labels"])
    for row in rows:
        sheet.append([row["sku"], row["gtin"], row["name"], 250, row["labels"]])
    data = io.BytesIO()
    book.save(data)
    grant = new_import("products.xlsx", CSV_MAPPING)
    upload(http, grant, data.getvalue())
    assert deliver(grant) == "done"
    assert status(http, api, auth, grant["importId"])["created"] == 2
    assert passport(http, api, f"https://id.gs1.org/01/{rows[1]['gtin']}")["nameplate"]["WeightKg"] == 0.25

    items = documents(2)
    grant = new_import("passports.json")
    upload(http, grant, json.dumps(items).encode())
    assert deliver(grant) == "done"
    assert status(http, api, auth, grant["importId"])["created"] == 2


def delivered_by_the_trigger(app: Any) -> None:
    """Deliver new uploads through the app's real blob trigger, as the local host does (listing the
    container and invoking the function with the blob and its metadata), once, synchronously."""
    from functions.routes import ROUTE_PREFIX
    from local.host.server import make_server

    server = make_server(app, route_prefix=ROUTE_PREFIX, blob_triggers=True)
    try:
        assert server.blob_triggers is not None and not server.blob_triggers.errors
        server.blob_triggers.scan_once()
    finally:
        server.server_close()


def test_shipped_akeneo_mapping_by_metadata_and_pimcore_mapping_next_to_the_upload(
    app, api, http, auth, token, new_import
):
    """The mapping named in the upload's blob metadata reaches the import through the blob
    trigger itself (a trigger dropping the metadata would import without a mapping: every row
    would fail). The fixtures' outcomes are known row by row."""
    # The Akeneo export is PierrieCardin's (GS1 company prefix 4012345), as `make run` seeds it.
    from local.run import SEED_OPERATOR

    seed_operator = bearer(token("operator", operator=SEED_OPERATOR))
    grant = new_import("akeneo-products.csv", headers=seed_operator)
    upload(http, grant, (FIXTURES / "akeneo-products.csv").read_bytes(), metadata={"mapping": "akeneo"})
    delivered_by_the_trigger(app)
    result = status(http, api, seed_operator, grant["importId"])
    # Five products; the socks (sheet row 5) give their weight in litres, which is no mass.
    assert (result["state"], result["created"], result["failed"]) == ("done", 4, 1)
    (failure,) = result["failures"]
    assert (failure["row"], failure["column"]) == (5, "weight-unit") and "volume" in failure["reason"]
    polo = passport(http, api, "https://id.gs1.org/01/04012345000016")
    assert polo is not None and polo["economicOperatorId"] == SEED_OPERATOR

    grant = new_import("pimcore-products.csv")
    mapping_text = (MAPPINGS_DIR / "pimcore.yaml").read_bytes()
    response = http.put(grant["mappingUploadUrl"], data=mapping_text, headers=grant["uploadHeaders"])
    assert response.status_code == 201
    upload(http, grant, (FIXTURES / "pimcore-products.csv").read_bytes())
    delivered_by_the_trigger(app)
    result = status(http, api, auth, grant["importId"])
    # Five products; one (sheet row 5) gives its CO2 footprint as "approx. 3".
    assert (result["state"], result["created"], result["failed"]) == ("done", 4, 1)
    assert [(f["row"], f["column"]) for f in result["failures"]] == [(5, "co2Footprint")]


# -- idempotency and resumability ------------------------------------------------------------------


def test_re_importing_changes_nothing_and_a_changed_row_updates(deliver, api, http, auth, new_import):
    rows = unique_rows(3)
    first = new_import("products.csv", CSV_MAPPING)
    upload(http, first, csv_rows(rows))
    deliver(first)
    rows[0]["name"] = "Shirt renamed"
    again = new_import("products.csv", CSV_MAPPING)
    upload(http, again, csv_rows(rows))
    deliver(again)
    result = status(http, api, auth, again["importId"])
    assert (result["created"], result["updated"], result["unchanged"], result["failed"]) == (0, 1, 2, 0)
    renamed = passport(http, api, f"https://id.gs1.org/01/{rows[0]['gtin']}")
    assert renamed["nameplate"]["ProductName"] == [{"value": "Shirt renamed", "language": "en"}]
    assert [v["operation"] for v in versions(http, api, renamed["digitalProductPassportId"])] == [
        "create",
        "update",
    ]
    untouched = passport(http, api, f"https://id.gs1.org/01/{rows[1]['gtin']}")
    assert len(versions(http, api, untouched["digitalProductPassportId"])) == 1


def test_duplicate_delivery_writes_nothing_twice(deliver, api, http, auth, new_import):
    items = documents(4)
    grant = new_import("passports.jsonl")
    upload(http, grant, jsonl(items))
    assert deliver(grant) == "done"
    assert deliver(grant) == "already done"
    for item in items:
        assert len(versions(http, api, item["digitalProductPassportId"])) == 1
    assert status(http, api, auth, grant["importId"])["created"] == 4


def test_an_import_killed_midway_resumes_and_loses_no_row(deliver, api, http, auth, new_import, app_env):
    from shared.onboarding.imports import BATCH_ROWS

    rows = unique_rows(BATCH_ROWS * 5)
    grant = new_import("big.csv", CSV_MAPPING)
    upload(http, grant, csv_rows(rows))
    script = (
        "import sys; sys.path.insert(0, sys.argv[1]);"
        "from shared.composition import Root; from shared.platform.settings import load_settings;"
        "Root(load_settings()).imports.run(sys.argv[2])"
    )
    blob = f"{grant['importId']}/big.csv"
    worker = subprocess.Popen([sys.executable, "-c", script, str(REPO), blob], env=os.environ.copy())
    seen: list[int] = []
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline:
            progress = status(http, api, auth, grant["importId"])
            seen.append(progress["processed"])
            if progress["processed"] >= BATCH_ROWS:
                break
            assert worker.poll() is None, "the worker finished before it could be killed"
            time.sleep(0.02)
    finally:
        worker.send_signal(signal.SIGKILL)
        worker.wait()
    killed = status(http, api, auth, grant["importId"])
    assert killed["state"] == "running"
    assert BATCH_ROWS <= killed["processed"] < len(rows)
    assert killed["total"] == len(rows)  # progress was visible while it ran
    # Its lease is still live: a redelivery now leaves it alone; once it has lapsed, it resumes.
    assert deliver(grant) == "running elsewhere"
    later = datetime.now(UTC) + timedelta(minutes=10)
    assert deliver(grant, clock=lambda: later) == "done"
    result = status(http, api, auth, grant["importId"])
    assert result["processed"] == len(rows)
    assert result["failed"] == 0
    assert result["created"] + result["unchanged"] == len(rows)
    for row in rows:
        stored = passport(http, api, f"https://id.gs1.org/01/{row['gtin']}")
        assert stored is not None, row
        assert len(versions(http, api, stored["digitalProductPassportId"])) == 1, row


# -- refusals -----------------------------------------------------------------------------------------


def test_grant_refusals(api, http, auth, token):
    url = f"{api}/v1/imports"
    assert_result(http.post(url, json={"fileName": "a.csv"}), 401, "AuthenticationRequired")
    assert_result(
        http.post(url, json={"fileName": "a.csv"}, headers=bearer(token("authority"))), 403, "RoleRequired"
    )
    for body, code in (
        ({}, "InvalidImport"),
        ({"fileName": "../a.csv"}, "InvalidImport"),
        ({"fileName": "a.pdf"}, "InvalidImport"),
        ({"fileName": "mapping.yaml"}, "InvalidImport"),
        ({"fileName": "a.csv", "mapping": "sap"}, "InvalidMapping"),
        (
            {"fileName": "a.csv", "mapping": {"fields": [{"target": "lastUpdate", "column": "x"}]}},
            "InvalidMapping",
        ),
        ({"fileName": "a.csv", "extra": 1}, "InvalidImport"),
    ):
        response = http.post(url, json=body, headers=auth)
        assert (response.status_code, code_of(response)) == (400, code), body


def test_status_is_for_the_owner_and_authorities(api, http, auth, token, new_import):
    grant = new_import("x.jsonl")
    url = f"{api}/v1/imports/{grant['importId']}"
    assert http.get(url, headers=auth).status_code == 200
    assert http.get(url, headers=bearer(token("authority", operator=None))).status_code == 200
    for headers in ({}, bearer(token("operator", operator="did:example:other"))):
        response = http.get(url, headers=headers)
        assert (response.status_code, code_of(response)) == (404, "ImportNotFound")
    assert_result(http.get(f"{api}/v1/imports/{uuid.uuid4().hex}", headers=auth), 404, "ImportNotFound")


def test_rows_cannot_write_for_another_operator(deliver, api, http, auth, token, new_import, create):
    foreign = make_passport(economicOperatorId="did:example:other")
    theirs = make_passport(economicOperatorId="did:example:other")
    theirs_owner = bearer(token("operator", operator="did:example:other"))
    assert http.post(f"{api}/v1/dpps", json=theirs, headers=theirs_owner).status_code == 201
    takeover = {**make_passport(), "uniqueProductIdentifier": theirs["uniqueProductIdentifier"]}
    takeover["digitalProductPassportId"] = theirs["digitalProductPassportId"]
    grant = new_import("p.jsonl")
    upload(http, grant, jsonl([foreign, takeover]))
    deliver(grant)
    result = status(http, api, auth, grant["importId"])
    assert (result["created"], result["failed"]) == (0, 2)
    assert "did:example:other" in result["failures"][0]["reason"]
    assert passport(http, api, foreign["uniqueProductIdentifier"]) is None
    assert passport(http, api, theirs["uniqueProductIdentifier"])["nameplate"] == theirs["nameplate"]


def test_a_bad_mapping_next_to_the_upload_fails_the_file_and_writes_nothing(
    deliver, api, http, auth, new_import
):
    rows = unique_rows(2)
    grant = new_import("products.csv")
    bad = b"version: 1\nfields:\n  - target: $.nameplate.x\n    column: name\n    type: colour\n"
    assert http.put(grant["mappingUploadUrl"], data=bad, headers=grant["uploadHeaders"]).status_code == 201
    upload(http, grant, csv_rows(rows))
    assert deliver(grant) == "failed"
    result = status(http, api, auth, grant["importId"])
    assert result["state"] == "failed"
    assert "colour" in result["reason"]
    assert passport(http, api, f"https://id.gs1.org/01/{rows[0]['gtin']}") is None
    report = http.get(result["report"]["json"]).json()
    assert report["state"] == "failed" and report["reason"] == result["reason"]


def test_a_spreadsheet_without_a_mapping_fails_clearly(deliver, api, http, auth, new_import):
    grant = new_import("products.csv")
    upload(http, grant, csv_rows(unique_rows(1)))
    assert deliver(grant) == "failed"
    assert "mapping" in status(http, api, auth, grant["importId"])["reason"]


def test_oversize_files_and_too_many_rows_fail_with_a_report(api, http, auth, new_import, root):
    rows = unique_rows(5)
    for limits, words in (
        ({"import_max_bytes": 100}, "DPP_IMPORT_MAX_BYTES"),
        ({"import_max_rows": 4}, "DPP_IMPORT_MAX_ROWS"),
    ):
        grant = new_import("products.csv", CSV_MAPPING)
        upload(http, grant, csv_rows(rows))
        limited = importer(root, **limits)
        assert limited.run(f"{grant['importId']}/products.csv") == "failed"
        result = status(http, api, auth, grant["importId"])
        assert result["state"] == "failed"
        assert words in result["reason"]
        assert result["created"] == 0
        assert passport(http, api, f"https://id.gs1.org/01/{rows[0]['gtin']}") is None


def test_a_blob_without_a_grant_is_reported_and_ignored(api, http, auth, root):
    from shared.onboarding.imports import IMPORTS_CONTAINER, REPORTS_CONTAINER

    name = f"{uuid.uuid4().hex}/sneaky.jsonl"
    item = make_passport()
    root.blobs.container(IMPORTS_CONTAINER).upload_blob(name, jsonl([item]))
    assert root.imports.run(name) == "no grant"
    report = json.loads(root.blobs.container(REPORTS_CONTAINER).download_blob(f"{name}.json").readall())
    assert report["state"] == "failed" and "grant" in report["reason"]
    assert passport(http, api, item["uniqueProductIdentifier"]) is None


def run_cli(app: Any, tmp_path: Path, data: bytes, bearer_token: str, capsys: Any) -> tuple[int, str]:
    """The import CLI against a host that delivers blob triggers (as `make run` does)."""
    from functions.routes import ROUTE_PREFIX
    from local.host.server import start_in_thread
    from local.import_cli import main

    upload_file = tmp_path / "passports.jsonl"
    upload_file.write_bytes(data)
    server, base = start_in_thread(app, route_prefix=ROUTE_PREFIX, blob_triggers=True, blob_poll_seconds=0.1)
    try:
        code = main([str(upload_file), "--api", f"{base}/api", "--token", bearer_token, "--timeout", "120"])
    finally:
        server.shutdown()
    return code, capsys.readouterr().out


def test_the_blob_trigger_runs_an_upload_while_the_cli_shows_progress(
    api, app, http, auth, token, tmp_path, capsys
):
    """The whole path: CLI -> grant -> upload to the link -> blob trigger (the local host lists new
    blobs, as Event Grid would notify in Azure) -> import -> status polled until the report."""
    items = documents(3)
    code, out = run_cli(app, tmp_path, jsonl(items), token("operator"), capsys)
    assert code == 0, out
    assert "3/3 rows" in out and "created 3" in out
    for item in items:
        assert passport(http, api, item["uniqueProductIdentifier"])["nameplate"] == item["nameplate"]


def test_cli_reports_failed_rows_with_exit_status_3(api, app, http, token, tmp_path, capsys):
    rows = jsonl([*documents(1), {"digitalProductPassportId": "x"}])
    code, out = run_cli(app, tmp_path, rows, token("operator"), capsys)
    assert code == 3, out
    assert "row 2" in out and "uniqueProductIdentifier" in out


class ThrottledService:
    """A TEST DOUBLE of the passport service whose creates are throttled `busy` times (503 with
    Retry-After 0, as the store and the Key Vault signer report exhausted throttling), then pass."""

    def __init__(self, busy: int, passports: Any):
        self.busy = busy
        self.calls = 0
        self.passports = passports

    def create(self, document: dict[str, Any], principal: Any) -> None:
        from shared.platform.errors import ErrorCode, ServiceUnavailable

        self.calls += 1
        if self.calls <= self.busy:
            raise ServiceUnavailable("busy", code=ErrorCode.STORE_BUSY, headers={"Retry-After": "0"})


@pytest.mark.parametrize(("busy", "outcome"), [(2, "created"), (5, "failed")])
def test_throttled_writes_are_retried_within_bounds(root, busy, outcome):
    from shared.access.authentication import Principal
    from shared.access.roles import OPERATOR
    from shared.onboarding.file_formats import Record
    from shared.onboarding.imports import ROW_ATTEMPTS

    service = ThrottledService(busy, root.passports)
    runner = importer(root, service=service)
    owner = Principal("t", frozenset({OPERATOR}), OWNER)
    result = runner._row(Record(number=7, document=make_passport()), None, owner)
    assert result.kind == outcome
    assert service.calls == min(busy + 1, ROW_ATTEMPTS)
    if outcome == "failed":
        assert result.failure["row"] == 7 and result.failure["reason"] == "busy"


def test_a_json_row_with_a_5000_digit_integer_fails_its_row_and_the_job_finishes(
    deliver, api, http, auth, new_import
):
    good = documents(1)
    bad = json.dumps(make_passport()).replace('"ACME"', "1" * 5000, 1)
    grant = new_import("passports.jsonl")
    upload(http, grant, jsonl(good) + bad.encode() + b"\n")
    assert deliver(grant) == "done"
    result = status(http, api, auth, grant["importId"])
    assert (result["state"], result["created"], result["failed"]) == ("done", 1, 1)
    as_array = new_import("passports.json")
    upload(http, as_array, ("[" + bad + "]").encode())
    # A whole-file JSON array that cannot be read fails the import as a whole, with the reason.
    assert deliver(as_array) == "failed"
    failed = status(http, api, auth, as_array["importId"])
    assert (failed["state"], failed["created"]) == ("failed", 0)


def test_csv_formula_injection_cells_are_escaped_in_the_failed_rows_report(
    deliver, api, http, auth, new_import
):
    rows = unique_rows(1)
    rows[0]["weight_g"] = '=HYPERLINK("http://evil.example","fix")'  # fails: not a number
    rows[0]["name"] = "@SUM(1+1)"
    rows[0]["labels"] = "-5"
    grant = new_import("products.csv", CSV_MAPPING)
    upload(http, grant, csv_rows(rows))
    deliver(grant)
    report = http.get(status(http, api, auth, grant["importId"])["report"]["failedRows"]).text
    (failed,) = list(csv.DictReader(io.StringIO(report)))
    assert failed["weight_g"] == "'" + rows[0]["weight_g"] and failed["name"] == "'@SUM(1+1)"
    assert failed["labels"] == "-5"  # a number is no formula
    # Fixed and uploaded again, the report imports what the original rows said.
    again = new_import("products-fixed.csv", CSV_MAPPING)
    fixed = {key: failed[key] for key in ("sku", "gtin", "name", "labels")}
    upload(http, again, csv_rows([{**fixed, "weight_g": "300"}]))
    assert deliver(again) == "done"
    stored = passport(http, api, f"https://id.gs1.org/01/{rows[0]['gtin']}")
    assert stored["nameplate"]["ProductName"] == [{"value": "@SUM(1+1)", "language": "en"}]


def test_search_finds_imported_passports_within_the_documented_lag(api, http, new_import, deliver):
    """Imported rows are readable by id the moment the import is done, and found by search within
    LOCAL_LAG_SECONDS of it: the index follows the change feed (the session's host emulates the
    trigger), not the import's write path."""
    from shared.publication.derived import LOCAL_LAG_SECONDS

    word = f"zi{uuid.uuid4().hex[:10]}"
    items = [make_passport(nameplate={"ProductName": f"Scarf {word} {i}"}) for i in range(3)]
    grant = new_import("lagged.jsonl")
    upload(http, grant, "".join(json.dumps(item) + "\n" for item in items).encode())
    assert deliver(grant) == "done"
    done = time.monotonic()
    for item in items:
        assert http.get(f"{api}/v1/dpps/{enc(item['digitalProductPassportId'])}").status_code == 200
    expected = sorted(f"{item['uniqueProductIdentifier']}#v1" for item in items)
    while True:
        hits = http.get(f"{api}/v1/dpp/search", params={"keyword": word}).json()
        if sorted(hit["subject"] for hit in hits) == expected:
            break
        assert time.monotonic() - done < LOCAL_LAG_SECONDS, f"found {len(hits)} of 3 within the lag"
        time.sleep(0.05)
