"""Domain errors and the one enumeration of their codes (rendered as EN 18222 Result objects)."""

from __future__ import annotations

from enum import StrEnum


class ErrorCode(StrEnum):
    """Every `code` a Result object's messages can carry (errors, and the registry's Info and
    Warning notes): clients branch on these, so they never change."""

    # Generic, one per HTTP status
    BAD_REQUEST = "BadRequest"
    UNAUTHORIZED = "Unauthorized"
    FORBIDDEN = "Forbidden"
    NOT_FOUND = "NotFound"
    METHOD_NOT_ALLOWED = "MethodNotAllowed"
    CONFLICT = "Conflict"
    GONE = "Gone"
    PRECONDITION_FAILED = "PreconditionFailed"
    PAYLOAD_TOO_LARGE = "PayloadTooLarge"
    UNSUPPORTED_MEDIA_TYPE = "UnsupportedMediaType"
    INTERNAL_SERVER_ERROR = "InternalServerError"
    NOT_IMPLEMENTED = "NotImplemented"
    SERVICE_UNAVAILABLE = "ServiceUnavailable"
    # Requests
    BODY_TOO_LARGE = "BodyTooLarge"
    INVALID_BODY = "InvalidBody"
    INVALID_JSON = "InvalidJson"
    MISSING_BODY = "MissingBody"
    INVALID_IDENTIFIER = "InvalidIdentifier"
    INVALID_PARAMETER = "InvalidParameter"
    INVALID_REPRESENTATION = "InvalidRepresentation"
    INVALID_CURSOR = "InvalidCursor"
    INVALID_LIMIT = "InvalidLimit"
    INVALID_TIMESTAMP = "InvalidTimestamp"
    MISSING_DATE = "MissingDate"
    # Authentication and authorization
    AUTH_NOT_CONFIGURED = "AuthNotConfigured"
    AUTHENTICATION_REQUIRED = "AuthenticationRequired"
    INVALID_TOKEN = "InvalidToken"  # noqa: S105 - an error code, not a secret
    ROLE_REQUIRED = "RoleRequired"
    NOT_PASSPORT_OWNER = "NotPassportOwner"
    ELEMENT_RESTRICTED = "ElementRestricted"
    ACCESS_POLICY_INVALID = "AccessPolicyInvalid"
    INVALID_ACCESS_POLICY = "InvalidAccessPolicy"
    # The operator registry: who may issue passports for which product ids
    PRODUCT_ID_NOT_ASSIGNED = "ProductIdNotAssigned"
    PRODUCT_ID_OWNED = "ProductIdOwned"
    INVALID_NAMESPACES = "InvalidNamespaces"
    NAMESPACE_OVERLAP = "NamespaceOverlap"
    OPERATOR_NOT_FOUND = "OperatorNotFound"
    # Passports and their elements
    INVALID_PASSPORT = "InvalidPassport"
    INVALID_PRODUCT_IDENTIFIER = "InvalidProductIdentifier"
    INVALID_RELATIONS = "InvalidRelations"
    IMMUTABLE_FIELD = "ImmutableField"
    SERVER_MANAGED_FIELD = "ServerManagedField"
    PASSPORT_EXISTS = "PassportExists"
    PASSPORT_NOT_FOUND = "PassportNotFound"
    PASSPORT_GONE = "PassportGone"
    PASSPORT_REVOKED = "PassportRevoked"
    PRODUCT_HAS_PASSPORT = "ProductHasPassport"
    INVALID_PRODUCT_IDS = "InvalidProductIds"
    INVALID_ELEMENT_PATH = "InvalidElementPath"
    ELEMENT_NOT_FOUND = "ElementNotFound"
    RETENTION_PERIOD = "RetentionPeriod"
    WRITE_CONTENTION = "WriteContention"
    INVALID_VERSION = "InvalidVersion"
    # The UNTP credential and its status lists
    CREDENTIAL_NOT_ISSUED = "CredentialNotIssued"
    STATUS_LIST_NOT_FOUND = "StatusListNotFound"
    # Version labels and the lifecycle
    INVALID_LIFECYCLE = "InvalidLifecycle"
    INVALID_VERSION_LABEL = "InvalidVersionLabel"
    VERSION_LABEL_USED = "VersionLabelUsed"
    INVALID_PUBLICATION = "InvalidPublication"
    INVALID_REVOCATION = "InvalidRevocation"
    # Artifacts
    INVALID_ARTIFACT_TYPE = "InvalidArtifactType"
    INVALID_MEDIA_TYPE = "InvalidMediaType"
    EMPTY_ARTIFACT = "EmptyArtifact"
    ARTIFACT_TOO_LARGE = "ArtifactTooLarge"
    ARTIFACT_NOT_FOUND = "ArtifactNotFound"
    # Search
    INVALID_KEYWORD = "InvalidKeyword"
    INVALID_STATUS = "InvalidStatus"
    MISSING_SEARCH_TERM = "MissingSearchTerm"
    # Registry
    INVALID_REGISTRATION = "InvalidRegistration"
    PRODUCT_MISMATCH = "ProductMismatch"
    REGISTRATION_NOT_FOUND = "RegistrationNotFound"
    REGISTRATION_IN_PROGRESS = "RegistrationInProgress"
    REGISTRATION_BUSY = "RegistrationBusy"
    REGISTRY_REFUSED = "RegistryRefused"
    REGISTRY_REJECTED = "RegistryRejected"
    REGISTRY_UNREACHABLE = "RegistryUnreachable"
    REGISTRY_NOT_CONFIGURED = "RegistryNotConfigured"
    REGISTRY_DELIVERY_PENDING = "RegistryDeliveryPending"
    ALREADY_REGISTERED = "AlreadyRegistered"
    # Imports and exports
    INVALID_IMPORT = "InvalidImport"
    INVALID_MAPPING = "InvalidMapping"
    IMPORT_NOT_FOUND = "ImportNotFound"
    IMPORT_UPLOAD_CLOSED = "ImportUploadClosed"
    INVALID_EXPORT = "InvalidExport"
    EXPORT_NOT_FOUND = "ExportNotFound"
    # PIM connectors
    CONNECTOR_NOT_FOUND = "ConnectorNotFound"
    SYNC_NOT_FOUND = "SyncNotFound"
    INVALID_SYNC = "InvalidSync"
    # Backing services
    STORE_NOT_CONFIGURED = "StoreNotConfigured"
    STORE_BUSY = "StoreBusy"
    STORE_UNAVAILABLE = "StoreUnavailable"
    NOT_READY = "NotReady"
    STORAGE_NOT_CONFIGURED = "StorageNotConfigured"
    STORAGE_UNAVAILABLE = "StorageUnavailable"
    SIGNER_NOT_CONFIGURED = "SignerNotConfigured"
    SIGNER_ROTATED = "SignerRotated"
    SIGNER_THROTTLED = "SignerThrottled"
    SIGNER_UNAVAILABLE = "SignerUnavailable"


