"""DPP_STORAGE_LINKS=app (storage private, the hardened deployment): every link to a blob the
service hands out is a route of the service, and a client following only those links downloads
artifacts, uploads an import and reads its report, and downloads an export. With `sas` (the rest
of the suite, and the last tests here) the links go straight to storage, as before.

The app under test here is a second instance of the suite's app (same Azurite, same database), with
DPP_STORAGE_LINKS=app and its blob triggers delivered by the local host, as Event Grid would."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import requests

from tests.onboarding.test_imports import CSV_MAPPING, csv_rows, documents, jsonl, unique_rows
from tests.publication.test_views import sha256_b64url
from tests.support.documents import OWNER, enc, make_passport
from tests.support.ports import free_port
from tests.support.results import assert_result

# Small, so a body over the limit is cheap to send; every file here is far below it.
IMPORT_LIMIT = 64 * 1024
STORAGE_HOSTS = ("10000", "devstoreaccount1", "blob.core.windows.net")


@dataclass(frozen=True)
class Served:
    root: Any
    api: str


def bearer(value: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {value}"}


@pytest.fixture(scope="module")
def via_app(app_env: dict[str, str], root: Any) -> Iterator[Served]:
    from functions import app_root, create_app
    from functions.routes import API, ROUTE_PREFIX
    from local.host.server import start_in_thread
    from shared.platform.settings import load_settings

    port = free_port()
    env = {
        **app_env,
        "DPP_STORAGE_LINKS": "app",
        "DPP_IMPORT_MAX_BYTES": str(IMPORT_LIMIT),
        "DPP_PUBLIC_URL": f"http://127.0.0.1:{port}",
    }
    own = app_root(load_settings(env))
    server, base = start_in_thread(
        create_app(own), port=port, route_prefix=ROUTE_PREFIX, blob_triggers=True, blob_poll_seconds=0.1
    )
    yield Served(own, f"{base}/{API}")
    server.shutdown()


def on_the_app(url: str, served: Served) -> bool:
    return url.startswith(served.api + "/") and not any(host in url for host in STORAGE_HOSTS)


def put_artifact(http: Any, api: str, dpp_id: str, kind: str, data: bytes, media: str, headers: Any) -> Any:
    response = http.put(
        f"{api}/v1/dpps/{enc(dpp_id)}/artifacts/{kind}", data=data, headers={**headers, "Content-Type": media}
    )
    assert response.status_code == 201, response.text
    return response.json()


def new_passport(http: Any, api: str, auth: dict[str, str]) -> dict[str, Any]:
    document = make_passport(uniqueProductIdentifier=f"urn:acme:product:p-{uuid.uuid4().hex[:10]}")
    assert http.post(f"{api}/v1/dpps", json=document, headers=auth).status_code == 201
    return document


def artifact_view(http: Any, served: Served, document: dict[str, Any], kind: str, **kwargs: Any) -> Any:
    product = enc(document["uniqueProductIdentifier"])
    return http.get(f"{served.api}/v1/dpp/{product}/v1/artifact/{kind}", **kwargs)


# -- artifacts ---------------------------------------------------------------------------------------


def test_an_artifact_downloads_through_the_app_exactly_as_uploaded(via_app, http, auth):
    document = new_passport(http, via_app.api, auth)
    data = json.dumps({"materials": [{"name": "Cotton"}], "nonce": uuid.uuid4().hex}).encode()
    reference = put_artifact(
        http, via_app.api, document["digitalProductPassportId"], "composition", data, "application/json", auth
    )
    view = artifact_view(http, via_app, document, "composition")
    assert view.status_code == 200, view.text
    body = view.json()
    assert {"downloadUrl", "downloadUrlExpiresAt", "hash", "size", "signature"} <= set(body)
    assert on_the_app(body["downloadUrl"], via_app), body["downloadUrl"]

    download = http.get(body["downloadUrl"])
    assert download.status_code == 200, download.text
    assert download.content == data
    assert sha256_b64url(download.content) == body["hash"] == reference["hash"]
    assert download.headers["Content-Type"] == "application/json"
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    assert "Content-Disposition" not in download.headers
    assert download.headers["ETag"] == f'"{reference["hash"]}"'
    assert download.headers["Cache-Control"] == f"public, max-age={via_app.root.settings.public_max_age}"

    again = http.get(body["downloadUrl"], headers={"If-None-Match": download.headers["ETag"]})
    assert (again.status_code, again.content) == (304, b"")
    assert again.headers["ETag"] == download.headers["ETag"]
    assert http.get(body["downloadUrl"], headers={"If-None-Match": '"other"'}).content == data


def test_a_type_a_browser_would_run_is_only_ever_an_attachment(via_app, http, auth):
    document = new_passport(http, via_app.api, auth)
    dpp_id = document["digitalProductPassportId"]
    put_artifact(http, via_app.api, dpp_id, "repair", b"<script>alert(1)</script>", "text/html", auth)
    put_artifact(http, via_app.api, dpp_id, "manufacture", b"\x00\x01", "application/x-unknown", auth)
    page_url = artifact_view(http, via_app, document, "repair", headers=auth).json()["downloadUrl"]
    page = http.get(page_url, headers=auth)
    assert page.headers["Content-Type"].startswith("text/html")
    assert page.headers["Content-Disposition"] == 'attachment; filename="repair"'
    assert page.headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in page.headers["Content-Security-Policy"]
    unknown_url = artifact_view(http, via_app, document, "manufacture", headers=auth).json()["downloadUrl"]
    unknown = http.get(unknown_url, headers=auth)
    assert unknown.headers["Content-Type"] == "application/octet-stream"
    assert unknown.headers["Content-Disposition"] == 'attachment; filename="manufacture"'


def test_a_restricted_artifact_is_refused_as_its_view_refuses_it(via_app, http, auth, token):
    document = new_passport(http, via_app.api, auth)
    data = b"<a> <b> <c> ."
    put_artifact(
        http, via_app.api, document["digitalProductPassportId"], "supplychain", data, "text/turtle", auth
    )
    url = artifact_view(http, via_app, document, "supplychain", headers=auth).json()["downloadUrl"]
    assert on_the_app(url, via_app)
    for headers, status in (({}, 401), (bearer(token("repairer", operator=None)), 403)):
        view = artifact_view(http, via_app, document, "supplychain", headers=headers)
        content = http.get(url, headers=headers)
        assert_result(view, status, "ElementRestricted")
        assert_result(content, status, "ElementRestricted")
        assert content.headers["Cache-Control"] == "no-store"
    allowed = http.get(url, headers=bearer(token("recycler", operator=None)))
    assert (allowed.status_code, allowed.content) == (200, data)
    # A token's answer is for that caller alone: no shared cache may keep it.
    assert allowed.headers["Cache-Control"] == "private, no-store"
    assert_result(http.get(url.replace("/supplychain/", "/repair/"), headers=auth), 404, "ArtifactNotFound")


# -- imports -----------------------------------------------------------------------------------------


def grant(http: Any, served: Served, auth: dict[str, str], file_name: str, **body: Any) -> dict[str, Any]:
    response = http.post(f"{served.api}/v1/imports", json={"fileName": file_name, **body}, headers=auth)
    assert response.status_code == 201, response.text
    job = response.json()
    assert on_the_app(job["uploadUrl"], served) and on_the_app(job["mappingUploadUrl"], served)
    return job


def put(http: Any, url: str, data: bytes, headers: dict[str, str]) -> Any:
    # As a client of a SAS link sends it: the blob type header goes along, and is ignored.
    return http.put(url, data=data, headers={"x-ms-blob-type": "BlockBlob", **headers})


def finished(http: Any, job: dict[str, Any], auth: dict[str, str], timeout: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = http.get(job["statusUrl"], headers=auth).json()
        if status["state"] in ("done", "failed"):
            return status
        time.sleep(0.2)
    raise AssertionError(f"{job['statusUrl']} did not finish within {timeout} s")


def stored_upload(root: Any, job: dict[str, Any]) -> bytes | None:
    from azure.core.exceptions import ResourceNotFoundError

    from shared.onboarding.imports import IMPORTS_CONTAINER

    blob = root.blobs.container(IMPORTS_CONTAINER).get_blob_client(f"{job['importId']}/{job['fileName']}")
    try:
        return bytes(blob.download_blob().readall())
    except ResourceNotFoundError:
        return None


def test_an_import_uploaded_through_the_app_runs_and_its_report_downloads(via_app, http, auth):
    items = documents(2)
    job = grant(http, via_app, auth, "passports.jsonl")
    uploaded = put(http, job["uploadUrl"], jsonl(items), auth)
    assert uploaded.status_code == 201, uploaded.text
    assert uploaded.json()["importId"] == job["importId"]
    status = finished(http, job, auth)
    assert (status["state"], status["created"], status["failed"]) == ("done", 2, 0)
    for item in items:
        read = http.get(f"{via_app.api}/v1/dppsByProductId/{enc(item['uniqueProductIdentifier'])}")
        assert read.status_code == 200 and read.json()["economicOperatorId"] == OWNER

    report_url = status["report"]["json"]
    assert on_the_app(report_url, via_app)
    report = http.get(report_url, headers=auth)
    assert report.status_code == 200, report.text
    assert report.headers["Cache-Control"] == "no-store"
    assert report.headers["Content-Type"].startswith("application/json")
    assert (report.json()["importId"], report.json()["created"]) == (job["importId"], 2)
    assert_result(http.get(report_url), 404, "ImportNotFound")


def test_a_mapping_uploaded_through_the_app_is_the_import_s(via_app, http, auth):
    rows = unique_rows(2)
    job = grant(http, via_app, auth, "products.csv")
    mapped = put(http, job["mappingUploadUrl"], json.dumps(CSV_MAPPING).encode(), auth)
    assert mapped.status_code == 201, mapped.text
    assert put(http, job["uploadUrl"], csv_rows(rows), auth).status_code == 201
    status = finished(http, job, auth)
    assert (status["state"], status["created"]) == ("done", 2), status
    # Once the file is there, the mapping it was read with stays.
    assert_result(put(http, job["mappingUploadUrl"], b"version: 1\n", auth), 409, "ImportUploadClosed")


def test_uploads_the_app_refuses_change_nothing(via_app, http, auth, token, namespaced, root):
    job = grant(http, via_app, auth, "passports.jsonl")
    url = job["uploadUrl"]
    unknown = url.replace(job["importId"], uuid.uuid4().hex)
    assert_result(put(http, unknown, jsonl(documents(1)), auth), 404, "ImportNotFound")
    other = bearer(token("operator", operator=namespaced(f"did:example:other:{uuid.uuid4().hex[:6]}")))
    assert_result(put(http, url, jsonl(documents(1)), other), 404, "ImportNotFound")
    assert_result(put(http, url, jsonl(documents(1)), {}), 404, "ImportNotFound")
    # An authority sees every job, but uploads only into its own operator's.
    authority = bearer(token(["authority", "operator"], operator="did:example:other-operator"))
    assert_result(put(http, url, jsonl(documents(1)), authority), 403, "Forbidden")
    too_big = put(http, url, b"x" * (IMPORT_LIMIT + 1), auth)
    assert_result(too_big, 413, "BodyTooLarge")
    assert "DPP_IMPORT_MAX_BYTES" in too_big.json()["messages"][0]["text"]
    assert_result(put(http, url, b"", auth), 400, "MissingBody")
    assert stored_upload(root, job) is None
    assert http.get(job["statusUrl"], headers=auth).json()["state"] == "awaiting-upload"

    items = documents(1)
    assert put(http, url, jsonl(items), auth).status_code == 201
    second = put(http, url, jsonl(documents(1)), auth)
    assert_result(second, 409, "ImportUploadClosed")
    assert stored_upload(root, job) == jsonl(items)
    assert finished(http, job, auth)["created"] == 1
    assert_result(put(http, url, jsonl(documents(1)), auth), 409, "ImportUploadClosed")
    assert stored_upload(root, job) == jsonl(items)


# -- exports -----------------------------------------------------------------------------------------


def test_an_export_downloads_through_the_app(via_app, api, http, token, namespaced):
    name = namespaced(f"did:example:exporter:{uuid.uuid4().hex[:8]}")
    headers = bearer(token("operator", operator=name))
    document = make_passport(economicOperatorId=name)
    # Through the suite's app, whose operator registry knows the namespace just assigned.
    assert http.post(f"{api}/v1/dpps", json=document, headers=headers).status_code == 201
    requested = http.post(f"{via_app.api}/v1/exports", json={"history": True}, headers=headers)
    assert requested.status_code == 202, requested.text
    status = finished(http, requested.json(), headers)
    assert status["state"] == "done", status
    assert set(status["downloads"]) == {"passports", "history"}
    for kind, url in status["downloads"].items():
        assert on_the_app(url, via_app), url
        download = http.get(url, headers=headers)
        assert download.status_code == 200, download.text
        assert download.headers["Cache-Control"] == "no-store"
        assert download.headers["Content-Type"] == "application/jsonl"
        lines = [json.loads(line) for line in download.text.splitlines()]
        assert len(lines) == 1
        assert (lines[0].get("digitalProductPassportId") or lines[0]["dppId"]) == document[
            "digitalProductPassportId"
        ], kind
    assert_result(http.get(status["downloads"]["passports"]), 404, "ExportNotFound")


# -- sas: as before ----------------------------------------------------------------------------------


def test_with_sas_links_the_urls_go_straight_to_storage(api, http, auth, create):
    document = create(uniqueProductIdentifier=f"urn:acme:product:p-{uuid.uuid4().hex[:10]}")
    data = b'{"materials": []}'
    put_artifact(
        http, api, document["digitalProductPassportId"], "composition", data, "application/json", auth
    )
    product = enc(document["uniqueProductIdentifier"])
    url = http.get(f"{api}/v1/dpp/{product}/v1/artifact/composition").json()["downloadUrl"]
    assert "sig=" in url and not url.startswith(api)
    assert requests.get(url, timeout=10).content == data
    job = http.post(f"{api}/v1/imports", json={"fileName": "a.jsonl"}, headers=auth).json()
    assert "sig=" in job["uploadUrl"] and "sig=" in job["mappingUploadUrl"]


def test_the_upload_routes_refuse_a_job_no_longer_awaiting_its_file(api, http, auth, root):
    """On the suite's app, whose blob triggers do not run: a job stays awaiting after its upload."""
    from shared.onboarding.jobs import load_job, save_job

    items = documents(1)
    job = http.post(f"{api}/v1/imports", json={"fileName": "a.jsonl"}, headers=auth).json()
    file_url, mapping_url = (f"{api}/v1/imports/{job['importId']}/{part}" for part in ("file", "mapping"))
    assert put(http, mapping_url, json.dumps(CSV_MAPPING).encode(), auth).status_code == 201
    assert put(http, file_url, jsonl(items), auth).status_code == 201
    # The file is there, not yet run: the mapping it will be read with stays.
    assert_result(put(http, mapping_url, b"version: 1\n", auth), 409, "ImportUploadClosed")

    other = http.post(f"{api}/v1/imports", json={"fileName": "b.jsonl"}, headers=auth).json()
    stored = load_job(root.store, other["importId"], "import")
    assert stored is not None
    save_job(root.store, stored, stored["updatedAt"], state="failed", reason="given up")
    closed = put(http, f"{api}/v1/imports/{other['importId']}/file", jsonl(items), auth)
    assert_result(closed, 409, "ImportUploadClosed")
    assert stored_upload(root, other) is None


def test_the_import_cli_sends_its_token_to_the_app_s_upload_route_only(via_app, token, tmp_path, capsys):
    from local.import_cli import main, upload_headers

    upload_file = tmp_path / "passports.jsonl"
    upload_file.write_bytes(jsonl(documents(1)))
    code = main([str(upload_file), "--api", via_app.api, "--token", token("operator"), "--timeout", "60"])
    assert code == 0, capsys.readouterr().out
    sas = {
        "uploadUrl": "http://127.0.0.1:10000/devstoreaccount1/imports/x/a.jsonl?sig=s",
        "uploadHeaders": {},
    }
    assert upload_headers({**sas, "statusUrl": f"{via_app.api}/v1/imports/x"}, "Bearer t") == {}


def test_the_setting_is_sas_by_default_and_refuses_other_modes():
    from shared.platform.settings import load_settings

    assert load_settings({}).storage_links == "sas"
    assert load_settings({"DPP_STORAGE_LINKS": " APP "}).storage_links == "app"
    with pytest.raises(ValueError, match="DPP_STORAGE_LINKS"):
        load_settings({"DPP_STORAGE_LINKS": "edge"})
