"""The composition root: parts are built on first use, once per root, from the parts they need."""

from __future__ import annotations

import dataclasses
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from shared.composition import Root
from shared.platform.errors import DppError
from shared.platform.settings import Settings
from shared.storage.cosmos import Store


def test_a_new_root_builds_and_connects_to_nothing() -> None:
    root = Root(Settings(cosmos_endpoint="http://127.0.0.1:9"))
    assert root.built() == []


def test_every_part_is_one_object_per_root_and_parts_are_wired_to_each_other() -> None:
    root = Root(Settings(environment="local"))
    assert root.service is root.service
    assert root.service.passports is root.passports
    assert root.passports.store is root.store
    assert root.passports.issuance is root.issuance
    assert root.issuance.sealer is root.sealer
    assert root.issuance.access is root.access
    assert root.sealer.keyring is root.keyring
    assert root.keyring.signer is root.signer  # the keys are anchored in the signer
    assert root.views.passports is root.passports
    assert root.registry.passports is root.passports
    assert root.registry.client is root.registry_client
    assert root.imports.service is root.service
    assert root.exports.passports is root.passports
    # Derived data follows the change feed, off the write path: both indexes, in one place.
    assert not hasattr(root.passports, "on_publish")
    assert root.derived.indexes == (root.search_index.apply, root.relation_index.apply)
    assert root.derived.store is root.store
    other = Root(Settings(environment="local"))
    assert other.store is not root.store


def test_concurrent_first_uses_build_a_part_once(monkeypatch: pytest.MonkeyPatch) -> None:
    built: list[object] = []

    class SlowStore(Store):
        def __init__(self, config: Settings):
            time.sleep(0.05)  # widen the window in which a second builder could slip in
            built.append(self)
            super().__init__(config)

    monkeypatch.setattr("shared.composition.Store", SlowStore)
    root = Root(Settings())
    start = threading.Barrier(16)
    seen: list[object] = []

    def use() -> None:
        start.wait()
        seen.append(root.store)

    threads = [threading.Thread(target=use) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(built) == 1
    assert all(store is built[0] for store in seen)


def test_a_failed_build_is_tried_again(tmp_path: Path) -> None:
    policy = tmp_path / "policy.json"
    policy.write_text("{not json")
    root = Root(dataclasses.replace(Settings(), access_policy_file=str(policy)))
    with pytest.raises(DppError) as refused:
        root.access  # noqa: B018 - building is the point
    assert refused.value.code == "AccessPolicyInvalid"
    assert "access" not in root.built()
    policy.write_text('{"default": ["public"]}')
    assert root.access.policy.default == frozenset({"public"})


def test_given_parts_are_used_instead_of_built() -> None:
    store: Any = Store(Settings())
    root = Root(Settings(), store=store)
    assert root.store is store
    assert root.passports.store is store
    with pytest.raises(TypeError, match="no parts"):
        Root(Settings(), stor=store)


def test_readiness_builds_only_the_store(root: Root) -> None:
    fresh = Root(root.settings)
    assert fresh.readiness.check() == {"status": "ok", "checks": {"cosmos": "ok"}}
    assert set(fresh.built()) == {"readiness", "store"}


def test_readiness_reports_an_unreachable_store_without_raising() -> None:
    from local.stack import COSMOS_EMULATOR_KEY
    from tests.support.ports import free_port

    config = Settings(
        environment="local", cosmos_endpoint=f"http://127.0.0.1:{free_port()}", cosmos_key=COSMOS_EMULATOR_KEY
    )
    unreachable = Root(config)
    report = unreachable.readiness.check()
    assert report["status"] == "degraded"
    assert report["checks"]["cosmos"] == "StoreUnavailable"
