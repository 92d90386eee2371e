"""Artifact storage (ByRef data) against the real Azurite of the test session: uploads, download
through the SAS URL over real HTTP, immutability, what the SAS refuses, and input validation."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import os
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from shared.passports.artifacts import ARTIFACT_TYPES, ArtifactStore, parse_artifact_type, parse_media_type
from shared.platform.errors import (
    BadRequest,
    NotFound,
    PayloadTooLarge,
    ServiceUnavailable,
    UnsupportedMediaType,
)
from shared.platform.settings import Settings
from shared.storage.blobs import BlobStorage, create_blob_service


@pytest.fixture
def store(root: Any) -> ArtifactStore:
    return root.artifacts


# The app's content route a link would name with DPP_STORAGE_LINKS=app; these stores link to storage.
NO_ROUTE = "http://127.0.0.1:9/not-used"


def artifact_store(config: Settings) -> ArtifactStore:
    return ArtifactStore(config, BlobStorage(config))


def new_dpp_id() -> str:
    # Characters that would be awkward in a blob name, on purpose.
    return f"urn:test:dpp/{uuid.uuid4().hex}#a?b=c d/../e"


def sha256_b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(data).digest()).decode("ascii").rstrip("=")


def hex256(text: str | bytes) -> str:
    raw = text.encode("utf-8") if isinstance(text, str) else text
    return hashlib.sha256(raw).hexdigest()


def sas_times(url: str) -> tuple[datetime, datetime]:
    query = parse_qs(urlsplit(url).query)
    start, expiry = (datetime.strptime(query[key][0], "%Y-%m-%dT%H:%M:%SZ") for key in ("st", "se"))
    return start, expiry


# --- upload and download through the SAS URL --------------------------------------------------


def test_put_then_download_through_sas_url(store: ArtifactStore) -> None:
    dpp_id = new_dpp_id()
    data = os.urandom(3000) + b"%PDF-1.7 certificate"
    ref = store.put(dpp_id, "certification", data, "application/pdf")

    assert list(ref) == ["uri", "hash", "mediaType", "size"]
    expected_name = f"{hex256(dpp_id)[:32]}/certification/{hex256(data)}-{hex256('application/pdf')[:8]}"
    assert ref["uri"] == f"/artifacts/{expected_name}"
    assert ref["mediaType"] == "application/pdf"
    assert ref["size"] == len(data)

    url = store.download_url(ref, NO_ROUTE)
    assert urlsplit(url).path.endswith(f"/artifacts/{expected_name}")
    query = parse_qs(urlsplit(url).query)
    assert query["sp"] == ["r"]  # read only
    assert query["sr"] == ["b"]  # one blob, not the container
    response = requests.get(url, timeout=10)
    assert response.status_code == 200, response.text
    assert response.content == data
    assert ref["hash"] == "sha256-" + sha256_b64url(response.content)
    assert len(response.content) == ref["size"]
    assert response.headers["Content-Type"] == "application/pdf"
    assert store.read(ref) == data


def test_sas_window_starts_before_now_and_lasts_the_configured_minutes(root: Any) -> None:
    store = artifact_store(dataclasses.replace(root.settings, artifact_sas_minutes=15))
    url = store.download_url(store.put(new_dpp_id(), "repair", b"manual", "text/markdown"), NO_ROUTE)
    start, expiry = sas_times(url)
    # Both ends come from one clock reading: 5 minutes of skew allowance plus the lifetime.
    assert expiry - start == timedelta(minutes=20)
    assert start < datetime.now(UTC).replace(tzinfo=None)


def test_text_media_type_keeps_its_charset_on_the_blob(store: ArtifactStore) -> None:
    data = "Baumwolle 95 %, Elasthan 5 %, Größe M".encode()
    ref = store.put(new_dpp_id(), "composition", data, 'Text/Plain;  Charset="UTF-8"')
    assert ref["mediaType"] == "text/plain; charset=utf-8"
    response = requests.get(store.download_url(ref, NO_ROUTE), timeout=10)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert response.content == data


def test_same_bytes_same_uri_new_bytes_new_uri_old_url_unchanged(store: ArtifactStore, root: Any) -> None:
    dpp_id = new_dpp_id()
    first = store.put(dpp_id, "sustainability", b'{"co2e": 4.1}', "application/json")
    blob = root.blobs.container("artifacts").get_blob_client(first["uri"].removeprefix("/artifacts/"))
    etag = blob.get_blob_properties().etag
    again = store.put(dpp_id, "sustainability", b'{"co2e": 4.1}', "application/json")
    assert again == first  # idempotent: the existing blob is this content
    assert blob.get_blob_properties().etag == etag  # and it was not written again

    old_url = store.download_url(first, NO_ROUTE)
    second = store.put(dpp_id, "sustainability", b'{"co2e": 3.9}', "application/json")
    assert second["uri"] != first["uri"]
    assert second["hash"] == "sha256-" + sha256_b64url(b'{"co2e": 3.9}')

    old = requests.get(old_url, timeout=10)
    assert old.status_code == 200
    assert old.content == b'{"co2e": 4.1}'
    assert requests.get(store.download_url(second, NO_ROUTE), timeout=10).content == b'{"co2e": 3.9}'


def test_name_depends_on_passport_type_and_media_type(store: ArtifactStore) -> None:
    data = b"same bytes"
    dpp_a, dpp_b = new_dpp_id(), new_dpp_id()
    uris = {
        store.put(dpp_a, "repair", data, "text/plain")["uri"],
        store.put(dpp_b, "repair", data, "text/plain")["uri"],
        store.put(dpp_a, "manufacture", data, "text/plain")["uri"],
        store.put(dpp_a, "repair", data, "application/octet-stream")["uri"],
    }
    assert len(uris) == 4
    as_binary = store.put(dpp_a, "repair", data, "application/octet-stream")
    response = requests.get(store.download_url(as_binary, NO_ROUTE), timeout=10)
    assert response.headers["Content-Type"] == "application/octet-stream"


def test_large_artifact_round_trip(store: ArtifactStore) -> None:
    data = os.urandom(5 * 1024 * 1024 + 7)
    ref = store.put(new_dpp_id(), "manufacture", data, "application/octet-stream")
    assert ref["size"] == len(data)
    response = requests.get(store.download_url(ref, NO_ROUTE), timeout=30)
    assert response.status_code == 200
    assert hashlib.sha256(response.content).digest() == hashlib.sha256(data).digest()
    assert ref["hash"] == "sha256-" + sha256_b64url(response.content)


def test_read_of_a_missing_artifact_is_not_found(store: ArtifactStore) -> None:
    ref = store.put(new_dpp_id(), "repair", b"present", "text/plain")
    missing = {**ref, "uri": ref["uri"][:-73] + "0" * 64 + ref["uri"][-9:]}
    assert missing["uri"] != ref["uri"]
    with pytest.raises(NotFound) as caught:
        store.read(missing)
    assert caught.value.code == "ArtifactNotFound"


# --- what the SAS URL does not allow --------------------------------------------------------------


def test_sas_url_cannot_write(store: ArtifactStore) -> None:
    ref = store.put(new_dpp_id(), "certification", b"original certificate", "application/pdf")
    url = store.download_url(ref, NO_ROUTE)

    put = requests.put(url, data=b"forged certificate", headers={"x-ms-blob-type": "BlockBlob"}, timeout=10)
    # refused for the permission the link lacks, not for a signature that does not hold
    assert (put.status_code, put.headers.get("x-ms-error-code")) == (403, "AuthorizationPermissionMismatch")
    delete = requests.delete(url, timeout=10)
    assert (delete.status_code, delete.headers.get("x-ms-error-code")) == (
        403,
        "AuthorizationPermissionMismatch",
    )
    assert requests.get(url, timeout=10).content == b"original certificate"


def test_sas_signature_is_for_one_blob_only(store: ArtifactStore) -> None:
    dpp_id = new_dpp_id()
    mine = store.put(dpp_id, "repair", b"blob one", "text/plain")
    other = store.put(dpp_id, "repair", b"blob two", "text/plain")
    other_url = store.download_url(other, NO_ROUTE)
    assert requests.get(other_url, timeout=10).status_code == 200  # the other blob exists

    parts = urlsplit(store.download_url(mine, NO_ROUTE))
    swapped = parts._replace(path=urlsplit(other_url).path).geturl()
    assert swapped != other_url
    response = requests.get(swapped, timeout=10)
    # the signature does not hold for the other blob (Azurite's code; Azure says AuthenticationFailed)
    assert (response.status_code, response.headers.get("x-ms-error-code")) == (403, "AuthorizationFailure")


def test_expired_sas_is_refused(root: Any) -> None:
    expired = artifact_store(dataclasses.replace(root.settings, artifact_sas_minutes=-1))
    ref = expired.put(new_dpp_id(), "repair", b"manual v1", "text/plain")
    url = expired.download_url(ref, NO_ROUTE)
    start, expiry = sas_times(url)
    assert start < expiry < datetime.now(UTC).replace(tzinfo=None)
    response = requests.get(url, timeout=10)
    assert (response.status_code, response.headers.get("x-ms-error-code")) == (403, "AuthorizationFailure")
    # The same blob with a live link is readable: it is the expiry that was refused.
    assert requests.get(root.artifacts.download_url(ref, NO_ROUTE), timeout=10).status_code == 200


# --- validation -------------------------------------------------------------------------------


def test_oversize_artifact_is_refused_and_not_stored(root: Any) -> None:
    small = artifact_store(dataclasses.replace(root.settings, max_artifact_bytes=10))
    dpp_id = new_dpp_id()
    assert small.put(dpp_id, "repair", b"0123456789", "text/plain")["size"] == 10  # at the limit

    with pytest.raises(PayloadTooLarge) as caught:
        small.put(dpp_id, "manufacture", b"0123456789A", "text/plain")
    assert caught.value.status == 413
    assert caught.value.code == "ArtifactTooLarge"
    assert "10" in caught.value.text
    assert "DPP_MAX_ARTIFACT_BYTES" in caught.value.text
    prefix = f"{hex256(dpp_id)[:32]}/"
    stored = [blob.name for blob in root.blobs.container("artifacts").list_blobs(name_starts_with=prefix)]
    assert stored == [f"{prefix}repair/{hex256(b'0123456789')}-{hex256('text/plain')[:8]}"]


def test_empty_artifact_is_refused(store: ArtifactStore) -> None:
    with pytest.raises(BadRequest) as caught:
        store.put(new_dpp_id(), "repair", b"", "text/plain")
    assert caught.value.code == "EmptyArtifact"


@pytest.mark.parametrize("value", ["Repair", "repairs", "", " repair", "supply-chain", "other"])
def test_unknown_artifact_type_is_refused(value: str) -> None:
    with pytest.raises(BadRequest) as caught:
        parse_artifact_type(value)
    assert caught.value.code == "InvalidArtifactType"
    for allowed in ARTIFACT_TYPES:
        assert allowed in caught.value.text


def test_put_refuses_unknown_artifact_type_and_bad_media_type(store: ArtifactStore) -> None:
    with pytest.raises(BadRequest) as caught:
        store.put(new_dpp_id(), "invoice", b"x", "text/plain")
    assert caught.value.code == "InvalidArtifactType"
    with pytest.raises(UnsupportedMediaType) as unsupported:
        store.put(new_dpp_id(), "repair", b"x", "pdf")
    assert unsupported.value.code == "InvalidMediaType"


def test_every_artifact_type_is_accepted() -> None:
    assert [parse_artifact_type(value) for value in ARTIFACT_TYPES] == list(ARTIFACT_TYPES)
    assert set(ARTIFACT_TYPES) == {
        "composition",
        "supplychain",
        "manufacture",
        "certification",
        "sustainability",
        "repair",
    }


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("application/pdf", "application/pdf"),
        ("Application/PDF", "application/pdf"),
        ("  image/png  ", "image/png"),
        ("application/json; charset=utf-8", "application/json"),
        ("application/vnd.api+json;profile=x", "application/vnd.api+json"),
        ("text/plain", "text/plain"),
        ("text/plain;charset=UTF-8", "text/plain; charset=utf-8"),
        ('text/plain ; Charset="utf-8"', "text/plain; charset=utf-8"),
        ("text/csv; charset=utf-8; header=present", "text/csv; charset=utf-8; header=present"),
        ('text/plain; format="a b"', 'text/plain; format="a b"'),
        ("text/plain;", "text/plain"),
    ],
)
def test_media_type_parsing(header: str, expected: str) -> None:
    assert parse_media_type(header) == expected
    assert parse_media_type(expected) == expected  # normalised form is a fixed point


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "   ",
        "pdf",
        "application/",
        "/pdf",
        "application/pdf/extra",
        "application pdf",
        "text/plain; charset",
        "text/plain; charset=",
        "text/plain; =utf-8",
        'text/plain; charset="utf-8',
        "text/plain charset=utf-8",
        "application/(pdf)",
        "täxt/plain",
        "<script>/x",
    ],
)
def test_invalid_media_types_are_refused(header: str | None) -> None:
    with pytest.raises(UnsupportedMediaType) as caught:
        parse_media_type(header)
    assert caught.value.status == 415
    assert caught.value.code == "InvalidMediaType"


@pytest.mark.parametrize(
    "uri",
    [
        "https://example.org/artifacts/x",
        "/other/" + "0" * 32 + "/repair/" + "0" * 64 + "-00000000",
        "/artifacts/../secrets/blob",
        "/artifacts/" + "0" * 32 + "/invoice/" + "0" * 64 + "-00000000",
        "artifacts/" + "0" * 32 + "/repair/" + "0" * 64 + "-00000000",
    ],
)
def test_download_url_refuses_foreign_references(uri: str) -> None:
    store = artifact_store(Settings(environment="local"))
    with pytest.raises(ValueError, match="not an artifact reference"):
        store.download_url({"uri": uri}, NO_ROUTE)
    with pytest.raises(ValueError, match="not an artifact reference"):
        store.read({"uri": uri})


# --- configuration and failures ------------------------------------------------------------------


def test_no_storage_configured() -> None:
    unconfigured = artifact_store(Settings(environment="local"))
    with pytest.raises(ServiceUnavailable) as caught:
        unconfigured.put(new_dpp_id(), "repair", b"manual", "text/plain")
    assert caught.value.code == "StorageNotConfigured"
    ref = {"uri": "/artifacts/" + "0" * 32 + "/repair/" + "0" * 64 + "-00000000"}
    with pytest.raises(ServiceUnavailable) as caught:
        unconfigured.download_url(ref, NO_ROUTE)
    assert caught.value.code == "StorageNotConfigured"
    with pytest.raises(ServiceUnavailable) as caught:
        create_blob_service(Settings())
    assert caught.value.code == "StorageNotConfigured"


@pytest.mark.parametrize(
    ("media_type", "served_type", "attachment"),
    [
        ("text/html; charset=utf-8", "text/html; charset=utf-8", True),
        ("image/svg+xml", "image/svg+xml", True),
        ("application/x-evil", "application/octet-stream", True),
        ("application/pdf", "application/pdf", False),
        ("text/csv", "text/csv", False),
    ],
)
def test_artifact_downloads_serve_only_allowed_types_and_active_ones_as_attachments(
    store: ArtifactStore, media_type: str, served_type: str, attachment: bool
) -> None:
    """Issue 14: an artifact uploaded as text/html with a <script> was served by its SAS link as
    text/html, inline: a page on the storage account's origin."""
    data = b"<html><script>alert(document.domain)</script></html>" + uuid.uuid4().bytes
    ref = store.put(f"urn:test:dpp/{uuid.uuid4().hex}", "composition", data, media_type)
    response = requests.get(store.download_url(ref, NO_ROUTE), timeout=10)
    assert response.status_code == 200 and response.content == data
    assert response.headers["Content-Type"] == served_type
    disposition = response.headers.get("Content-Disposition")
    assert (disposition or "").startswith("attachment") is attachment, disposition
    assert ref["mediaType"] == parse_media_type(media_type)  # the reference keeps what was sent
