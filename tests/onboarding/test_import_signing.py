"""An import signed in Key Vault (the real SDK against the Key Vault test double): the signatures
each version written costs, none for a row that changes nothing, and a vault that throttles ridden
through without a failed row, within a bounded wait.

A new passport costs three Key Vault signatures: its SD-JWT, its carrier's core token (shared/
passports/issuance.py) and its UNTP credential (shared/publication/untp.py). A later version costs
one, its SD-JWT, while the public core claims (name, status, version label, figures) and what the
UNTP credential says stay as they were; the token is kept then. The signing rate counts every
call."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.doubles.keyvault import KeyVaultDouble, fresh_vault, make_signer
from tests.support.documents import make_passport

SIGNS_PER_CREATE = 3  # the SD-JWT, the core token and the UNTP credential


@pytest.fixture
def vault() -> Iterator[KeyVaultDouble]:
    with fresh_vault() as double:
        yield double


@pytest.fixture
def vault_imports(root: Any, vault: KeyVaultDouble) -> Any:
    """The app's import runner, on the same store and storage, signing with the double's key;
    Retry-After waits are capped low so the test is quick (the cap, not the value, is checked)."""
    from functions import app_root

    # The status list the new passports' indices fall in exists already (signed by the app's
    # key): the double counts the passports' signatures alone.
    root.status_lists.allocate()
    signer = make_signer(vault, max_retries=2, max_retry_after=0.3)
    return app_root(root.settings, signer=signer, store=root.store, blobs=root.blobs).imports


def upload(http: Any, grant: dict[str, Any], items: list[dict[str, Any]]) -> None:
    data = "".join(json.dumps(item) + "\n" for item in items).encode()
    response = http.put(grant["uploadUrl"], data=data, headers=grant["uploadHeaders"])
    assert response.status_code == 201, response.text


def run(imports: Any, grant: dict[str, Any]) -> dict[str, Any]:
    assert imports.run(f"{grant['importId']}/{grant['fileName']}") == "done"
    from shared.onboarding.jobs import load_job

    job = load_job(imports.store, grant["importId"], "import")
    assert job is not None
    return dict(job)


def test_an_import_signs_each_version_it_writes_once_and_unchanged_rows_not_at_all(
    vault_imports, vault, http, new_import
):
    items = [make_passport() for _ in range(12)]
    upload(http, grant := new_import("signed.jsonl"), items)

    job = run(vault_imports, grant)

    assert (job["created"], job["failed"]) == (12, 0)
    assert vault.sign_count == 12 * SIGNS_PER_CREATE == vault.count("POST", "/sign", status=200)
    # Again with one row changed outside the core claims: one new version, two signatures (its
    # SD-JWT, and its UNTP credential, which names the manufacturer; the core token is kept);
    # unchanged rows sign nothing.
    items[3]["nameplate"]["ManufacturerName"] = "ACME Europe"
    upload(http, again := new_import("signed-again.jsonl"), items)
    job = run(vault_imports, again)
    assert (job["updated"], job["unchanged"], job["failed"]) == (1, 11, 0)
    assert vault.sign_count == 12 * SIGNS_PER_CREATE + 2


def test_an_import_rides_through_throttling_without_failed_rows(vault_imports, vault, http, new_import):
    items = [make_passport() for _ in range(10)]
    upload(http, grant := new_import("throttled.jsonl"), items)
    # Enough 429s that a row's sign exhausts the SDK's retries (3 tries) and the row is retried;
    # each answer asks for a minute, which a worker must not wait whole.
    vault.throttle(7, retry_after="60")

    started = time.monotonic()
    job = run(vault_imports, grant)
    took = time.monotonic() - started

    assert (job["created"], job["failed"]) == (10, 0)
    assert vault.count("POST", "/sign", status=429) == 7
    assert vault.sign_count == 10 * SIGNS_PER_CREATE
    # 7 capped waits of 0.3 s plus the row's own backoff (at most 5 s per Retry-After it meets).
    assert took < 30
