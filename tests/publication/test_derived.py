"""Derived data from the change feed: delivery at least once, in any order, converges.

Each test runs on a database of its own, so the session host's change-feed poller (which watches
the session's database) cannot index behind the test's back.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import time
import uuid
from dataclasses import replace
from typing import Any

import pytest

from local.host.cosmos_triggers import DEFAULT_COSMOS_POLL_SECONDS, CosmosTriggers
from local.run import assign_namespaces
from shared.access.authentication import Principal
from shared.access.roles import OPERATOR
from shared.passports.repository import HEAD_ID
from shared.publication.derived import LOCAL_LAG_SECONDS, mark_term
from shared.publication.search import parse_query
from shared.storage.cosmos import RELATIONS, SEARCH_INDEX, without_system
from tests.support.documents import OWNER, OWNER_PREFIXES, make_passport, namespace

OWNER_PRINCIPAL = Principal("tester", frozenset({OPERATOR}), OWNER)


@pytest.fixture
def own_root(root: Any) -> Any:
    """A root like the app's over a database of its own."""
    from functions import app_root

    built = app_root(replace(root.settings, cosmos_database=f"derived-{uuid.uuid4().hex[:8]}"))
    assign_namespaces(built, OWNER, [namespace(OWNER), *OWNER_PREFIXES])
    return built


def _heads(root: Any, dpp_id: str) -> list[dict[str, Any]]:
    """Every head the passport had, as the change feed would have carried each (oldest first)."""
    head = root.passports.head(dpp_id)
    return [
        {**without_system(version), "id": HEAD_ID, "type": "head"}
        for version in root.passports.history(dpp_id, head)
    ]


def _index(root: Any, dpp_id: str) -> list[tuple[str, ...]]:
    """What the indexes hold for the passport, search entries and relations, without system fields."""
    search = root.store.query_background(SEARCH_INDEX, "SELECT * FROM c WHERE c.dppId = @id", {"@id": dpp_id})
    relations = root.store.query_background(
        RELATIONS, "SELECT * FROM c WHERE c.source = @id", {"@id": dpp_id}
    )
    rows = [("search", repr(sorted(without_system(row).items()))) for row in search]
    rows += [("relations", repr(sorted(without_system(row).items()))) for row in relations]
    return sorted(rows)


def _forget(root: Any, dpp_id: str) -> None:
    for row in root.store.query_background(
        SEARCH_INDEX, "SELECT * FROM c WHERE c.dppId = @id", {"@id": dpp_id}
    ):
        root.store.remove(SEARCH_INDEX, row["id"], row["term"])
    for row in root.store.query_background(
        RELATIONS, "SELECT * FROM c WHERE c.source = @id", {"@id": dpp_id}
    ):
        root.store.remove(RELATIONS, row["id"], row["target"])


def _history_of_changes(root: Any) -> str:
    """A passport written four times: its keywords, relations and status all change."""
    word = f"zd{uuid.uuid4().hex[:8]}"
    document = make_passport(
        nameplate={"ProductName": f"Jacket {word} alpha"},
        relations={"hasPart": [{"target": f"{namespace(OWNER)}part/a"}]},
    )
    dpp_id = document["digitalProductPassportId"]
    root.service.create(document, OWNER_PRINCIPAL)
    patches = [
        {
            "nameplate": {"ProductName": f"Jacket {word} beta"},
            "relations": {"hasPart": [{"target": f"{namespace(OWNER)}part/b"}]},
        },
        {"nameplate": {"ProductName": "Jacket gamma"}, "relations": None},
    ]
    for patch in patches:
        root.service.update(dpp_id, patch, OWNER_PRINCIPAL, None)
    root.service.revoke(dpp_id, {"reason": "test"}, OWNER_PRINCIPAL, None)
    return dpp_id


