"""Blob storage access: one client per process, created on first use, and SAS links to one blob.

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
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from shared.platform.clock import utcnow
from shared.platform.errors import ErrorCode, ServiceUnavailable
from shared.platform.settings import Settings

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


def sdk_options() -> dict[str, Any]:
    """Timeouts and retries of the client: storage that stops answering costs a request seconds.

    The SDK's defaults (20 s to connect, 60 s per socket read, exponential retries from 15 s) kept
    an upload to a stopped Azurite waiting 84 s, and one to a hung Azurite past 250 s. With these,
    one call waits at most 2 x 2 s to connect (one retry, after 0-2 s) or 4 s for an answer (not
    retried), then it is a 503 with Retry-After.
    """
    from azure.storage.blob import LinearRetry

    retry = LinearRetry(backoff=1, random_jitter_range=1, retry_total=1, retry_read=0)
    return {"connection_timeout": 2, "read_timeout": 4, "retry_policy": retry}


def create_blob_service(config: Settings) -> BlobServiceClient:
    """A new client for the configured account (no network call)."""
    # Imported here: the storage SDK adds cold start that requests not touching blobs need not pay.
    from azure.storage.blob import BlobServiceClient

    if config.blob_service_uri:
        # The identity form wins: if a connection string lingers next to it, its key stays unused.
        from azure.identity import DefaultAzureCredential

        credential = DefaultAzureCredential(managed_identity_client_id=config.managed_identity_client_id)
        return BlobServiceClient(config.blob_service_uri, credential=credential, **sdk_options())
    if config.storage_connection_string:
        return BlobServiceClient.from_connection_string(config.storage_connection_string, **sdk_options())
    raise ServiceUnavailable(
        "Blob storage is not configured: set AzureWebJobsStorage__blobServiceUri (Azure) "
        "or AzureWebJobsStorage (a connection string, Azurite)",
        code=ErrorCode.STORAGE_NOT_CONFIGURED,
    )


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
        code=ErrorCode.STORAGE_UNAVAILABLE,
        headers={"Retry-After": "5"},
    )


class BlobStorage:
    """The process's Blob storage account: one client, created on first use, shared by every caller.

    Locally (`create_missing`) a container is created the first time it is used; in Azure, Bicep
    owns the containers and the app's role could not create them anyway.
    """

    def __init__(
        self,
        config: Settings,
        service: Callable[[], BlobServiceClient] | None = None,
        *,
        create_missing: bool | None = None,
    ):
        self._factory = service or (lambda: create_blob_service(config))
        self._create_missing = config.is_local if create_missing is None else create_missing
        self._service: BlobServiceClient | None = None
        self._lock = threading.Lock()  # the client
        self._container_lock = threading.Lock()
        self._key_lock = threading.Lock()
        self._ready: set[str] = set()
        self._delegation_key: tuple[UserDelegationKey, datetime] | None = None

    @property
    def service(self) -> BlobServiceClient:
        if self._service is None:
            with self._lock:
                if self._service is None:
                    self._service = self._factory()
        return self._service

    def container(self, name: str) -> ContainerClient:
        client = self.service.get_container_client(name)
        if self._create_missing and name not in self._ready:
            self._ensure(client)
        return client

    def _ensure(self, client: ContainerClient) -> None:
        from azure.core.exceptions import ResourceExistsError

        with self._container_lock:
            if client.container_name in self._ready:
                return
            # Exists already: created earlier, or by another process at the same time.
            with translated(), suppress(ResourceExistsError):
                client.create_container()
            self._ready.add(client.container_name)

    def read_url(
        self,
        container: str,
        blob_name: str,
        minutes: int,
        *,
        content_type: str | None = None,
        content_disposition: str | None = None,
    ) -> str:
        """A URL that lets its holder read ONE blob (nothing else) until `minutes` from now,
        served with `content_type` and `content_disposition` when given (signed into the link)."""
        return self._sas_url(
            container, blob_name, minutes, upload=False, served_as=(content_type, content_disposition)
        )

    def upload_url(self, container: str, blob_name: str, minutes: int) -> str:
        """A URL that lets its holder create or overwrite ONE blob (not read, list or delete it)."""
        return self._sas_url(container, blob_name, minutes, upload=True)

    def _sas_url(
        self,
        container: str,
        blob_name: str,
        minutes: int,
        *,
        upload: bool,
        served_as: tuple[str | None, str | None] = (None, None),
    ) -> str:
        from azure.storage.blob import BlobSasPermissions, generate_blob_sas

        permission = BlobSasPermissions(create=True, write=True) if upload else BlobSasPermissions(read=True)
        service = self.service
        now = utcnow()
        start, expiry = now - CLOCK_SKEW, now + timedelta(minutes=minutes)
        signing: dict[str, Any]
        account_key = getattr(service.credential, "account_key", None)
        if account_key:
            signing = {"account_key": account_key}
        elif hasattr(service.credential, "get_token"):
            signing = {"user_delegation_key": self._user_delegation_key(now, expiry)}
        else:
            raise ServiceUnavailable(
                "Blob storage credentials cannot sign download links: use a connection string with "
                "an AccountKey (Azurite) or AzureWebJobsStorage__blobServiceUri with an identity",
                code=ErrorCode.STORAGE_NOT_CONFIGURED,
            )
        blob = service.get_blob_client(container, blob_name)
        token = generate_blob_sas(
            str(service.account_name),
            container,
            blob_name,
            permission=permission,
            start=start,
            expiry=expiry,
            # Over HTTPS (Azure) the link must not be usable over plain HTTP; Azurite speaks HTTP only.
            protocol="https" if blob.url.startswith("https://") else None,
            content_type=served_as[0],
            content_disposition=served_as[1],
            **signing,
        )
        return f"{blob.url}?{token}"

    def _user_delegation_key(self, now: datetime, sas_expiry: datetime) -> UserDelegationKey:
        """A cached user delegation key still valid for 10 minutes and until `sas_expiry`."""
        if sas_expiry > now + DELEGATION_KEY_MAX_LIFETIME:
            raise ValueError("a user delegation SAS cannot outlive its key, valid for at most 7 days")
        needed_until = max(now + DELEGATION_KEY_MIN_REMAINING, sas_expiry)
        with self._key_lock:
            cached = self._delegation_key
            if cached is not None and cached[1] >= needed_until:
                return cached[0]
            key_expiry = min(
                max(now + DELEGATION_KEY_LIFETIME, needed_until), now + DELEGATION_KEY_MAX_LIFETIME
            )
            # Fetched under the lock: concurrent requests wait for one key rather than fetch several.
            with translated():
                key = self.service.get_user_delegation_key(now - CLOCK_SKEW, key_expiry)
            self._delegation_key = (key, key_expiry)
            return key
