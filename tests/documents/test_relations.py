"""The relations section: validated on write, and judged the same way by the published JSON Schema
(checked with the `jsonschema` library, which the service does not use)."""

from __future__ import annotations

from typing import Any

import jsonschema
import pytest

from shared.documents.model import validate_document
from shared.documents.relations import links_of, schema, validate_relations
from shared.platform.errors import BadRequest
from tests.support.documents import make_passport

GOOD = [
    {
        "hasPart": [
            {"target": "https://other.example/01/09506000134352", "quantity": 4, "label": "cell module"}
        ]
    },
    {
        "isSubstitutedBy": [{"target": "https://other.example/p/x"}],
        "isPartOf": [{"target": "urn:acme:pack:1"}],
    },
    {"relatedTo": [{"target": "urn:acme:manual:7", "label": "service manual"}]},
    {"isSuccessorOf": [], "isPredecessorOf": [{"target": "urn:acme:model:2", "quantity": 0.5}]},
]
BAD = {
    "unknown type": {"contains": [{"target": "urn:a:b"}]},
    "unknown member": {"hasPart": [{"target": "urn:a:b", "colour": "red"}]},
    "no target": {"hasPart": [{"quantity": 1}]},
    "blank target": {"hasPart": [{"target": " "}]},
    "ftp url": {"hasPart": [{"target": "ftp://files.example/x"}]},
    "zero quantity": {"hasPart": [{"target": "urn:a:b", "quantity": 0}]},
    "boolean quantity": {"hasPart": [{"target": "urn:a:b", "quantity": True}]},
    "relatedTo without label": {"relatedTo": [{"target": "urn:a:b"}]},
    "too many": {"hasPart": [{"target": f"urn:a:{n}"} for n in range(1001)]},
    "not a list": {"hasPart": {"target": "urn:a:b"}},
}


@pytest.mark.parametrize("section", GOOD)
def test_good_sections_pass_both_the_validator_and_the_schema(section: dict[str, Any]):
    validate_relations(make_passport(relations=section))
    jsonschema.validate(section, schema())
    assert [kind for kind, _ in links_of({"relations": section})] == [
        kind for kind, links in section.items() for _ in links
    ]


@pytest.mark.parametrize(("case", "section"), BAD.items())
def test_bad_sections_fail_both(case: str, section: dict[str, Any]):
    with pytest.raises(BadRequest) as refused:
        validate_relations(make_passport(relations=section))
    assert refused.value.code == "InvalidRelations", case
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(section, schema())


def test_what_only_the_validator_knows_a_self_relation_and_a_bad_digital_link():
    document = make_passport(uniqueProductIdentifier="https://id.gs1.org/01/09506000134352")
    other_host = {"hasPart": [{"target": "https://elsewhere.example/01/09506000134352"}]}
    jsonschema.validate(other_host, schema())  # the schema cannot see it names the same product
    with pytest.raises(BadRequest, match="names the passport itself"):
        validate_relations({**document, "relations": other_host})
    with pytest.raises(BadRequest, match="check digit"):
        validate_relations(
            make_passport(relations={"hasPart": [{"target": "https://x.example/01/09506000134353"}]})
        )
    own_id = {"isPartOf": [{"target": document["digitalProductPassportId"]}]}
    with pytest.raises(BadRequest, match="itself"):
        validate_relations({**document, "relations": own_id})


def test_a_document_with_bad_relations_is_refused_on_write():
    with pytest.raises(BadRequest) as refused:
        validate_document(make_passport(relations={"hasPart": [{"target": "urn:a:b", "quantity": -1}]}))
    assert refused.value.code == "InvalidRelations"


def test_the_schema_is_published(api, http):
    response = http.get(f"{api}/v1/schemas/relations.json")
    assert response.status_code == 200 and response.headers["Content-Type"].startswith(
        "application/schema+json"
    )
    assert response.json() == schema()
    jsonschema.Draft202012Validator.check_schema(response.json())


def test_relations_are_set_through_element_operations_and_a_bad_one_changes_nothing(api, http, auth, create):
    from tests.support.documents import enc
    from tests.support.results import assert_result

    document = create(relations={"hasPart": [{"target": "urn:acme:part:1"}]})
    url = f"{api}/v1/dpps/{enc(document['digitalProductPassportId'])}"
    links = [
        {"target": "urn:acme:part:1", "quantity": 2},
        {"target": "https://other.example/01/09506000134352"},
    ]
    written = http.put(f"{url}/elements/relations/hasPart", json=links, headers=auth)
    assert written.status_code == 200, written.text
    assert http.get(f"{url}/elements/relations/hasPart", headers=auth).json() == links
    before = http.get(url, headers=auth).json()
    refused = http.put(
        f"{url}/elements/relations/hasPart",
        json=[{"target": document["uniqueProductIdentifier"]}],
        headers=auth,
    )
    assert_result(refused, 400, "InvalidRelations")
    assert http.get(url, headers=auth).json() == before
