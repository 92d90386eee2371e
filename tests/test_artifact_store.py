"""Artifact storage (ByRef data) against the real Azurite of the test session: uploads, download
through the SAS URL over real HTTP, immutability, what the SAS refuses, and input validation."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from shared import blob_storage
from shared.artifacts import (
    ARTIFACT_TYPES,
    ArtifactStore,
    get_artifact_store,
    parse_artifact_type,
    parse_media_type,
)
from shared.blob_storage import container_client, create_blob_service, get_blob_service, translated
from shared.config import Settings, settings
from shared.errors import (
    BadRequest,
    NotFound,
    PayloadTooLarge,
    ServiceUnavailable,
    UnsupportedMediaType,
)


@pytest.fixture(autouse=True)
def _fresh_singletons() -> Iterator[None]:
    # Each test sees the environment app_env configured, not a client cached before it.
    for cached in (settings, get_blob_service, get_artifact_store):
        cached.cache_clear()
    yield


@pytest.fixture
def store(app_env: dict[str, str]) -> ArtifactStore:
    return get_artifact_store()


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

    url = store.download_url(ref)
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


def test_sas_window_starts_before_now_and_lasts_the_configured_minutes(app_env: dict[str, str]) -> None:
    config = dataclasses.replace(settings(), artifact_sas_minutes=15)
    store = ArtifactStore(config)
    url = store.download_url(store.put(new_dpp_id(), "repair", b"manual", "text/markdown"))
    start, expiry = sas_times(url)
    # Both ends come from one clock reading: 5 minutes of skew allowance plus the lifetime.
    assert expiry - start == timedelta(minutes=20)
    assert start < datetime.now(UTC).replace(tzinfo=None)


def test_text_media_type_keeps_its_charset_on_the_blob(store: ArtifactStore) -> None:
    data = "Baumwolle 95 %, Elasthan 5 %, Größe M".encode()
    ref = store.put(new_dpp_id(), "composition", data, 'Text/Plain;  Charset="UTF-8"')
    assert ref["mediaType"] == "text/plain; charset=utf-8"
    response = requests.get(store.download_url(ref), timeout=10)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert response.content == data


def test_same_bytes_same_uri_new_bytes_new_uri_old_url_unchanged(store: ArtifactStore) -> None:
    dpp_id = new_dpp_id()
    first = store.put(dpp_id, "sustainability", b'{"co2e": 4.1}', "application/json")
    blob = container_client("artifacts").get_blob_client(first["uri"].removeprefix("/artifacts/"))
    etag = blob.get_blob_properties().etag
    again = store.put(dpp_id, "sustainability", b'{"co2e": 4.1}', "application/json")
    assert again == first  # idempotent: the existing blob is this content
    assert blob.get_blob_properties().etag == etag  # and it was not written again

    old_url = store.download_url(first)
    second = store.put(dpp_id, "sustainability", b'{"co2e": 3.9}', "application/json")
    assert second["uri"] != first["uri"]
    assert second["hash"] == "sha256-" + sha256_b64url(b'{"co2e": 3.9}')

    old = requests.get(old_url, timeout=10)
    assert old.status_code == 200
    assert old.content == b'{"co2e": 4.1}'
    assert requests.get(store.download_url(second), timeout=10).content == b'{"co2e": 3.9}'


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
    response = requests.get(store.download_url(as_binary), timeout=10)
    assert response.headers["Content-Type"] == "application/octet-stream"


def test_large_artifact_round_trip(store: ArtifactStore) -> None:
    data = os.urandom(5 * 1024 * 1024 + 7)
    ref = store.put(new_dpp_id(), "manufacture", data, "application/octet-stream")
    assert ref["size"] == len(data)
    response = requests.get(store.download_url(ref), timeout=30)
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
    url = store.download_url(ref)

    put = requests.put(url, data=b"forged certificate", headers={"x-ms-blob-type": "BlockBlob"}, timeout=10)
    assert put.status_code == 403, put.text
    delete = requests.delete(url, timeout=10)
    assert delete.status_code == 403, delete.text
    assert requests.get(url, timeout=10).content == b"original certificate"


def test_sas_signature_is_for_one_blob_only(store: ArtifactStore) -> None:
    dpp_id = new_dpp_id()
    mine = store.put(dpp_id, "repair", b"blob one", "text/plain")
    other = store.put(dpp_id, "repair", b"blob two", "text/plain")
    other_url = store.download_url(other)
    assert requests.get(other_url, timeout=10).status_code == 200  # the other blob exists

    parts = urlsplit(store.download_url(mine))
    swapped = parts._replace(path=urlsplit(other_url).path).geturl()
    assert swapped != other_url
    response = requests.get(swapped, timeout=10)
    assert response.status_code == 403, response.text


def test_expired_sas_is_refused(app_env: dict[str, str]) -> None:
    expired = ArtifactStore(dataclasses.replace(settings(), artifact_sas_minutes=-1))
    ref = expired.put(new_dpp_id(), "repair", b"manual v1", "text/plain")
    url = expired.download_url(ref)
    start, expiry = sas_times(url)
    assert start < expiry < datetime.now(UTC).replace(tzinfo=None)
    response = requests.get(url, timeout=10)
    assert response.status_code == 403, response.text
    # The same blob with a live link is readable: it is the expiry that was refused.
    assert requests.get(get_artifact_store().download_url(ref), timeout=10).status_code == 200


# --- validation -------------------------------------------------------------------------------


def test_oversize_artifact_is_refused_and_not_stored(app_env: dict[str, str]) -> None:
    small = ArtifactStore(dataclasses.replace(settings(), max_artifact_bytes=10))
    dpp_id = new_dpp_id()
    assert small.put(dpp_id, "repair", b"0123456789", "text/plain")["size"] == 10  # at the limit

    with pytest.raises(PayloadTooLarge) as caught:
        small.put(dpp_id, "manufacture", b"0123456789A", "text/plain")
    assert caught.value.status == 413
    assert caught.value.code == "ArtifactTooLarge"
    assert "10" in caught.value.text
    assert "DPP_MAX_ARTIFACT_BYTES" in caught.value.text
    prefix = f"{hex256(dpp_id)[:32]}/"
    stored = [blob.name for blob in container_client("artifacts").list_blobs(name_starts_with=prefix)]
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
    with pytest.raises(UnsupportedMediaType):
        store.put(new_dpp_id(), "repair", b"x", "pdf")


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
    store = ArtifactStore(Settings(environment="local"))
    with pytest.raises(ValueError, match="not an artifact reference"):
        store.download_url({"uri": uri})
    with pytest.raises(ValueError, match="not an artifact reference"):
        store.read({"uri": uri})


# --- configuration and failures ------------------------------------------------------------------


def test_no_storage_configured(app_env: dict[str, str]) -> None:
    unconfigured = ArtifactStore(Settings(environment="local"))
    with pytest.raises(ServiceUnavailable) as caught:
        unconfigured.put(new_dpp_id(), "repair", b"manual", "text/plain")
    assert caught.value.code == "StorageNotConfigured"
    ref = {"uri": "/artifacts/" + "0" * 32 + "/repair/" + "0" * 64 + "-00000000"}
    with pytest.raises(ServiceUnavailable) as caught:
        unconfigured.download_url(ref)
    assert caught.value.code == "StorageNotConfigured"
    with pytest.raises(ServiceUnavailable) as caught:
        create_blob_service(Settings())
    assert caught.value.code == "StorageNotConfigured"


def test_identity_form_wins_over_connection_string(app_env: dict[str, str]) -> None:
    from azure.identity import DefaultAzureCredential

    config = dataclasses.replace(
        settings(),
        blob_service_uri="https://dppexample.blob.core.windows.net",
        managed_identity_client_id="id",
    )
    assert config.storage_connection_string  # both are set
    service = create_blob_service(config)
    assert service.url.startswith("https://dppexample.blob.core.windows.net")
    assert isinstance(service.credential, DefaultAzureCredential)


def test_process_wide_client_comes_from_settings(app_env: dict[str, str]) -> None:
    assert get_blob_service() is get_blob_service()
    assert get_blob_service().account_name == "devstoreaccount1"
    assert get_artifact_store() is get_artifact_store()


def test_local_mode_creates_missing_containers_only_when_asked(app_env: dict[str, str]) -> None:
    created, untouched = f"test-{uuid.uuid4().hex[:12]}", f"test-{uuid.uuid4().hex[:12]}"
    assert settings().is_local
    assert container_client(created).exists()
    assert not container_client(untouched, create_missing=False).exists()


def test_translated_turns_transport_and_server_errors_into_503() -> None:
    from azure.core.exceptions import HttpResponseError, ResourceNotFoundError, ServiceRequestError

    for status in (429, 500, 503):
        error = HttpResponseError(message="busy")
        error.status_code = status
        with pytest.raises(ServiceUnavailable) as caught, translated():
            raise error
        assert caught.value.code == "StorageUnavailable"
        assert caught.value.headers == {"Retry-After": "5"}
    with pytest.raises(ServiceUnavailable) as caught, translated():
        raise ServiceRequestError("connection refused")
    assert caught.value.code == "StorageUnavailable"
    with pytest.raises(ResourceNotFoundError), translated():
        raise ResourceNotFoundError("gone")


# --- user delegation SAS (identity form), with a stand-in for the Blob service ------------------


class FakeIdentityService:
    """Just enough of BlobServiceClient for read_sas_url in the identity form; counts key fetches."""

    def __init__(self) -> None:
        from azure.storage.blob import BlobServiceClient

        self.account_name = "dppexample"
        self.url = f"https://dppexample.blob.core.windows.net/{uuid.uuid4().hex}"  # own key cache
        self.credential = self  # has get_token: a token credential
        self.key_requests: list[tuple[datetime, datetime]] = []
        self._real = BlobServiceClient(self.url, credential=None)

    def get_token(self, *scopes: str, **kwargs: Any) -> Any:
        raise AssertionError("no token needed: the key fetch is faked")

    def get_blob_client(self, container: str, blob: str) -> Any:
        return self._real.get_blob_client(container, blob)

    def get_user_delegation_key(self, key_start_time: datetime, key_expiry_time: datetime) -> Any:
        from azure.storage.blob import UserDelegationKey

        self.key_requests.append((key_start_time, key_expiry_time))
        key = UserDelegationKey()
        key.signed_oid, key.signed_tid = str(uuid.uuid4()), str(uuid.uuid4())
        key.signed_start = key_start_time.strftime("%Y-%m-%dT%H:%M:%SZ")
        key.signed_expiry = key_expiry_time.strftime("%Y-%m-%dT%H:%M:%SZ")
        key.signed_service, key.signed_version = "b", "2025-01-05"
        key.value = base64.b64encode(b"k" * 32).decode("ascii")
        return key


def test_user_delegation_key_is_fetched_once_and_reused() -> None:
    fake: Any = FakeIdentityService()
    first = blob_storage.read_sas_url("artifacts", "a/b", 15, service=fake)
    second = blob_storage.read_sas_url("artifacts", "a/c", 15, service=fake)
    assert len(fake.key_requests) == 1
    for url in (first, second):
        query = parse_qs(urlsplit(url).query)
        assert query["sp"] == ["r"]
        assert query["sr"] == ["b"]
        assert query["spr"] == ["https"]
        assert "skoid" in query  # signed with the delegation key, not an account key
    start, expiry = fake.key_requests[0]
    assert expiry - start >= timedelta(hours=6)


def test_user_delegation_key_is_renewed_when_it_would_not_cover_the_link() -> None:
    fake: Any = FakeIdentityService()
    blob_storage.read_sas_url("artifacts", "a/b", 15, service=fake)
    _, first_expiry = fake.key_requests[0]
    # A link outliving the cached key's validity needs a new key that covers it.
    url = blob_storage.read_sas_url("artifacts", "a/b", 7 * 60, service=fake)
    assert len(fake.key_requests) == 2
    _, second_expiry = fake.key_requests[1]
    assert second_expiry > first_expiry
    _, link_expiry = sas_times(url)
    assert second_expiry.replace(tzinfo=None) >= link_expiry
