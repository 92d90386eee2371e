"""What a write costs the store, and what is readable the moment it returns.

A new passport is three writes (its product's lookup, then version 1 and the head in one
transactional batch: two requests) and no read (its status list index comes from the block of
indices its process reserved: a read and a write of the counter once per 1,024 passports, counted
in tests/publication/test_untp.py): derived
data (search, reverse relations) is not written on the write path but follows the change feed.
The passport itself is never stale: readable by id and by product the moment the write returns,
before the search has caught up.
"""

from __future__ import annotations

import threading
import uuid

import pytest

from shared.access.authentication import Principal
from shared.access.roles import OPERATOR
from shared.onboarding.file_formats import Record
from shared.platform.errors import Conflict
from tests.support.documents import OWNER, enc, make_passport
from tests.support.store_calls import READS, StoreCalls

OWNER_PRINCIPAL = Principal("tester", frozenset({OPERATOR}), OWNER)


def test_a_new_passport_costs_three_writes_and_no_read(root, monkeypatch):
    document = make_passport(nameplate={"ProductName": "Many words to index in a new passport"})
    root.status_lists.allocate()  # the process's block of status list indices reserved already
    calls = StoreCalls(root.store, monkeypatch.setattr, thread=threading.get_ident())
    root.service.create(document, OWNER_PRINCIPAL)
    assert calls.items_written <= 3 and calls.count(READS) == 0, calls.calls
    # The lookup, then version and head in one batch.
    assert calls.calls == {"create": 1, "batch": 1} and calls.items_written == 3


def test_a_passport_created_again_is_refused_by_its_product_claim_before_any_signature(root, monkeypatch):
    document = make_passport()
    root.service.create(document, OWNER_PRINCIPAL)
    signed: list[object] = []
    issued = root.passports.issuance.sealed
    monkeypatch.setattr(root.passports.issuance, "sealed", lambda *a: signed.append(a) or issued(*a))
    calls = StoreCalls(root.store, monkeypatch.setattr, thread=threading.get_ident())
    with pytest.raises(Conflict) as refused:
        root.service.create(document, OWNER_PRINCIPAL)
    assert refused.value.code == "PassportExists" and signed == []
    # The claim's 409 answers that the product is known; one read of the head says by whom.
    assert calls.calls == {"create": 1, "read": 1}


def test_a_passport_is_readable_at_once_and_found_by_search_within_the_lag(api, http, auth, derived):
    word = f"zw{uuid.uuid4().hex[:10]}"
    document = make_passport(nameplate={"ProductName": f"Shirt {word}"})
    assert http.post(f"{api}/v1/dpps", json=document, headers=auth).status_code == 201
    # The passport itself: at once, by id and by product, whatever the indexes' lag.
    by_id = http.get(f"{api}/v1/dpps/{enc(document['digitalProductPassportId'])}")
    assert by_id.status_code == 200 and by_id.json()["nameplate"]["ProductName"] == f"Shirt {word}"
    by_product = http.get(f"{api}/v1/dppsByProductId/{enc(document['uniqueProductIdentifier'])}")
    assert by_product.status_code == 200
    derived()
    found = http.get(f"{api}/v1/dpp/search", params={"keyword": word}).json()
    assert [hit["subject"] for hit in found] == [f"{document['uniqueProductIdentifier']}#v1"]


def test_an_imported_row_is_readable_by_id_the_moment_it_is_done(api, http, root):
    document = make_passport()
    outcome = root.imports.write_record(Record(1, document=document), None, OWNER_PRINCIPAL)
    assert outcome.kind == "created", outcome.failure
    response = http.get(f"{api}/v1/dpps/{enc(document['digitalProductPassportId'])}")
    assert response.status_code == 200
    assert response.json()["uniqueProductIdentifier"] == document["uniqueProductIdentifier"]


def test_a_passport_id_taken_by_another_product_leaves_no_claim_on_the_new_one(root):
    taken = make_passport()
    root.service.create(taken, OWNER_PRINCIPAL)
    other = {**make_passport(), "digitalProductPassportId": taken["digitalProductPassportId"]}
    with pytest.raises(Conflict) as refused:
        root.service.create(other, OWNER_PRINCIPAL)
    assert refused.value.code == "PassportExists"
    # The claim made as the existence check is withdrawn once version 1 turns out another's.
    assert root.passports.lookup(other["uniqueProductIdentifier"]) is None
    assert root.passports.live_head_for_product(other["uniqueProductIdentifier"]) is None
    root.service.create(
        {**other, "digitalProductPassportId": f"urn:test:dpp/{uuid.uuid4().hex}"}, OWNER_PRINCIPAL
    )
