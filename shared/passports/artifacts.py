"""Passport artifacts (ByRef data): files such as certificates or repair manuals, kept in Blob
storage and referenced from a passport by `{"uri", "hash", "mediaType", "size"}`.

Artifacts are immutable and content-addressed: the blob name derives from the passport, the
artifact type, the bytes and the media type, so storing the same file twice is one blob, and a
reference in an old passport version keeps resolving to exactly the bytes it was signed with.
The `uri` is container-relative and stable; readers get a link to it (shared.storage.links): a
short-lived read-only SAS URL, or the app's content route, which serves the bytes itself.
"""

from __future__ import annotations

import hashlib
import re
from contextlib import suppress
from dataclasses import dataclass
from typing import Any

from shared.platform.encoding import b64url
from shared.platform.errors import BadRequest, ErrorCode, NotFound, PayloadTooLarge, UnsupportedMediaType
from shared.platform.settings import Settings
from shared.storage.blobs import BlobStorage, translated
from shared.storage.links import SAS, BlobContent, StorageLinks

ARTIFACT_TYPES: tuple[str, ...] = (
    "composition",
    "supplychain",
    "manufacture",
    "certification",
    "sustainability",
    "repair",
)
ARTIFACTS_CONTAINER = "artifacts"
URI_PREFIX = f"/{ARTIFACTS_CONTAINER}/"

# Bodies up to the SDK's single-put size (64 MiB) go in one request; above it, a few blocks at a
# time speed the upload up without starving the worker's other requests of connections.
UPLOAD_CONCURRENCY = 4

# RFC 9110 5.6.2 (token), 5.6.4 (quoted-string), 8.3.1 (media type and its parameters). The
# obsolete non-ASCII octets (obs-text) are refused: the value becomes the blob's Content-Type
# header, and senders must not generate them anyway.
_TCHARS = r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+"
_QUOTED = r'"(?:[\t \x21\x23-\x5b\x5d-\x7e]|\\[\t \x21-\x7e])*"'
_TYPE_SUBTYPE = re.compile(rf"({_TCHARS})/({_TCHARS})")
_PARAMETER = re.compile(rf"[ \t]*;[ \t]*(?:({_TCHARS})=({_TCHARS}|{_QUOTED}))?")
_BARE_VALUE = re.compile(_TCHARS)
# What put() writes; a reference naming anything else was not made by this store.
_BLOB_NAME = re.compile(rf"[0-9a-f]{{32}}/(?:{'|'.join(ARTIFACT_TYPES)})/[0-9a-f]{{64}}-[0-9a-f]{{8}}")


def parse_artifact_type(value: str) -> str:
    if value in ARTIFACT_TYPES:
        return value
    raise BadRequest(
        f"Unknown artifact type {value!r}; allowed: {', '.join(ARTIFACT_TYPES)}",
        code=ErrorCode.INVALID_ARTIFACT_TYPE,
    )


def parse_media_type(header: str | None) -> str:
    """An upload's Content-Type, normalised: `type/subtype` lowercased, parameters dropped except
    for `text/*`, where they carry meaning (the charset) and are kept as `; name=value`."""
    if header is None or not header.strip():
        raise UnsupportedMediaType(
            "An artifact upload needs a Content-Type", code=ErrorCode.INVALID_MEDIA_TYPE
        )
    text = header.strip()
    head = _TYPE_SUBTYPE.match(text)
    if head is None:
        raise _invalid_media_type(header)
    media_type = f"{head.group(1)}/{head.group(2)}".lower()
    parameters: list[str] = []
    position = head.end()
    while position < len(text):
        parameter = _PARAMETER.match(text, position)
        if parameter is None or parameter.end() == position:
            raise _invalid_media_type(header)
        position = parameter.end()
        if parameter.group(1) is not None:  # RFC 9110 allows empty parameters (`;;`)
            parameters.append(_normalised_parameter(parameter.group(1), parameter.group(2)))
    if media_type.startswith("text/") and parameters:
        return "; ".join([media_type, *parameters])
    return media_type


def _normalised_parameter(name: str, value: str) -> str:
    name = name.lower()
    if value.startswith('"'):
        value = re.sub(r"\\(.)", r"\1", value[1:-1])
    if name == "charset":
        value = value.lower()  # charset names are case-insensitive (RFC 9110 8.3.2)
    if _BARE_VALUE.fullmatch(value):
        return f"{name}={value}"
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    return f'{name}="{escaped}"'


def _invalid_media_type(header: str) -> UnsupportedMediaType:
    return UnsupportedMediaType(
        f"Content-Type {header[:100]!r} is not a valid media type (type/subtype)",
        code=ErrorCode.INVALID_MEDIA_TYPE,
    )


# Served as stored: formats a browser shows without running anything of the file's.
SERVED_AS_STORED = frozenset(
    {
        "application/pdf",
        "application/json",
        "application/ld+json",
        "application/zip",
        "text/csv",
        "text/plain",
        "text/turtle",
        "text/markdown",
        "image/png",
        "image/jpeg",
        "image/gif",
        "image/webp",
        "image/avif",
        "model/gltf-binary",
        "model/gltf+json",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    }
)
# Formats a browser would run (script in HTML, SVG, XML with XSLT): kept, but only ever downloaded.
ACTIVE = frozenset(
    {
        "text/html",
        "application/xhtml+xml",
        "image/svg+xml",
        "application/xml",
        "text/xml",
        "text/javascript",
        "application/javascript",
        "application/ecmascript",
        "text/css",
    }
)
OCTET_STREAM = "application/octet-stream"