class DppError(Exception):
    """An error the client caused or must know about; carries its HTTP status and a stable code."""

    status: int = 500
    code: ErrorCode = ErrorCode.INTERNAL_SERVER_ERROR

    def __init__(self, text: str, *, code: ErrorCode | None = None, headers: dict[str, str] | None = None):
        super().__init__(text)
        self.text = text
        if code is not None:
            self.code = code
        self.headers = headers or {}


class BadRequest(DppError):
    status, code = 400, ErrorCode.BAD_REQUEST


class Unauthorized(DppError):
    status, code = 401, ErrorCode.UNAUTHORIZED

    def __init__(self, text: str, *, code: ErrorCode | None = None):
        super().__init__(text, code=code, headers={"WWW-Authenticate": 'Bearer realm="dpp"'})


class Forbidden(DppError):
    status, code = 403, ErrorCode.FORBIDDEN


class NotFound(DppError):
    status, code = 404, ErrorCode.NOT_FOUND


class MethodNotAllowed(DppError):
    status, code = 405, ErrorCode.METHOD_NOT_ALLOWED


class Conflict(DppError):
    status, code = 409, ErrorCode.CONFLICT


class Gone(DppError):
    status, code = 410, ErrorCode.GONE


class PreconditionFailed(DppError):
    status, code = 412, ErrorCode.PRECONDITION_FAILED


class PayloadTooLarge(DppError):
    status, code = 413, ErrorCode.PAYLOAD_TOO_LARGE


class UnsupportedMediaType(DppError):
    status, code = 415, ErrorCode.UNSUPPORTED_MEDIA_TYPE


class NotImplementedFeature(DppError):
    status, code = 501, ErrorCode.NOT_IMPLEMENTED


class ServiceUnavailable(DppError):
    status, code = 503, ErrorCode.SERVICE_UNAVAILABLE