def test_repeated_and_out_of_order_batches_leave_the_index_built_in_order(own_root):
    root = own_root
    dpp_id = _history_of_changes(root)
    heads = _heads(root, dpp_id)
    assert len(heads) == 4
    for head in heads:
        root.derived.apply([head])
    in_order = _index(root, dpp_id)
    assert any(kind == "relations" for kind, _ in in_order) is False  # the last version names none
    assert in_order  # search entries of the revoked passport (issuer, keywords)

    shuffled = random.Random(16)
    for _ in range(5):
        _forget(root, dpp_id)
        root.store.remove(SEARCH_INDEX, "mark", mark_term(dpp_id))
        # Version items ride along in the feed; heads come repeated and out of order.
        versions = root.passports.history(dpp_id, root.passports.head(dpp_id))
        deliveries = [*heads, *heads[:2], *versions]
        shuffled.shuffle(deliveries)
        for start in range(0, len(deliveries), 3):
            root.derived.apply(deliveries[start : start + 3])
        # And an old head delivered again after everything: it must not move the index back.
        root.derived.apply([heads[0]])
        assert _index(root, dpp_id) == in_order


def test_an_apply_interrupted_half_way_is_finished_by_the_next_delivery(own_root):
    root = own_root
    dpp_id = _history_of_changes(root)
    heads = _heads(root, dpp_id)
    for head in heads:
        root.derived.apply([head])
    in_order = _index(root, dpp_id)
    _forget(root, dpp_id)
    root.store.remove(SEARCH_INDEX, "mark", mark_term(dpp_id))
    root.derived.apply([heads[0]])
    # Version 2's apply died after its mark said pending and after its first index moved.
    root.store.upsert(
        SEARCH_INDEX, {"id": "mark", "term": mark_term(dpp_id), "dppId": dpp_id, "version": 1, "pending": 2}
    )
    root.search_index.apply(heads[0], heads[1])
    root.derived.apply([heads[3]])  # the next delivery is a later head
    assert _index(root, dpp_id) == in_order


def test_search_finds_a_passport_within_the_documented_lag_through_the_local_host(own_root):
    """The local host's emulation of the Cosmos DB trigger, at its default poll, over the app's
    own change-feed function: each passport found by search within LOCAL_LAG_SECONDS."""
    from functions import create_app

    root = own_root
    env = {**os.environ, "COSMOS_DATABASE": root.settings.cosmos_database}
    triggers = CosmosTriggers.from_app(create_app(root), env, poll_seconds=DEFAULT_COSMOS_POLL_SECONDS)
    assert not triggers.errors and len(triggers.watches) == 1
    lags = []
    triggers.start()
    try:
        for _ in range(3):
            word = f"zl{uuid.uuid4().hex[:10]}"
            document = make_passport(nameplate={"ProductName": f"Coat {word}"})
            written = time.monotonic()
            root.service.create(document, OWNER_PRINCIPAL)
            query = parse_query(None, None, word, None)
            while not root.search_index.find(query, None)[0]:
                assert time.monotonic() - written < LOCAL_LAG_SECONDS, "not found within the lag"
                time.sleep(0.05)
            lags.append(time.monotonic() - written)
    finally:
        triggers.stop()
    print(f"search lag through the local host (poll {DEFAULT_COSMOS_POLL_SECONDS:g} s): {lags}")
    assert max(lags) < LOCAL_LAG_SECONDS


def test_a_head_that_cannot_be_indexed_is_skipped_and_holds_up_no_other(own_root):
    root = own_root
    dpp_id = _history_of_changes(root)
    good = _heads(root, dpp_id)[-1]
    broken = {**good, "dppId": f"{dpp_id}-broken"}
    del broken["sdJwt"]  # an item of a shape this code cannot read
    assert root.derived.apply([broken, good]) == 1
    assert _index(root, dpp_id)
    # Nothing indexed for the broken one: only its mark, which says what was attempted.
    assert [row for _, row in _index(root, broken["dppId"]) if "('id', 'mark')" not in row] == []


