"""Settings, read from the environment (app settings in Azure, local.settings.json / .env locally).

Every setting the code reads is named here, so docs/platform.md, local.settings.sample.json and the
Bicep app settings can be checked against one list.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

LOCAL = "local"

# Names of settings, in one place (the infra cross-check reads this tuple).
SETTING_NAMES: tuple[str, ...] = (
    "DPP_ENVIRONMENT",
    "COSMOS_ENDPOINT",
    "COSMOS_KEY",
    "COSMOS_DATABASE",
    "COSMOS_VERIFY_TLS",
    "COSMOS_PREFERRED_REGIONS",
    # The change-feed trigger's connection (read by the Functions host, functions/changes.py).
    "COSMOS_CHANGES",
    "COSMOS_CHANGES__accountEndpoint",
    "AZURE_CLIENT_ID",
    "AUTH_ISSUER",
    "AUTH_AUDIENCE",
    "AUTH_JWKS_URL",
    "AUTH_JWKS_FILE",
    "AUTH_OPERATOR_CLAIM",
    "DPP_SIGNING_KEY_ID",
    "DPP_SIGNING_KEY_FILE",
    "DPP_SIGNING_RATE_PER_SECOND",
    "DPP_RETENTION_DAYS",
    "DPP_MAX_BODY_BYTES",
    "DPP_ACCESS_POLICY_FILE",
    "DPP_PUBLIC_MAX_AGE",
    "DPP_MAX_ARTIFACT_BYTES",
    "DPP_ARTIFACT_SAS_MINUTES",
    "DPP_STORAGE_LINKS",
    "DPP_REGISTRY_URL",
    "DPP_PUBLIC_URL",
    "DPP_CORS_ORIGINS",
    "WEBSITE_HOSTNAME",
    "DPP_REGISTRY_AUTO_REGISTER",
    "DPP_REGISTRY_MAX_ATTEMPTS",
    "DPP_IMPORT_MAX_BYTES",
    "DPP_IMPORT_MAX_ROWS",
    "DPP_IMPORT_CONCURRENCY",
    "DPP_OUTBOUND_ALLOW_HTTP",
    "DPP_OUTBOUND_ALLOWED_NETWORKS",
    "DPP_OUTBOUND_FETCH_BUDGET",
    "DPP_CONNECTORS",
    "DPP_CONNECTOR_SECRETS",
    # Passport events (shared/publication/events.py): an Event Grid topic in Azure, a webhook locally.
    "DPP_EVENTS_TOPIC_ENDPOINT",
    "DPP_EVENTS_WEBHOOK_URL",
    "AzureWebJobsStorage",
    "AzureWebJobsStorage__blobServiceUri",
    "APPLICATIONINSIGHTS_CONNECTION_STRING",
)

# Settings the Bicep templates (infra/) do not set, and why; every other name in SETTING_NAMES
# must be an app setting there (tests/infra/test_bicep.py checks both).
OPTIONAL_IN_AZURE: dict[str, str] = {
    "COSMOS_KEY": "local only: in Azure the app authenticates with its managed identity",
    "COSMOS_VERIFY_TLS": "local only: for emulators with self-signed certificates (default true)",
    "COSMOS_CHANGES": "local only: the change-feed trigger's connection string (Azure uses the "
    "identity-based COSMOS_CHANGES__* settings)",
    "AUTH_JWKS_FILE": "local only: the development token issuer's keys (Azure uses AUTH_JWKS_URL)",
    "DPP_SIGNING_KEY_FILE": "local only: a PEM key when no Key Vault key is set",
    "DPP_SIGNING_RATE_PER_SECOND": "optional: default 80% of the vault's documented limit for the "
    "key's type (160/s HSM, 320/s software)",
    "AzureWebJobsStorage": "local only: Azurite's connection string (Azure uses the identity-based "
    "AzureWebJobsStorage__* settings)",
    "DPP_MAX_BODY_BYTES": "optional: default 1 MiB",
    "DPP_ACCESS_POLICY_FILE": "optional: default shared/access/access-policy.json, deployed with the code",
    "DPP_MAX_ARTIFACT_BYTES": "optional: default 10 MiB",
    "DPP_ARTIFACT_SAS_MINUTES": "optional: default 15",
    "DPP_REGISTRY_MAX_ATTEMPTS": "optional: default 8",
    "DPP_IMPORT_MAX_BYTES": "optional: default 50 MiB",
    "DPP_IMPORT_MAX_ROWS": "optional: default 100,000",
    "DPP_IMPORT_CONCURRENCY": "optional: default 8",
    "DPP_OUTBOUND_ALLOW_HTTP": "local only: fetch other providers over plain http "
    "(default false: https only)",
    "DPP_OUTBOUND_ALLOWED_NETWORKS": "local only: private or loopback networks other providers may be "
    "fetched from (default none)",
    "DPP_OUTBOUND_FETCH_BUDGET": "optional: default 20 outbound requests per relations read",
    "WEBSITE_HOSTNAME": "set by the Functions platform itself: the app's default host name",
    "DPP_EVENTS_WEBHOOK_URL": "local only: where the host POSTs passport events (Azure publishes "
    "them to the Event Grid topic of DPP_EVENTS_TOPIC_ENDPOINT)",
}


def _bool(value: str | None, default: bool) -> bool:
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name, "")
    if raw.strip() == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ValueError(f"setting {name} must be an integer, got {raw!r}") from exc


def _rate(env: Mapping[str, str], name: str) -> float | None:
    raw = env.get(name, "").strip()
    if not raw:
        return None
    try:
        rate = float(raw)
    except ValueError:
        rate = 0.0
    if not rate > 0 or rate == float("inf"):
        raise ValueError(f"setting {name} must be a number above 0, got {raw!r}")
    return rate


_ORIGIN = re.compile(r"https?://[^/\s?#]+")


def _origins(raw: str) -> tuple[str, ...]:
    """Origins (`https://app.example.com`) that may call with a token; `*` is refused on purpose."""
    origins = tuple(part.strip().rstrip("/") for part in raw.split(",") if part.strip())
    for origin in origins:
        if not _ORIGIN.fullmatch(origin):
            raise ValueError(f"setting DPP_CORS_ORIGINS: {origin!r} is not an origin (scheme://host[:port])")
    return origins


def _regions(raw: str) -> tuple[str, ...]:
    """Azure regions, nearest first (`westeurope, North Europe`): the SDK matches either spelling."""
    return tuple(part.strip() for part in raw.split(",") if part.strip())


def _networks(raw: str) -> tuple[str, ...]:
    """CIDR networks (`127.0.0.0/8, ::1/128`), each checked here so a typo fails at start."""
    import ipaddress

    networks = tuple(part.strip() for part in raw.split(",") if part.strip())
    for network in networks:
        try:
            ipaddress.ip_network(network, strict=False)
        except ValueError:
            raise ValueError(
                f"setting DPP_OUTBOUND_ALLOWED_NETWORKS: {network!r} is not a CIDR network"
            ) from None
    return networks


STORAGE_LINK_MODES = ("sas", "app")


def _storage_links(raw: str) -> str:
    """`sas` (links straight to Blob storage) or `app` (links to this service's own routes)."""
    mode = raw.strip().lower() or "sas"
    if mode not in STORAGE_LINK_MODES:
        raise ValueError(
            f"setting DPP_STORAGE_LINKS must be one of {', '.join(STORAGE_LINK_MODES)}, got {raw!r}"
        )
    return mode


def _public_url(env: Mapping[str, str]) -> str:
    """Where readers reach the service: DPP_PUBLIC_URL, else the app's own host name in Azure."""
    if env.get("DPP_PUBLIC_URL"):
        return env["DPP_PUBLIC_URL"].rstrip("/")
    if env.get("WEBSITE_HOSTNAME"):
        return "https://" + env["WEBSITE_HOSTNAME"]
    return "http://127.0.0.1:7071"


@dataclass(frozen=True)
class Settings:
    environment: str = "azure"
    cosmos_endpoint: str = ""
    cosmos_key: str | None = None
    cosmos_database: str = "dpp"
    cosmos_verify_tls: bool = True
    cosmos_preferred_regions: tuple[str, ...] = ()
    managed_identity_client_id: str | None = None
    auth_issuer: str = ""
    auth_audience: str = ""
    auth_jwks_url: str | None = None
    auth_jwks_file: str | None = None
    auth_operator_claim: str = "economicOperatorId"
    signing_key_id: str | None = None
    signing_key_file: str | None = None
    # Key Vault signatures per second per instance; None: derived from the key's type.
    signing_rate_per_second: float | None = None
    retention_days: int = 0
    max_body_bytes: int = 1_048_576
    access_policy_file: str | None = None
    public_max_age: int = 300
    max_artifact_bytes: int = 10_485_760
    artifact_sas_minutes: int = 15
    storage_links: str = "sas"
    registry_url: str | None = None
    public_url: str = "http://127.0.0.1:7071"
    cors_origins: tuple[str, ...] = ()
    registry_auto_register: bool = False
    registry_max_attempts: int = 8
    import_max_bytes: int = 52_428_800
    import_max_rows: int = 100_000
    import_concurrency: int = 8
    outbound_allow_http: bool = False
    outbound_allowed_networks: tuple[str, ...] = ()
    outbound_fetch_budget: int = 20
    storage_connection_string: str | None = None
    blob_service_uri: str | None = None
    appinsights_connection_string: str | None = None
    # PIM connectors (docs/connectors.md): the JSON list, and their credentials, never shown.
    connectors: str = ""
    connector_secrets: str = field(default="", repr=False)
    # Passport events: at most one destination (docs/interoperability.md); neither: no events.
    events_topic_endpoint: str | None = None
    events_webhook_url: str | None = None

    @property
    def is_local(self) -> bool:
        return self.environment == LOCAL

    @property
    def events_enabled(self) -> bool:
        return bool(self.events_topic_endpoint or self.events_webhook_url)


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    """The settings in `env` (default: this process's environment)."""
    env = os.environ if env is None else env
    return Settings(
        environment=env.get("DPP_ENVIRONMENT", "azure").strip().lower() or "azure",
        cosmos_endpoint=env.get("COSMOS_ENDPOINT", ""),
        cosmos_key=env.get("COSMOS_KEY") or None,
        cosmos_database=env.get("COSMOS_DATABASE", "dpp") or "dpp",
        cosmos_verify_tls=_bool(env.get("COSMOS_VERIFY_TLS"), True),
        cosmos_preferred_regions=_regions(env.get("COSMOS_PREFERRED_REGIONS", "")),
        managed_identity_client_id=env.get("AZURE_CLIENT_ID") or None,
        auth_issuer=env.get("AUTH_ISSUER", ""),
        auth_audience=env.get("AUTH_AUDIENCE", ""),
        auth_jwks_url=env.get("AUTH_JWKS_URL") or None,
        auth_jwks_file=env.get("AUTH_JWKS_FILE") or None,
        auth_operator_claim=env.get("AUTH_OPERATOR_CLAIM", "economicOperatorId") or "economicOperatorId",
        signing_key_id=env.get("DPP_SIGNING_KEY_ID") or None,
        signing_key_file=env.get("DPP_SIGNING_KEY_FILE") or None,
        signing_rate_per_second=_rate(env, "DPP_SIGNING_RATE_PER_SECOND"),
        retention_days=_int(env, "DPP_RETENTION_DAYS", 0),
        max_body_bytes=_int(env, "DPP_MAX_BODY_BYTES", 1_048_576),
        access_policy_file=env.get("DPP_ACCESS_POLICY_FILE") or None,
        public_max_age=_int(env, "DPP_PUBLIC_MAX_AGE", 300),
        max_artifact_bytes=_int(env, "DPP_MAX_ARTIFACT_BYTES", 10_485_760),
        artifact_sas_minutes=_int(env, "DPP_ARTIFACT_SAS_MINUTES", 15),
        storage_links=_storage_links(env.get("DPP_STORAGE_LINKS", "")),
        registry_url=env.get("DPP_REGISTRY_URL") or None,
        public_url=_public_url(env),
        cors_origins=_origins(env.get("DPP_CORS_ORIGINS", "")),
        registry_auto_register=_bool(env.get("DPP_REGISTRY_AUTO_REGISTER"), False),
        registry_max_attempts=_int(env, "DPP_REGISTRY_MAX_ATTEMPTS", 8),
        import_max_bytes=_int(env, "DPP_IMPORT_MAX_BYTES", 52_428_800),
        import_max_rows=_int(env, "DPP_IMPORT_MAX_ROWS", 100_000),
        import_concurrency=_int(env, "DPP_IMPORT_CONCURRENCY", 8),
        outbound_allow_http=_bool(env.get("DPP_OUTBOUND_ALLOW_HTTP"), False),
        outbound_allowed_networks=_networks(env.get("DPP_OUTBOUND_ALLOWED_NETWORKS", "")),
        outbound_fetch_budget=_int(env, "DPP_OUTBOUND_FETCH_BUDGET", 20),
        # A connection string locally (Azurite); in Azure the identity-based service URI.
        storage_connection_string=env.get("AzureWebJobsStorage") or None,
        blob_service_uri=env.get("AzureWebJobsStorage__blobServiceUri") or None,
        appinsights_connection_string=env.get("APPLICATIONINSIGHTS_CONNECTION_STRING") or None,
        connectors=env.get("DPP_CONNECTORS", ""),
        connector_secrets=env.get("DPP_CONNECTOR_SECRETS", ""),
        **_events(env),
    )


def _events(env: Mapping[str, str]) -> dict[str, str | None]:
    """The events' destination: an Event Grid topic endpoint or a webhook URL, not both."""
    topic = env.get("DPP_EVENTS_TOPIC_ENDPOINT", "").strip() or None
    webhook = env.get("DPP_EVENTS_WEBHOOK_URL", "").strip() or None
    if topic and webhook:
        raise ValueError("set DPP_EVENTS_TOPIC_ENDPOINT (Azure) or DPP_EVENTS_WEBHOOK_URL (local), not both")
    for name, url in (("DPP_EVENTS_TOPIC_ENDPOINT", topic), ("DPP_EVENTS_WEBHOOK_URL", webhook)):
        if url and not _ORIGIN.match(url):
            raise ValueError(f"setting {name} must be an absolute http(s) URL, got {url!r}")
    return {"events_topic_endpoint": topic, "events_webhook_url": webhook}
