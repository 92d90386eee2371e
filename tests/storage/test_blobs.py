"""Blob storage: one client per root from settings, containers made locally on first use, SAS
links signed with an account key (Azurite) or a cached user delegation key (Azure), and storage
failures as 503."""

from __future__ import annotations

import base64
import dataclasses
import uuid
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from shared.platform.errors import ServiceUnavailable
from shared.platform.settings import Settings
from shared.storage.blobs import BlobStorage, create_blob_service, translated


def sas_times(url: str) -> tuple[datetime, datetime]:
    query = parse_qs(urlsplit(url).query)
    start, expiry = (datetime.strptime(query[key][0], "%Y-%m-%dT%H:%M:%SZ") for key in ("st", "se"))
    return start, expiry


def test_identity_form_wins_over_connection_string(root: Any) -> None:
    from azure.identity import DefaultAzureCredential

    config = dataclasses.replace(
        root.settings,
        blob_service_uri="https://dppexample.blob.core.windows.net",
        managed_identity_client_id="id",
    )
    assert config.storage_connection_string  # both are set
    service = create_blob_service(config)
    assert service.url.startswith("https://dppexample.blob.core.windows.net")
    assert isinstance(service.credential, DefaultAzureCredential)


def test_one_client_per_root_comes_from_settings(root: Any) -> None:
    assert root.blobs.service is root.blobs.service
    assert root.blobs.service.account_name == "devstoreaccount1"
    # Every part that stores blobs shares the root's client.
    assert root.artifacts._blobs is root.blobs
    assert root.imports.blobs is root.blobs
    assert root.exports.blobs is root.blobs


def test_local_mode_creates_missing_containers_only_when_asked(root: Any) -> None:
    created, untouched = f"test-{uuid.uuid4().hex[:12]}", f"test-{uuid.uuid4().hex[:12]}"
    assert root.settings.is_local
    assert BlobStorage(root.settings).container(created).exists()
    assert not BlobStorage(root.settings, create_missing=False).container(untouched).exists()


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
    """Just enough of BlobServiceClient for a read link in the identity form; counts key fetches."""

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
    blobs = BlobStorage(Settings(), lambda: fake)
    first = blobs.read_url("artifacts", "a/b", 15)
    second = blobs.read_url("artifacts", "a/c", 15)
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
    blobs = BlobStorage(Settings(), lambda: fake)
    blobs.read_url("artifacts", "a/b", 15)
    _, first_expiry = fake.key_requests[0]
    # A link outliving the cached key's validity needs a new key that covers it.
    url = blobs.read_url("artifacts", "a/b", 7 * 60)
    assert len(fake.key_requests) == 2
    _, second_expiry = fake.key_requests[1]
    assert second_expiry > first_expiry
    _, link_expiry = sas_times(url)
    assert second_expiry.replace(tzinfo=None) >= link_expiry