def test_a_passport_indexed_by_the_old_write_path_moves_on_without_leftovers(own_root):
    """Before the change feed, every version was indexed by the write path, in order, and no mark
    was kept: the first head the feed brings must leave no entry of the version before it."""
    root = own_root
    dpp_id = _history_of_changes(root)
    heads = _heads(root, dpp_id)
    for head in heads[:3]:
        root.derived.apply([head])
    in_order = _index(root, dpp_id)
    _forget(root, dpp_id)
    root.store.remove(SEARCH_INDEX, "mark", mark_term(dpp_id))
    for before, after in itertools.pairwise([None, *heads[:2]]):
        root.search_index.apply(before, after)
        root.relation_index.apply(before, after)
    # Version 3 drops a keyword and the relation version 2 had.
    root.derived.apply([heads[2]])
    assert _index(root, dpp_id) == in_order


def test_a_mark_of_an_older_format_is_derived_again_by_local_reindex(own_root, monkeypatch, capsys):
    """A passport indexed before the listing partitions existed (its mark has no format, and it has
    no listing entry) is listed after `python -m local.reindex`; one indexed now is left alone."""
    from local import reindex
    from shared.publication.derived import FORMAT

    root = own_root
    old, current = (make_passport() for _ in range(2))
    for document in (old, current):
        root.service.create(document, OWNER_PRINCIPAL)
        root.derived.apply(_heads(root, document["digitalProductPassportId"]))
    old_id = old["digitalProductPassportId"]
    built = _index(root, old_id)
    # What the build before FORMAT 2 left: no listing entry, a mark without a format.
    (listing,) = _listing(root, old_id)
    root.store.remove(SEARCH_INDEX, listing["id"], listing["term"])
    mark = without_system(root.store.read(SEARCH_INDEX, "mark", mark_term(old_id)))
    assert mark.pop("format") == FORMAT
    root.store.upsert(SEARCH_INDEX, mark)
    assert _index(root, old_id) != built
    assert root.derived.apply(_heads(root, current["digitalProductPassportId"])) == 0  # current: skipped

    monkeypatch.setenv("COSMOS_DATABASE", root.settings.cosmos_database)
    reindex.main()
    assert json.loads(capsys.readouterr().out) == {"passportsReindexed": 1}
    assert _index(root, old_id) == built and len(_listing(root, old_id)) == 1
    reindex.main()  # again: every mark is current now
    assert json.loads(capsys.readouterr().out) == {"passportsReindexed": 0}


def _listing(root: Any, dpp_id: str) -> list[dict[str, Any]]:
    from shared.publication.search import listing_term

    return root.store.query_background(
        SEARCH_INDEX,
        "SELECT * FROM c WHERE c.term = @term AND c.dppId = @id",
        {"@term": listing_term(dpp_id), "@id": dpp_id},
    )


def test_a_newer_head_over_a_mark_of_an_older_format_writes_every_entry(own_root):
    """The feed delivers a passport's next version over a mark of the build before: its entries are
    moved from that version and written from nothing, so the listing entry it never had is there."""
    from shared.publication.derived import FORMAT

    root = own_root
    document = make_passport()
    dpp_id = document["digitalProductPassportId"]
    root.service.create(document, OWNER_PRINCIPAL)
    root.derived.apply(_heads(root, dpp_id))
    (listing,) = _listing(root, dpp_id)
    root.store.remove(SEARCH_INDEX, listing["id"], listing["term"])
    mark = without_system(root.store.read(SEARCH_INDEX, "mark", mark_term(dpp_id)))
    assert mark.pop("format") == FORMAT
    root.store.upsert(SEARCH_INDEX, mark)
    # A change no entry shows (no keyword, issuer or status): moving from version 1 alone writes nothing.
    root.service.update(dpp_id, {"sustainability": {"waterUsageLitres": 90}}, OWNER_PRINCIPAL, None)
    assert root.derived.apply(_heads(root, dpp_id)[-1:]) == 1
    assert len(_listing(root, dpp_id)) == 1
    assert root.store.read(SEARCH_INDEX, "mark", mark_term(dpp_id))["format"] == FORMAT
