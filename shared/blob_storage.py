"""Blob storage access: one client per process, created on first use, and read-only SAS URLs.

- One `BlobServiceClient` per process: it holds the connection pool and, in Azure, the token
  cache of its credential; a client per request would pay a TLS handshake and a token fetch.
- In Azure the app reaches storage with its managed identity (`AzureWebJobsStorage__blobServiceUri`
  plus `DefaultAzureCredential`): no account key exists in app settings, so none can leak, and
  data-plane RBAC limits what the app can do. Download links are then user delegation SAS, signed
  with a short-lived key fetched with that identity (cached, since fetching costs a round trip).
- An account key (`AzureWebJobsStorage` connection string) is only for Azurite, whose well-known
  key is public anyway; it signs service SAS locally without any identity provider.
- Containers are created here only in local mode: in Azure, Bicep owns them and RBAC would
  refuse the app creating them anyway.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from shared.config import Settings, settings
from shared.errors import ServiceUnavailable

if TYPE_CHECKING:
    from azure.storage.blob import BlobServiceClient, ContainerClient, UserDelegationKey

log = logging.getLogger(__name__)

# A SAS starts this far in the past so that a client whose clock runs behind can use it at once.
CLOCK_SKEW = timedelta(minutes=5)
# A user delegation key is reused until less than this much of its validity remains.
DELEGATION_KEY_MIN_REMAINING = timedelta(minutes=10)
DELEGATION_KEY_LIFETIME = timedelta(hours=6)
# The service refuses user delegation keys valid for longer than seven days.
DELEGATION_KEY_MAX_LIFETIME = timedelta(days=7)

_container_lock = threading.Lock()
_key_lock = threading.Lock()
# Per-process state, keyed by account URL so that every client of one account shares it.
_ready_containers: set[tuple[str, str]] = set()
_delegation_keys: dict[str, tuple[UserDelegationKey, datetime]] = {}


def create_blob_service(config: Settings) -> BlobServiceClient:
    """A new client for the configured account (no network call); prefer `get_blob_service()`."""
    # Imported here: the storage SDK adds cold start that requests not touching blobs need not pay.
    from azure.storage.blob import BlobServiceClient

    if config.blob_service_uri:
        # The identity form wins: if a connection string lingers next to it, its key stays unused.
        from azure.identity import DefaultAzureCredential

        credential = DefaultAzureCredential(managed_identity_client_id=config.managed_identity_client_id)
        return BlobServiceClient(config.blob_service_uri, credential=credential)
    if config.storage_connection_string:
        return BlobServiceClient.from_connection_string(config.storage_connection_string)
    raise ServiceUnavailable(
        "Blob storage is not configured: set AzureWebJobsStorage__blobServiceUri (Azure) "
        "or AzureWebJobsStorage (a connection string, Azurite)",
        code="StorageNotConfigured",
    )


@lru_cache(maxsize=1)
def get_blob_service() -> BlobServiceClient:
    """The process-wide client, configured from `settings()` at the first call."""
    return create_blob_service(settings())


@contextmanager
def translated() -> Iterator[None]:
    """Turn transport failures, throttling and server errors into a 503 the client can retry."""
    from azure.core.exceptions import HttpResponseError, ServiceRequestError, ServiceResponseError

    try:
        yield
    except (ServiceRequestError, ServiceResponseError) as exc:
        log.error("Blob storage unreachable: %s", exc)
        raise _unavailable() from exc
    except HttpResponseError as exc:
        status = exc.status_code or 0
        if status == 429 or status >= 500:
            log.warning("Blob storage throttled or failing: %s", status)
            raise _unavailable() from exc
        raise


def _unavailable() -> ServiceUnavailable:
    return ServiceUnavailable(
        "Blob storage is unavailable; retry shortly",
        code="StorageUnavailable",
        headers={"Retry-After": "5"},
    )


def container_client(
    name: str, service: BlobServiceClient | None = None, *, create_missing: bool | None = None
) -> ContainerClient:
    """A container's client; in local mode (the default of `create_missing`) the container is
    created at the first use in this process if it does not exist."""
    service = service if service is not None else get_blob_service()
    client = service.get_container_client(name)
    if create_missing is None:
        create_missing = settings().is_local
    if create_missing:
        _ensure_container(service.url, client)
    return client


def _ensure_container(account_url: str, client: ContainerClient) -> None:
    from azure.core.exceptions import ResourceExistsError

    key = (account_url, client.container_name)
    if key in _ready_containers:
        return
    with _container_lock:
        if key in _ready_containers:
            return
        # Exists already: created earlier, or by another process at the same time.
        with translated(), suppress(ResourceExistsError):
            client.create_container()
        _ready_containers.add(key)


def read_sas_url(
    container: str, blob_name: str, minutes: int, service: BlobServiceClient | None = None
) -> str:
    """A URL that lets its holder read ONE blob (nothing else) until `minutes` from now."""
    return _blob_sas_url(container, blob_name, minutes, "read", service)


def upload_sas_url(
    container: str, blob_name: str, minutes: int, service: BlobServiceClient | None = None
) -> str:
    """A URL that lets its holder create or overwrite ONE blob (not read, list or delete it)."""
    return _blob_sas_url(container, blob_name, minutes, "upload", service)


def _blob_sas_url(
    container: str, blob_name: str, minutes: int, purpose: str, service: BlobServiceClient | None
) -> str:
    from azure.storage.blob import BlobSasPermissions, generate_blob_sas

    permission = (
        BlobSasPermissions(read=True) if purpose == "read" else BlobSasPermissions(create=True, write=True)
    )
    service = service if service is not None else get_blob_service()
    now = datetime.now(UTC)
    start, expiry = now - CLOCK_SKEW, now + timedelta(minutes=minutes)
    signing: dict[str, Any]
    account_key = getattr(service.credential, "account_key", None)
    if account_key:
        signing = {"account_key": account_key}
    elif hasattr(service.credential, "get_token"):
        signing = {"user_delegation_key": _delegation_key(service, now, expiry)}
    else:
        raise ServiceUnavailable(
            "Blob storage credentials cannot sign download links: use a connection string with "
            "an AccountKey (Azurite) or AzureWebJobsStorage__blobServiceUri with an identity",
            code="StorageNotConfigured",
        )
    blob = service.get_blob_client(container, blob_name)
    token = generate_blob_sas(
        service.account_name,
        container,
        blob_name,
        permission=permission,
        start=start,
        expiry=expiry,
        # Over HTTPS (Azure) the link must not be usable over plain HTTP; Azurite speaks HTTP only.
        protocol="https" if blob.url.startswith("https://") else None,
        **signing,
    )
    return f"{blob.url}?{token}"


def _delegation_key(service: BlobServiceClient, now: datetime, sas_expiry: datetime) -> UserDelegationKey:
    """A cached user delegation key still valid for 10 minutes and until `sas_expiry`."""
    if sas_expiry > now + DELEGATION_KEY_MAX_LIFETIME:
        raise ValueError("a user delegation SAS cannot outlive its key, valid for at most 7 days")
    needed_until = max(now + DELEGATION_KEY_MIN_REMAINING, sas_expiry)
    with _key_lock:
        cached = _delegation_keys.get(service.url)
        if cached is not None and cached[1] >= needed_until:
            return cached[0]
        key_expiry = min(max(now + DELEGATION_KEY_LIFETIME, needed_until), now + DELEGATION_KEY_MAX_LIFETIME)
        # Fetched under the lock: concurrent requests wait for one key rather than fetch several.
        with translated():
            key = service.get_user_delegation_key(now - CLOCK_SKEW, key_expiry)
        _delegation_keys[service.url] = (key, key_expiry)
        return key
