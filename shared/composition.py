"""The composition root: every object of the service, built from settings and wired explicitly.

`Root(settings)` makes nothing and connects to nothing: each part is built the first time it is
used, once per root (under a lock, so concurrent first requests share one Cosmos client, one blob
client, one signer), from the parts it needs. The function app builds one root per process and
hands it to its Blueprints; tests build theirs the same way.

What depends on what (arrows point at what is used):

    passport service ─→ repository ─→ store, issuance ─→ sealer ─→ key ring ─→ signer (the anchor)
         │                  │                  └─→ access control (what is disclosable)
         │                  └─→ (change feed) derived data: search index, relation index ─→ store
         │                  └─→ (change feed) passport events ─→ event sink (Event Grid, webhook)
         └─→ access control ─→ deployment policy;  artifacts ─→ storage links ─→ blob storage
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Generic, TypeVar, overload

from shared.access.authentication import Authenticator
from shared.access.authorization import AccessControl
from shared.access.operators import OperatorRegistry
from shared.access.policy import deployment_policy
from shared.connectors.config import parse_connectors
from shared.connectors.sources import make_source
from shared.connectors.sync import Connectors
from shared.integrity.did import service_did
from shared.integrity.keyring import KeyRing
from shared.integrity.sealer import Sealer
from shared.integrity.signers import LocalSigner, Signer
from shared.onboarding.exports import Exports
from shared.onboarding.imports import Imports
from shared.onboarding.sweeper import JobSweeper
from shared.passports.artifacts import ArtifactStore
from shared.passports.history import PassportHistory
from shared.passports.issuance import Issuance
from shared.passports.repository import PassportRepository
from shared.passports.service import PassportService
from shared.platform.health import Readiness
from shared.platform.outbound import OutboundClient, OutboundRules
from shared.platform.settings import Settings
from shared.publication.aas import AasLinks
from shared.publication.aas_repository import AasRepository
from shared.publication.aas_shells import PassportShells
from shared.publication.derived import DerivedData, IndexMove
from shared.publication.events import EventGridSink, EventSink, PassportEvents, WebhookSink
from shared.publication.page import ConsumerPage
from shared.publication.registry import Registry, RegistryOptions
from shared.publication.registry_client import RegistryClient
from shared.publication.relations import RelationGraph, RelationIndex
from shared.publication.remote import RemotePassports
from shared.publication.resolver import Resolver
from shared.publication.search import SearchIndex
from shared.publication.status_lists import MAX_AGE as STATUS_LIST_MAX_AGE
from shared.publication.status_lists import StatusLists
from shared.publication.targets import OwnRoutes
from shared.publication.untp import CredentialUrls, UntpCredentials
from shared.publication.views import PassportViews
from shared.storage.blobs import BlobStorage
from shared.storage.cosmos import Store
from shared.storage.links import StorageLinks

log = logging.getLogger(__name__)

T = TypeVar("T")
# Point reads of several passports at once (ReadDPPIdsByProductIds, search previews), bounded.
LOOKUP_WORKERS = 8
# Requests to other providers at once (relations across providers), bounded apart from lookups.
FETCH_WORKERS = 8
# Passports of one change-feed batch indexed at once (search, relations).
DERIVED_WORKERS = 4
# What a PIM's page of products may weigh at most (100 products with every locale's values).
CONNECTOR_PAGE_BYTES = 16 * 1_048_576


class _Part(Generic[T]):
    """A part of the root: built by `build(root)` on first access, then the same object."""

    def __init__(self, build: Callable[[Root], T]):
        self.build = build
        self.name = build.__name__

    @overload
    def __get__(self, root: None, owner: type[Root]) -> _Part[T]: ...

    @overload
    def __get__(self, root: Root, owner: type[Root]) -> T: ...

    def __get__(self, root: Root | None, owner: type[Root]) -> T | _Part[T]:
        if root is None:
            return self
        built = root._parts.get(self.name, _UNBUILT)
        if built is _UNBUILT:
            with root._lock:
                built = root._parts.get(self.name, _UNBUILT)
                if built is _UNBUILT:
                    # A failed build is not remembered: the next use tries again.
                    built = root._parts[self.name] = self.build(root)
        return built


_UNBUILT: Any = object()


def part(build: Callable[[Root], T]) -> _Part[T]:
    return _Part(build)


class Root:
    """`Root(settings)`; `Root(settings, sealer=...)` uses the given object for that part (a test
    double, or a part shared with another root) and builds the rest around it."""

    def __init__(self, settings: Settings, **given: Any):
        unknown = sorted(set(given) - set(self.part_names()))
        if unknown:
            raise TypeError(f"Root has no parts {unknown}; its parts are {self.part_names()}")
        self.settings = settings
        # Re-entrant: building one part builds the parts it needs.
        self._lock = threading.RLock()
        self._parts: dict[str, Any] = dict(given)

    @classmethod
    def part_names(cls) -> list[str]:
        return [name for name, value in vars(cls).items() if isinstance(value, _Part)]

    def built(self) -> list[str]:
        """The parts built (or given) so far: a health probe, say, must not build the signer."""
        return list(self._parts)

    # -- platform and storage --------------------------------------------------------------------

    @part
    def store(self) -> Store:
        return Store(self.settings)

    @part
    def blobs(self) -> BlobStorage:
        return BlobStorage(self.settings)

    @part
    def storage_links(self) -> StorageLinks:
        return StorageLinks(self.settings.storage_links, self.blobs)

    @part
    def readiness(self) -> Readiness:
        return Readiness({"cosmos": self.store.probe})

    @part
    def lookups(self) -> ThreadPoolExecutor:
        return ThreadPoolExecutor(max_workers=LOOKUP_WORKERS, thread_name_prefix="dpp-lookup")

    # -- integrity ---------------------------------------------------------------------------------

    @part
    def signer(self) -> Signer | None:
        return make_signer(self.settings)

    @part
    def keyring(self) -> KeyRing:
        # The signer is the trust anchor of the keys; the store holds none.
        return KeyRing(self.signer)

    @part
    def sealer(self) -> Sealer:
        return Sealer(self.keyring)

    # -- access --------------------------------------------------------------------------------------

    @part
    def authenticator(self) -> Authenticator:
        return Authenticator(self.settings)

    @part
    def access(self) -> AccessControl:
        return AccessControl(deployment_policy(self.settings.access_policy_file))

    @part
    def operators(self) -> OperatorRegistry:
        return OperatorRegistry(self.store)

    # -- passports -----------------------------------------------------------------------------------

    @part
    def search_index(self) -> SearchIndex:
        return SearchIndex(self.store, self.access.public)

    @part
    def issuance(self) -> Issuance:
        return Issuance(
            self.sealer,
            self.access,
            service_did(self.settings.public_url),
            self.settings.public_url,
            self.untp,
        )

    @part
    def credential_urls(self) -> CredentialUrls | None:
        # The HTTP layer gives the route table's (functions.app_root); without them no UNTP
        # credential is issued (its URLs would name routes the core does not know).
        return None

    @part
    def status_lists(self) -> StatusLists | None:
        urls = self.credential_urls
        if urls is None:
            return None
        did = service_did(self.settings.public_url)
        return StatusLists(self.store, self.sealer, did, urls, max_age=STATUS_LIST_MAX_AGE)

    @part
    def untp(self) -> UntpCredentials | None:
        urls, lists = self.credential_urls, self.status_lists
        if urls is None or lists is None:
            return None
        did = service_did(self.settings.public_url)
        return UntpCredentials(
            self.sealer,
            self.access,
            status_lists=lists,
            service_did=did,
            public_url=self.settings.public_url,
            urls=urls,
        )

    @part
    def relation_index(self) -> RelationIndex:
        return RelationIndex(self.store, self.own_routes)

    @part
    def own_routes(self) -> OwnRoutes:
        # The HTTP layer gives the route table's (function_app.py); alone, the core knows none.
        return OwnRoutes(self.settings.public_url)

    @part
    def passports(self) -> PassportRepository:
        return PassportRepository(self.store, self.issuance)

    @part
    def derived(self) -> DerivedData:
        # Off the write path: the passports' change feed brings every new head to both indexes,
        # search (keywords of its public view) and reverse relations (what its relations name).
        # A revoked or deleted head also sets its passport's bit in its status list.
        moves: list[IndexMove] = [self.search_index.apply, self.relation_index.apply]
        if self.status_lists is not None:
            moves.append(self.status_lists.apply)
        return DerivedData(self.store, *moves, pool=self.derived_workers)

    @part
    def events(self) -> PassportEvents | None:
        # From the change feed too, by a trigger of its own (functions/changes.py); None: no
        # destination is set, and the trigger is not registered.
        sink = self.event_sink
        return None if sink is None else PassportEvents(sink, self.settings.public_url)

    @part
    def event_sink(self) -> EventSink | None:
        if self.settings.events_topic_endpoint:
            from azure.identity import DefaultAzureCredential

            credential = DefaultAzureCredential(
                managed_identity_client_id=self.settings.managed_identity_client_id
            )
            return EventGridSink(self.settings.events_topic_endpoint, credential)
        if self.settings.events_webhook_url:
            return WebhookSink(self.settings.events_webhook_url, self.outbound)
        return None

    @part
    def derived_workers(self) -> ThreadPoolExecutor:
        return ThreadPoolExecutor(max_workers=DERIVED_WORKERS, thread_name_prefix="dpp-derived")

    @part
    def outbound(self) -> OutboundClient:
        rules = OutboundRules.of(self.settings.outbound_allow_http, self.settings.outbound_allowed_networks)
        return OutboundClient(rules)

    @part
    def remote_passports(self) -> RemotePassports:
        return RemotePassports(self.outbound)

    @part
    def fetches(self) -> ThreadPoolExecutor:
        return ThreadPoolExecutor(max_workers=FETCH_WORKERS, thread_name_prefix="dpp-fetch")

    @part
    def relations(self) -> RelationGraph:
        return RelationGraph(
            self.passports,
            self.relation_index,
            self.access,
            lookups=self.lookups,
            remote=self.remote_passports,
            fetches=self.fetches,
            fetch_budget=self.settings.outbound_fetch_budget,
        )

    @part
    def artifacts(self) -> ArtifactStore:
        return ArtifactStore(self.settings, self.blobs, self.storage_links)

    @part
    def service(self) -> PassportService:
        return PassportService(
            passports=self.passports,
            access=self.access,
            operators=self.operators,
            artifacts=self.artifacts,
            config=self.settings,
            lookups=self.lookups,
        )

    @part
    def history(self) -> PassportHistory:
        return PassportHistory(self.passports, self.keyring, self.access)

    # -- publication and onboarding ------------------------------------------------------------------

    @part
    def views(self) -> PassportViews:
        return PassportViews(
            passports=self.passports,
            access=self.access,
            artifacts=self.artifacts,
            search_index=self.search_index,
            config=self.settings,
            lookups=self.lookups,
            relations=self.relations,
        )

    @part
    def aas_repository(self) -> AasRepository:
        return AasRepository(self.service, self.search_index, self.lookups, self.settings.public_url)

    @part
    def resolver(self) -> Resolver:
        return Resolver(self.passports, self.access)

    @part
    def page(self) -> ConsumerPage:
        return ConsumerPage(self.access, self.relations)

    @part
    def registry(self) -> Registry:
        options = RegistryOptions.from_settings(self.settings)
        return Registry(self.store, self.passports, options, self.registry_client)

    @part
    def registry_client(self) -> RegistryClient:
        return RegistryClient()

    @part
    def imports(self) -> Imports:
        return Imports(self.service, self.store, self.blobs, self.settings, links=self.storage_links)

    @part
    def exports(self) -> Exports:
        # The AAS shells only when an AAS export runs: they need the HTTP layer's URLs.
        return Exports(
            self.passports, self.store, self.blobs, links=self.storage_links, aas=lambda: self.aas_shells
        )

    @part
    def aas_shells(self) -> PassportShells:
        return PassportShells(self.service, self.aas_links, self.settings.public_url)

    @part
    def aas_links(self) -> AasLinks:
        # The HTTP layer gives the route table's (functions.app_root); alone, the core knows none.
        raise LookupError("No URLs for AAS ids: build the root with functions.app_root")

    @part
    def sweeper(self) -> JobSweeper:
        # Connectors are built when a sync is swept: a bad DPP_CONNECTORS never stops the others.
        return JobSweeper(self.store, self.imports, self.exports, syncs=_DeferredSyncs(self))

    # -- PIM connectors ------------------------------------------------------------------------------

    @part
    def connector_outbound(self) -> OutboundClient:
        # The PIM is reached under the same address rules as other providers, with room for a page
        # of 100 products or a media file (up to an artifact's size) and the time they take.
        rules = OutboundRules.of(
            self.settings.outbound_allow_http,
            self.settings.outbound_allowed_networks,
            connect_timeout=5.0,
            read_timeout=30.0,
            deadline=120.0,
            max_bytes=max(self.settings.max_artifact_bytes, CONNECTOR_PAGE_BYTES),
        )
        return OutboundClient(rules)

    @part
    def connectors(self) -> Connectors:
        configs = parse_connectors(self.settings.connectors, self.settings.connector_secrets)
        return Connectors(
            configs,
            lambda config: make_source(config, self.connector_outbound),
            imports=self.imports,
            service=self.service,
            store=self.store,
            blobs=self.blobs,
            concurrency=self.settings.import_concurrency,
            links=self.storage_links,
        )


class _DeferredSyncs:
    """The connectors' sync runner, built only when the sweeper meets a sync."""

    def __init__(self, root: Root):
        self.root = root

    def take_over(self, job: Any) -> str:
        return self.root.connectors.take_over(job)


def make_signer(config: Settings) -> Signer | None:
    """Key Vault when a key id is set (the private key never leaves the vault), else a local PEM."""
    if config.signing_key_id:
        from azure.identity import DefaultAzureCredential

        from shared.integrity.keyvault_signer import KeyVaultSigner

        credential = DefaultAzureCredential(managed_identity_client_id=config.managed_identity_client_id)
        return KeyVaultSigner(config.signing_key_id, credential, signing_rate=config.signing_rate_per_second)
    if config.signing_key_file:
        return LocalSigner(Path(config.signing_key_file))
    log.warning("No signing key configured: every write will be refused")
    return None
