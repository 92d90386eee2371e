"""Relations as a graph on one service: out and in edges, the reverse index kept with every
version, depth walks through a cycle, the node limit on a 1,000-part assembly with its store calls
counted, and the access policy over what a reader is shown."""

from __future__ import annotations

import uuid
from typing import Any

from shared.access.authentication import ANONYMOUS, Principal
from shared.access.roles import OPERATOR
from shared.publication.relations import MAX_NODES, GraphQuery
from tests.support.documents import OWNER, enc, make_passport, namespace
from tests.support.results import assert_result
from tests.support.store_calls import READS, StoreCalls

REMOTE = "https://other-provider.example/01/09506000134352"


def product(name: str) -> str:
    return f"{namespace(OWNER)}{name}/{uuid.uuid4().hex[:8]}"


def create(http: Any, api: str, auth: dict[str, str], **overrides: Any) -> dict[str, Any]:
    document = make_passport(**overrides)
    response = http.post(f"{api}/v1/dpps", json=document, headers=auth)
    assert response.status_code == 201, response.text
    return document


def graph(http: Any, api: str, dpp_id: str, **params: str) -> dict[str, Any]:
    response = http.get(f"{api}/v1/dpps/{enc(dpp_id)}/relations", params=params)
    assert response.status_code == 200, response.text
    return response.json()


def test_an_assembly_names_its_parts_and_each_part_knows_who_names_it(api, http, auth, derived):
    module_ids = [product("module") for _ in range(2)]
    modules = [create(http, api, auth, uniqueProductIdentifier=pid) for pid in module_ids]
    pack = create(
        http,
        api,
        auth,
        relations={
            "hasPart": [
                {"target": module_ids[0], "quantity": 4, "label": "cell module"},
                {"target": module_ids[1]},
            ],
            "isSubstitutedBy": [{"target": REMOTE}],
        },
    )
    out = graph(http, api, pack["digitalProductPassportId"], direction="out")
    by_url = {node["url"]: node for node in out["nodes"]}
    assert out["root"] == pack["digitalProductPassportId"] and out["truncated"] is False
    locals_ = {node["dppId"] for node in out["nodes"] if node["verification"] == "local"}
    assert locals_ == {pack["digitalProductPassportId"], *(m["digitalProductPassportId"] for m in modules)}
    # Elsewhere, and not there to be fetched: listed, with why, and the read still answers.
    remote = by_url[REMOTE]
    assert (remote["status"], remote["verification"]) == ("unknown", "unreachable")
    assert "other-provider.example" in remote["reason"]
    kinds = sorted((edge["type"], edge.get("quantity", 0)) for edge in out["edges"])
    assert kinds == [("hasPart", 0), ("hasPart", 4), ("isSubstitutedBy", 0)]

    derived()
    incoming = graph(http, api, modules[0]["digitalProductPassportId"], direction="in")
    (edge,) = incoming["edges"]
    assert edge["type"] == "hasPart" and edge["quantity"] == 4
    sources = {node["url"]: node for node in incoming["nodes"]}
    assert sources[edge["source"]]["dppId"] == pack["digitalProductPassportId"]
    assert sources[edge["target"]]["dppId"] == modules[0]["digitalProductPassportId"]

    # The index follows every version: a relation removed, then the naming passport deleted.
    url = f"{api}/v1/dpps/{enc(pack['digitalProductPassportId'])}"
    assert (
        http.patch(
            url, json={"relations": {"hasPart": [{"target": module_ids[1]}]}}, headers=auth
        ).status_code
        == 200
    )
    derived()
    assert graph(http, api, modules[0]["digitalProductPassportId"], direction="in")["edges"] == []
    assert len(graph(http, api, modules[1]["digitalProductPassportId"], direction="in")["edges"]) == 1
    assert http.delete(url, headers=auth).status_code == 204
    derived()
    assert graph(http, api, modules[1]["digitalProductPassportId"], direction="in")["edges"] == []