@dataclass(frozen=True)
class Served:
    """How a download link serves an artifact: the stored type only when it is on the allow-list
    (else application/octet-stream), and as an attachment whenever a browser could run it."""

    content_type: str
    disposition: str | None


def served(media_type: str, artifact_type: str) -> Served:
    base = media_type.split(";", 1)[0].strip().lower()
    attachment = f'attachment; filename="{artifact_type}"'
    if base in SERVED_AS_STORED:
        return Served(media_type, None)
    if base in ACTIVE:
        return Served(media_type, attachment)
    return Served(OCTET_STREAM, attachment)


def blob_name(dpp_id: str, artifact_type: str, data_sha256_hex: str, media_type: str) -> str:
    """Client ids may hold characters blob names handle badly (`/`, `#`, `?`, `..`): only their
    hash appears. The media type is part of the name: the same bytes served as another type are
    another artifact, and a blob's content type never changes after upload."""
    passport = hashlib.sha256(dpp_id.encode("utf-8")).hexdigest()[:32]
    media = hashlib.sha256(media_type.encode("utf-8")).hexdigest()[:8]
    return f"{passport}/{artifact_type}/{data_sha256_hex}-{media}"


def blob_name_of(ref: dict[str, Any]) -> str:
    """The blob a reference names; ValueError unless it is one this store could have written
    (references can come back inside client-written documents)."""
    uri = ref.get("uri")
    if not isinstance(uri, str) or not uri.startswith(URI_PREFIX):
        raise ValueError(f"not an artifact reference: uri must start with {URI_PREFIX}")
    name = uri[len(URI_PREFIX) :]
    if not _BLOB_NAME.fullmatch(name):
        raise ValueError("not an artifact reference: unexpected blob name")
    return name


class ArtifactStore:
    """Puts artifacts into the `artifacts` container and hands out read links to them."""

    def __init__(self, config: Settings, blobs: BlobStorage, links: StorageLinks | None = None):
        self._config = config
        self._blobs = blobs
        self._links = links or StorageLinks(SAS, blobs)

    def put(self, dpp_id: str, artifact_type: str, data: bytes, media_type: str) -> dict[str, Any]:
        """Store the bytes (idempotent) and return their reference."""
        artifact_type = parse_artifact_type(artifact_type)
        media_type = parse_media_type(media_type)
        self._check_size(data)
        digest = hashlib.sha256(data).digest()
        name = blob_name(dpp_id, artifact_type, digest.hex(), media_type)
        self._upload(name, data, served(media_type, artifact_type))
        return {
            "uri": URI_PREFIX + name,
            "hash": "sha256-" + b64url(digest),
            "mediaType": media_type,
            "size": len(data),
        }

    def _check_size(self, data: bytes) -> None:
        if not data:
            raise BadRequest("An artifact cannot be empty", code=ErrorCode.EMPTY_ARTIFACT)
        limit = self._config.max_artifact_bytes
        if len(data) > limit:
            raise PayloadTooLarge(
                f"An artifact may hold at most {limit} bytes (setting DPP_MAX_ARTIFACT_BYTES)",
                code=ErrorCode.ARTIFACT_TOO_LARGE,
            )

    def _upload(self, name: str, data: bytes, how: Served) -> None:
        from azure.core.exceptions import ResourceExistsError
        from azure.storage.blob import ContentSettings

        container = self._blobs.container(ARTIFACTS_CONTAINER)
        # The name is the content's hash: a blob already there holds these very bytes.
        with translated(), suppress(ResourceExistsError):
            container.upload_blob(
                name,
                data,
                overwrite=False,
                content_settings=ContentSettings(
                    content_type=how.content_type, content_disposition=how.disposition
                ),
                max_concurrency=UPLOAD_CONCURRENCY,
            )

    def download_url(self, ref: dict[str, Any], app_url: str) -> str:
        """A read-only link to the artifact: storage's, valid for DPP_ARTIFACT_SAS_MINUTES, or
        `app_url`, the app's content route (DPP_STORAGE_LINKS)."""
        name = blob_name_of(ref)
        # The link says how to serve it too (rsct, rscd): blobs stored before the allow-list obey.
        how = _served_ref(ref, name)
        return self._links.read(
            ARTIFACTS_CONTAINER,
            name,
            self._config.artifact_sas_minutes,
            app_url,
            content_type=how.content_type,
            content_disposition=how.disposition,
        )

    def content(self, ref: dict[str, Any]) -> BlobContent:
        """The artifact's bytes as the app's content route serves them: the allow-list decides the
        type and disposition, as it does for a SAS link, whatever the blob itself says."""
        how = _served_ref(ref, blob_name_of(ref))
        return BlobContent(self.read(ref), how.content_type, how.disposition)

    def read(self, ref: dict[str, Any]) -> bytes:
        from azure.core.exceptions import ResourceNotFoundError

        name = blob_name_of(ref)
        container = self._blobs.container(ARTIFACTS_CONTAINER)
        with translated():
            try:
                return container.download_blob(name, max_concurrency=UPLOAD_CONCURRENCY).readall()
            except ResourceNotFoundError:
                raise NotFound("The artifact does not exist", code=ErrorCode.ARTIFACT_NOT_FOUND) from None


def _served_ref(ref: dict[str, Any], name: str) -> Served:
    return served(str(ref.get("mediaType", OCTET_STREAM)), name.split("/")[-2])
