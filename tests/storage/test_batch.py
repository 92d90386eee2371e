"""What the local Cosmos stand-in's transactional batch really does, which the repository's
version-and-head batch relies on (shared/passports/repository.py): operations run in order and
the first failure stops the rest (424), but what ran before it stays written. Cosmos DB would
undo it; the repository treats that version as an interrupted write and rolls it forward."""

from __future__ import annotations

import uuid

import pytest

from shared.storage.cosmos import PASSPORTS, BatchFailed, create_operation, replace_operation


def test_a_batch_writes_in_order_stops_at_the_first_failure_and_keeps_what_ran(root):
    store, dpp_id = root.store, f"urn:test:batch/{uuid.uuid4().hex}#x"
    written = store.batch(
        PASSPORTS,
        dpp_id,
        [
            create_operation({"id": "v1", "dppId": dpp_id}),
            create_operation({"id": "head", "dppId": dpp_id, "v": 1}),
        ],
    )
    assert [item["id"] for item in written] == ["v1", "head"]
    etag = written[1]["_etag"]
    with pytest.raises(BatchFailed) as exists:  # the first operation fails: nothing runs
        store.batch(
            PASSPORTS,
            dpp_id,
            [create_operation({"id": "v1", "dppId": dpp_id}), create_operation({"id": "x", "dppId": dpp_id})],
        )
    assert (exists.value.index, exists.value.status) == (0, 409)
    assert store.read(PASSPORTS, "x", dpp_id) is None
    store.replace(PASSPORTS, {"id": "head", "dppId": dpp_id, "v": 2}, etag)
    with pytest.raises(BatchFailed) as moved:  # the second fails: the first stays (Cosmos DB undoes it)
        store.batch(
            PASSPORTS,
            dpp_id,
            [
                create_operation({"id": "v3", "dppId": dpp_id}),
                replace_operation({"id": "head", "dppId": dpp_id}, etag),
            ],
        )
    assert (moved.value.index, moved.value.status) == (1, 412)
    assert store.read(PASSPORTS, "v3", dpp_id) is not None