def test_a_walk_through_a_cycle_visits_each_node_once(api, http, auth, derived):
    ids = [product("cycle") for _ in range(3)]
    for index, pid in enumerate(ids):
        create(
            http,
            api,
            auth,
            uniqueProductIdentifier=pid,
            relations={"hasPart": [{"target": ids[(index + 1) % 3]}]},
        )
    first = http.get(f"{api}/v1/dppsByProductId/{enc(ids[0])}").json()["digitalProductPassportId"]
    derived()
    walked = graph(http, api, first, direction="out", depth="5")
    assert len(walked["nodes"]) == 3 and len(walked["edges"]) == 3 and walked["truncated"] is False
    both = graph(http, api, first, direction="both", depth="2", type="hasPart")
    assert len(both["nodes"]) == 3 and len(both["edges"]) == 3


def test_the_owners_policy_over_relations_holds_for_every_reader(api, http, auth, token, derived):
    part = product("secret-part")
    create(http, api, auth, uniqueProductIdentifier=part)
    assembly = create(
        http,
        api,
        auth,
        relations={"hasPart": [{"target": part}]},
        dppAccessPolicy={"sections": {"relations": ["authority"]}},
    )
    derived()
    assert graph(http, api, assembly["digitalProductPassportId"], direction="out")["edges"] == []
    part_id = http.get(f"{api}/v1/dppsByProductId/{enc(part)}").json()["digitalProductPassportId"]
    assert graph(http, api, part_id, direction="in")["edges"] == []
    authority = {"Authorization": f"Bearer {token('authority', operator=None)}"}
    seen = http.get(
        f"{api}/v1/dpps/{enc(part_id)}/relations", params={"direction": "in"}, headers=authority
    ).json()
    assert len(seen["edges"]) == 1


def test_bad_graph_queries_are_400(api, http, auth):
    document = create(http, api, auth)
    url = f"{api}/v1/dpps/{enc(document['digitalProductPassportId'])}/relations"
    for params in ({"direction": "sideways"}, {"type": "ownsA"}, {"depth": "9"}, {"depth": "x"}):
        assert_result(http.get(url, params=params), 400, "InvalidParameter")
    assert_result(http.get(f"{api}/v1/dpps/{enc('urn:nothing')}/relations"), 404, "PassportNotFound")


class _Links:
    def passport(self, dpp_id: str) -> str:
        return f"https://dpp.example/api/v1/dpps/{enc(dpp_id)}"


def test_a_1000_part_assembly_is_cut_at_the_node_limit_with_point_reads_and_one_partition_queries(
    root, monkeypatch, derived
):
    owner = Principal("bench", frozenset({OPERATOR}), OWNER)
    parts = [product("part") for _ in range(1000)]
    for pid in parts:
        root.service.create(make_passport(uniqueProductIdentifier=pid), owner)
    links = [{"target": pid} for pid in parts]
    assembly = root.service.create(make_passport(relations={"hasPart": links}), owner)
    derived(120)  # a backlog of 1001 passports; and nothing indexes while store calls are counted
    counting = StoreCalls(root.store, monkeypatch.setattr, names=READS)
    result = root.relations.graph(assembly, GraphQuery("out", None, 1), ANONYMOUS, _Links())
    assert result["truncated"] is True and len(result["nodes"]) == MAX_NODES
    assert len(result["edges"]) == MAX_NODES - 1
    assert "query_background" not in counting.calls and "iterate_background" not in counting.calls
    # Each part read: its lookup and its head (two point reads), none beyond the node limit (the
    # root is one of the nodes); no query at all going out.
    assert counting.calls.get("query_partition", 0) == 0
    assert counting.calls["read"] == 2 * (MAX_NODES - 1)
    incoming = StoreCalls(root.store, monkeypatch.setattr, names=READS)
    first_part = root.passports.live_head_for_product(parts[0])
    backwards = root.relations.graph(first_part, GraphQuery("in", None, 1), ANONYMOUS, _Links())
    assert [edge["type"] for edge in backwards["edges"]] == ["hasPart"]
    # The part's two partitions of the index: its product's and its passport id's.
    assert incoming.calls["query_partition"] == 2
