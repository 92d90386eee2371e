"""Where a client is sent to read or write one blob: the one place that decides (DPP_STORAGE_LINKS).

- `sas`: a short-lived SAS URL straight to the storage account. The bytes never pass through the
  app, but the client must reach storage: locally (Azurite) and under the development override.
- `app`: a route of this service, which moves the bytes itself over the private network. With the
  storage account's public access off (the hardened deployment) and Front Door Standard unable to
  reach private storage, a SAS URL would not work from the internet; the app's routes do.

The callers name both forms (the blob, and the route that serves it) and keep their field names;
only which one the client gets changes here.
"""

from __future__ import annotations

from dataclasses import dataclass

from shared.platform.errors import DppError
from shared.platform.settings import STORAGE_LINK_MODES
from shared.storage.blobs import BlobStorage, translated

SAS, APP = STORAGE_LINK_MODES


# What a blob stored without a content type is served as.
OCTET_STREAM = "application/octet-stream"


@dataclass(frozen=True)
class BlobContent:
    """One blob as a route of the app answers with it."""

    data: bytes
    content_type: str
    disposition: str | None = None


class StorageLinks:
    """Chooses, for every link to a blob the service hands out, storage's SAS URL or the app's route."""

    def __init__(self, mode: str, blobs: BlobStorage):
        if mode not in STORAGE_LINK_MODES:
            raise ValueError(f"unknown storage link mode {mode!r}")
        self.mode = mode
        self._blobs = blobs

    @property
    def through_app(self) -> bool:
        return self.mode == APP

    def read(
        self,
        container: str,
        blob_name: str,
        minutes: int,
        app_url: str,
        *,
        content_type: str | None = None,
        content_disposition: str | None = None,
    ) -> str:
        """A link that reads one blob: `app_url`, or a read-only SAS valid for `minutes`."""
        if self.through_app:
            return app_url
        return self._blobs.read_url(
            container, blob_name, minutes, content_type=content_type, content_disposition=content_disposition
        )

    def upload(self, container: str, blob_name: str, minutes: int, app_url: str) -> str:
        """A link that writes one blob: `app_url`, or a create/write-only SAS valid for `minutes`."""
        if self.through_app:
            return app_url
        return self._blobs.upload_url(container, blob_name, minutes)

    def content(self, container: str, blob_name: str, missing: DppError) -> BlobContent:
        """The blob's bytes and stored content type, for a route of the app to send; `missing`
        is raised when there is no such blob."""
        from azure.core.exceptions import ResourceNotFoundError

        with translated():
            try:
                downloader = self._blobs.container(container).download_blob(blob_name)
            except ResourceNotFoundError:
                raise missing from None
            settings = downloader.properties.content_settings
            return BlobContent(downloader.readall(), settings.content_type or OCTET_STREAM)
