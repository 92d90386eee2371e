"""The access policy without HTTP: parsing, rule specificity and `may_read` (the rules alone); the
SD-JWT disclosures of a version (`disclosable`), THE decision of which of them a reader may not
have (`withheld`, over `policy_path`), how withheld parts are cut out (`prune`), and what
`disclose` shows each reader of a document, element reads included (EN 18222 4.2-4.5,
element-level access)."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from shared.access.policy import (
    ANONYMOUS_VIEWER,
    DEFAULT_POLICY_FILE,
    AccessPolicy,
    Viewer,
    deployment_policy,
    disclosable,
    disclose,
    is_withheld,
    load_policy_file,
    may_read,
    parse_policy,
    passport_policy,
    policy_path,
    prune,
    withheld,
)
from shared.platform.errors import BadRequest, DppError

# The deployment default as docs/access.md and shared/access/access-policy.json state it.
DEPLOYMENT = {
    "default": ["public"],
    "sections": {
        "supplychain": ["authority", "recycler"],
        "manufacture": ["authority"],
        "repair": ["repairer", "recycler", "authority"],
        "dppAccessPolicy": ["authority"],
    },
}
# The shipped file is the above plus the element rule docs/access.md shows.
SHIPPED = {**DEPLOYMENT, "elements": {"$.composition.substancesOfConcern": ["authority", "recycler"]}}


def viewer(*roles: str, owner: bool = False) -> Viewer:
    return Viewer(frozenset(roles), owner)


ANONYMOUS = ANONYMOUS_VIEWER
NO_ROLES = viewer()
RECYCLER = viewer("recycler")
REPAIRER = viewer("repairer")
AUTHORITY = viewer("authority")
OPERATOR = viewer("operator")  # an operator that does not own the passport
OWNER = viewer("operator", owner=True)

HEADER = {
    "digitalProductPassportId": "urn:test:dpp:1",
    "uniqueProductIdentifier": "urn:test:product:1",
    "granularity": "Item",
    "dppSchemaVersion": "EN18223:v1.0",
    "dppStatus": "Active",
    "lastUpdate": "2025-01-01T00:00:00.000Z",
    "economicOperatorId": "did:example:operator:acme",
    "facilityId": "urn:test:facility:1",
    "contentSpecificationIds": ["https://spec.example.org/Nameplate/1"],
}

# Claim paths of the SD-JWT disclosures (see shared.passports.issuance).
POLICY = ("dpp", "accessPolicy")


def doc_claim(*path: str) -> tuple[str, ...]:
    return ("document", *path)


def artifact_claim(kind: str) -> tuple[str, ...]:
    return ("dpp", "artifacts", kind)


def ref(kind: str) -> dict[str, Any]:
    return {"uri": f"/artifacts/{'0' * 32}/{kind}/{'1' * 64}-00000000", "hash": "sha256-x", "size": 3}


def document(**sections: Any) -> dict[str, Any]:
    """A stored document: the header and the content sections (the lifecycle, the artifact
    references and the passport's own policy are kept beside it, in the version envelope)."""
    return {**HEADER, **sections}


def shown(
    doc: dict[str, Any],
    who: Viewer,
    deployment: dict[str, Any] | None = None,
    own_policy: dict[str, Any] | None = None,
):
    return disclose(doc, who, parse_policy(DEPLOYMENT if deployment is None else deployment), own_policy)


def readable(
    doc: dict[str, Any],
    path: tuple[Any, ...],
    who: Viewer,
    deployment: dict[str, Any] | None = None,
    own_policy: dict[str, Any] | None = None,
) -> tuple[bool, Any]:
    """An element read: whether `path` is present in what `disclose` shows, and what it shows there."""
    value: Any = shown(doc, who, deployment, own_policy).document
    for segment in path:
        member = isinstance(value, dict) and isinstance(segment, str) and segment in value
        item = isinstance(value, list) and isinstance(segment, int) and 0 <= segment < len(value)
        if not (member or item):
            return False, None
        value = value[segment]
    return True, value


def code_of(excinfo: pytest.ExceptionInfo[BaseException]) -> str:
    return excinfo.value.code  # type: ignore[attr-defined]


# -- parse_policy -------------------------------------------------------------------------------


def test_parse_policy_reads_default_sections_and_elements():
    policy = parse_policy(
        {
            "$comment": "anything",
            "default": ["public"],
            "sections": {"supplychain": ["authority", "recycler"], "dppAccessPolicy": ["authority"]},
            "elements": {
                "$.composition.substancesOfConcern": ["authority"],
                "repair.costs": ["repairer"],
                "$['nameplate']['serial']['batch']": ["operator"],
            },
        }
    )
    assert policy.default == frozenset({"public"})
    # Kept in normal names: letters and digits, lower case (docs/access.md).
    assert dict(policy.rules) == {
        ("supplychain",): frozenset({"authority", "recycler"}),
        ("dppaccesspolicy",): frozenset({"authority"}),
        ("composition", "substancesofconcern"): frozenset({"authority"}),
        ("repair", "costs"): frozenset({"repairer"}),
        ("nameplate", "serial", "batch"): frozenset({"operator"}),
    }


def test_an_empty_policy_restricts_nothing():
    policy = parse_policy({})
    assert policy.default is None
    assert dict(policy.rules) == {}
    assert may_read(("supplychain", "x"), ANONYMOUS, [policy])


def test_element_rule_path_forms_are_equivalent():
    forms = ["$.composition.soc", "composition.soc", "$['composition']['soc']", '$["composition"].soc']
    for form in forms:
        assert dict(parse_policy({"elements": {form: ["authority"]}}).rules) == {
            ("composition", "soc"): frozenset({"authority"})
        }, form


@pytest.mark.parametrize(
    "data",
    [
        pytest.param([], id="list"),
        pytest.param("public", id="string"),
        pytest.param(None, id="null"),
        pytest.param({"roles": {}}, id="unknown-member"),
        pytest.param({"Default": ["public"]}, id="member-case"),
        pytest.param({"default": "public"}, id="default-not-a-list"),
        pytest.param({"default": []}, id="default-empty"),
        pytest.param({"default": [1]}, id="default-role-not-a-string"),
        pytest.param({"default": ["admin"]}, id="default-unknown-role"),
        pytest.param({"default": ["Public"]}, id="role-case"),
        pytest.param({"sections": ["repair"]}, id="sections-not-an-object"),
        pytest.param({"sections": {"repair": []}}, id="section-empty"),
        pytest.param({"sections": {"repair": "repairer"}}, id="section-not-a-list"),
        pytest.param({"sections": {"repair": ["repairer", "mechanic"]}}, id="section-unknown-role"),
        pytest.param({"sections": {"repair": None}}, id="section-null"),
        pytest.param({"elements": [["$.repair.costs", ["repairer"]]]}, id="elements-not-an-object"),
        pytest.param({"elements": {"$.repair.costs": []}}, id="element-empty"),
        pytest.param({"elements": {"$.repair.costs": {"repairer": True}}}, id="element-not-a-list"),
        pytest.param({"elements": {"$.repair.costs": ["everyone"]}}, id="element-unknown-role"),
        pytest.param({"elements": {"$.repair": ["authority"]}}, id="element-one-segment"),
        pytest.param({"elements": {"repair": ["authority"]}}, id="element-one-bare-segment"),
        pytest.param({"elements": {"$['repair']": ["authority"]}}, id="element-one-bracket-segment"),
        pytest.param({"elements": {"$.nameplate.Materials[0]": ["authority"]}}, id="element-index"),
        pytest.param(
            {"elements": {"$.nameplate.Materials[0].name": ["authority"]}}, id="element-inner-index"
        ),
        pytest.param({"elements": {"$.nameplate.Materials[-1]": ["authority"]}}, id="element-negative-index"),
        pytest.param({"sections": {"contentHash": ["authority"]}}, id="section-contentHash"),
        pytest.param({"sections": {"signature": ["authority"]}}, id="section-signature"),
        pytest.param({"sections": {"dppLifecycle": ["authority"]}}, id="section-dppLifecycle"),
        pytest.param({"sections": {"dppArtifacts": ["authority"]}}, id="section-dppArtifacts"),
        pytest.param({"sections": {"economicOperatorId": ["authority"]}}, id="section-header-field"),
        pytest.param({"sections": {"digitalProductPassportId": ["authority"]}}, id="section-passport-id"),
        pytest.param({"elements": {"$.dppLifecycle.status": ["authority"]}}, id="element-in-dppLifecycle"),
        pytest.param({"elements": {"$.dppArtifacts.repair": ["authority"]}}, id="element-in-dppArtifacts"),
        pytest.param({"elements": {"$.contentSpecificationIds.x": ["authority"]}}, id="element-in-header"),
        pytest.param({"elements": {"$.signature.x": ["authority"]}}, id="element-in-signature"),
    ],
)
def test_invalid_policies_are_refused(data):
    with pytest.raises(BadRequest) as excinfo:
        parse_policy(data)
    assert code_of(excinfo) == "InvalidAccessPolicy"
    assert excinfo.value.status == 400


def test_refusal_names_where_the_policy_came_from():
    with pytest.raises(BadRequest) as excinfo:
        parse_policy({"sections": {"repair": ["mechanic"]}}, where="my-policy")
    assert "my-policy" in excinfo.value.text
    assert "mechanic" in excinfo.value.text


def test_malformed_element_rule_path_is_refused():
    with pytest.raises(BadRequest) as excinfo:
        parse_policy({"elements": {"$.repair..costs": ["authority"]}})
    assert code_of(excinfo) == "InvalidAccessPolicy"


@pytest.mark.parametrize("rule", ["$.repair..costs", "$.repair[*]", "repair/costs", "$.repair.costs["])
def test_malformed_element_rule_path_is_an_invalid_access_policy(rule):
    with pytest.raises(BadRequest) as excinfo:
        parse_policy({"elements": {rule: ["authority"]}})
    assert code_of(excinfo) == "InvalidAccessPolicy"


def test_element_rule_names_members_literally():
    policy = parse_policy({"elements": {"$['composition']['price%20list']": ["authority"]}})
    assert dict(policy.rules) == {("composition", "price20list"): frozenset({"authority"})}
    doc = document(composition={"price%20list": "secret", "price list": "open", "fibres": "cotton"})
    # `%20` is two characters, not a space: "price list" is another member, and stays public.
    assert disclose(doc, ANONYMOUS, policy).document["composition"] == {
        "price list": "open",
        "fibres": "cotton",
    }


# -- rule_for: the most specific rule wins -------------------------------------------------------


SPECIFIC = {
    "default": ["public"],
    "sections": {"composition": ["authority"]},
    "elements": {"$.composition.soc": ["recycler"], "$.composition.soc.detail": ["repairer"]},
}


@pytest.mark.parametrize(
    ("path", "roles"),
    [
        (("nameplate",), {"public"}),
        (("nameplate", "ManufacturerName"), {"public"}),
        (("composition",), {"authority"}),
        (("composition", "fibres"), {"authority"}),
        (("composition", "fibres", 0, "name"), {"authority"}),
        (("composition", "soc"), {"recycler"}),
        (("composition", "soc", "list", 3), {"recycler"}),
        (("composition", "soc", "detail"), {"repairer"}),
        (("composition", "soc", "detail", "x", 0), {"repairer"}),
        (("composition", "socx"), {"authority"}),  # a prefix by name, not by characters
    ],
)
def test_rule_for_picks_the_longest_matching_rule(path, roles):
    assert parse_policy(SPECIFIC).rule_for(path) == frozenset(roles)


def test_rule_for_without_default_and_element_rule_without_section_rule():
    policy = parse_policy({"elements": {"$.repair.costs": ["repairer"]}})
    assert policy.rule_for(("repair",)) is None
    assert policy.rule_for(("repair", "manual")) is None
    assert policy.rule_for(("repair", "costs")) == frozenset({"repairer"})
    assert policy.rule_for(("repair", "costs", "labour")) == frozenset({"repairer"})


def test_has_rules_below():
    policy = parse_policy(SPECIFIC)
    assert policy.has_rules_below(("composition",))
    assert policy.has_rules_below(("composition", "soc"))
    assert not policy.has_rules_below(("composition", "soc", "detail"))
    assert not policy.has_rules_below(("nameplate",))


# -- may_read: the rules alone ------------------------------------------------------------------


WHO = {
    "anonymous": ANONYMOUS,
    "no-roles": NO_ROLES,
    "recycler": RECYCLER,
    "repairer": REPAIRER,
    "authority": AUTHORITY,
    "operator": OPERATOR,
    "owner": OWNER,
    "owner-without-roles": viewer(owner=True),
    "recycler+repairer": viewer("recycler", "repairer"),
}
# path under the deployment default -> who may read it
READERS: dict[tuple[Any, ...], set[str]] = {
    ("nameplate",): set(WHO),
    ("nameplate", "Materials", 0, "name"): set(WHO),
    ("supplychain",): {"recycler", "authority", "owner", "owner-without-roles", "recycler+repairer"},
    ("supplychain", "tier1", "name"): {
        "recycler",
        "authority",
        "owner",
        "owner-without-roles",
        "recycler+repairer",
    },
    ("manufacture",): {"authority", "owner", "owner-without-roles"},
    ("repair",): {"recycler", "repairer", "authority", "owner", "owner-without-roles", "recycler+repairer"},
    ("dppAccessPolicy",): {"authority", "owner", "owner-without-roles"},
    ("dppArtifacts", "supplychain"): {
        "recycler",
        "authority",
        "owner",
        "owner-without-roles",
        "recycler+repairer",
    },
    ("dppArtifacts", "manufacture", "uri"): {"authority", "owner", "owner-without-roles"},
    ("dppArtifacts", "composition"): set(WHO),
    ("dppArtifacts",): set(WHO),
    ("dppLifecycle",): set(WHO),
    ("dppLifecycle", "status"): set(WHO),
    ("contentHash",): set(WHO),
    ("signature",): set(WHO),
    ("digitalProductPassportId",): set(WHO),
    ("economicOperatorId",): set(WHO),
    ("contentSpecificationIds", 0): set(WHO),
    (): set(WHO),
}


@pytest.mark.parametrize("who", list(WHO))
@pytest.mark.parametrize("path", list(READERS), ids=lambda p: ".".join(map(str, p)) or "root")
def test_may_read_each_role_under_the_deployment_default(path, who):
    assert may_read(path, WHO[who], [parse_policy(DEPLOYMENT)]) is (who in READERS[path])


def test_always_public_members_stay_public_under_a_closed_default():
    closed = parse_policy({"default": ["authority"]})
    for path in (("contentHash",), ("signature",), ("dppLifecycle", "versionLabel"), ("dppStatus",)):
        assert may_read(path, ANONYMOUS, [closed]), path
    assert not may_read(("nameplate",), ANONYMOUS, [closed])
    assert not may_read(("dppArtifacts", "nameplate"), ANONYMOUS, [closed])
    assert may_read(("nameplate",), AUTHORITY, [closed])


def test_may_read_needs_every_policy_to_allow():
    deployment = parse_policy(DEPLOYMENT)
    narrowing = parse_policy(
        {"sections": {"nameplate": ["authority"]}, "elements": {"$.repair.costs": ["authority"]}}
    )
    widening = parse_policy({"default": ["public"], "sections": {"manufacture": ["public"]}})
    both = [deployment, narrowing]
    assert not may_read(("nameplate",), ANONYMOUS, both)
    assert may_read(("nameplate",), AUTHORITY, both)
    assert may_read(("repair", "manual"), REPAIRER, both)
    assert not may_read(("repair", "costs"), REPAIRER, both)
    assert not may_read(("manufacture",), ANONYMOUS, [deployment, widening])
    assert not may_read(("manufacture",), RECYCLER, [deployment, widening])
    assert may_read(("manufacture",), AUTHORITY, [deployment, widening])
    assert may_read(
        ("manufacture",), OWNER, [deployment, narrowing, parse_policy({"default": ["authority"]})]
    )


# -- disclose: what a reader is shown of a document ---------------------------------------------


def test_restricted_section_is_withheld_and_view_is_partial():
    doc = document(nameplate={"name": "Shirt"}, supplychain={"tier1": "Spinner"})
    anonymous = shown(doc, ANONYMOUS)
    assert anonymous.document == {**HEADER, "nameplate": {"name": "Shirt"}}
    assert anonymous.complete is False
    for reader in (RECYCLER, AUTHORITY):
        assert shown(doc, reader).document == doc
        assert shown(doc, reader).complete is True
    assert shown(doc, REPAIRER).document == {**HEADER, "nameplate": {"name": "Shirt"}}


def test_element_withheld_inside_a_public_section():
    deployment = {"default": ["public"], "elements": {"$.composition.soc": ["authority", "recycler"]}}
    composition = {"fibres": [{"name": "Cotton", "soc": "none"}], "soc": {"lead": 0.1}, "origin": "PT"}
    doc = document(composition=composition)
    anonymous = shown(doc, ANONYMOUS, deployment)
    # A list item's member of the same name is not the rule's element (rules name members only).
    assert anonymous.document["composition"] == {
        "fibres": [{"name": "Cotton", "soc": "none"}],
        "origin": "PT",
    }
    assert anonymous.complete is False
    assert shown(doc, RECYCLER, deployment).document["composition"] == composition
    assert shown(doc, RECYCLER, deployment).complete is True


def test_an_element_opened_inside_a_restricted_section_is_withheld_with_its_section():
    deployment = {
        "default": ["public"],
        "sections": {"supplychain": ["authority"]},
        "elements": {"$.supplychain.origin": ["public"], "$.supplychain.tier1.country": ["recycler"]},
    }
    supplychain = {"origin": "PT", "tier1": {"name": "Spinner", "country": "ES"}, "cost": 3}
    doc = document(supplychain=supplychain)
    # The rules alone would let everyone read the origin ...
    assert may_read(("supplychain", "origin"), ANONYMOUS, [parse_policy(deployment)])
    # ... but its disclosure lies inside the section's, and a withheld section is withheld whole.
    for reader in (ANONYMOUS, RECYCLER):
        result = shown(doc, reader, deployment)
        assert result.document == HEADER, reader
        assert result.complete is False
    # The most specific rule wins in both directions: the element rule replaces the section's,
    # so the authority, not named by it, loses tier1.country.
    assert shown(doc, AUTHORITY, deployment).document["supplychain"] == {
        "origin": "PT",
        "tier1": {"name": "Spinner"},
        "cost": 3,
    }
    assert shown(doc, OWNER, deployment).document["supplychain"] == supplychain
    # A plain object left empty by a withheld element stays, as `{}`.
    only_country = document(supplychain={"origin": "PT", "tier1": {"country": "ES"}})
    assert shown(only_country, AUTHORITY, deployment).document["supplychain"] == {"origin": "PT", "tier1": {}}


def test_a_section_with_every_element_withheld_shows_what_remains():
    policy = parse_policy(
        {"elements": {"$.repair.costs": ["authority"], "$.repair.manualUrl": ["authority"]}}
    )
    doc = document(repair={"costs": 12, "manualUrl": "https://x"}, empty={})
    anonymous = disclose(doc, ANONYMOUS, policy)
    # The section is readable, its restricted elements are not: it shows as what is left of it.
    assert anonymous.document == {**HEADER, "repair": {}, "empty": {}}
    assert anonymous.complete is False
    authority = disclose(doc, AUTHORITY, policy)
    assert authority.document == doc
    assert authority.complete is True


def test_passport_policy_narrows_the_deployment():
    policy = {
        "sections": {"nameplate": ["authority", "recycler"]},
        "elements": {"$.composition.supplierContract": ["authority"], "$.repair.costs": ["authority"]},
    }
    doc = document(
        nameplate={"name": "Shirt"},
        composition={"fibres": "cotton", "supplierContract": "C-1"},
        repair={"manual": "m", "costs": 40},
    )
    anonymous = shown(doc, ANONYMOUS, own_policy=policy)
    assert anonymous.document == {**HEADER, "composition": {"fibres": "cotton"}}
    assert anonymous.complete is False
    recycler = shown(doc, RECYCLER, own_policy=policy)
    assert recycler.document == {
        **HEADER,
        "nameplate": {"name": "Shirt"},
        "composition": {"fibres": "cotton"},
        "repair": {"manual": "m"},
    }
    assert recycler.complete is False
    assert shown(doc, AUTHORITY, own_policy=policy).document == doc
    assert shown(doc, AUTHORITY, own_policy=policy).complete is True
    # Without its own policy the passport is read under the deployment's alone.
    assert shown(doc, RECYCLER).document == doc


def test_passport_policy_does_not_widen_the_deployment():
    doc = document(
        supplychain={"tier1": "Spinner"},
        manufacture={"plant": "Porto", "process": "dyeing"},
        repair={"manual": "m"},
    )
    own = {
        "default": ["public"],
        "sections": {"supplychain": ["public"], "repair": ["public", "operator"]},
        "elements": {"$.manufacture.plant": ["public"], "$.repair.manual": ["public"]},
    }
    for reader in (ANONYMOUS, NO_ROLES, OPERATOR):
        result = shown(doc, reader, own_policy=own)
        assert result.document == HEADER, reader
        assert result.complete is False
    assert shown(doc, RECYCLER, own_policy=own).document == {
        **HEADER,
        "supplychain": doc["supplychain"],
        "repair": doc["repair"],
    }
    assert shown(doc, REPAIRER, own_policy=own).document == {**HEADER, "repair": doc["repair"]}
    assert shown(doc, AUTHORITY, own_policy=own).document == doc


def test_always_public_members_are_kept_under_a_closed_policy():
    doc = document(nameplate={"name": "Shirt"})
    result = shown(doc, ANONYMOUS, {"default": ["authority"]})
    assert result.document == HEADER
    assert result.complete is False
    assert shown(doc, AUTHORITY, {"default": ["authority"]}).document == doc


def test_owner_sees_the_document_itself_even_with_a_closed_passport_policy():
    doc = document(supplychain={"tier1": "Spinner"}, composition={"secret": 1})
    own = {"default": ["authority"], "elements": {"$.composition.secret": ["authority"]}}
    for owner in (OWNER, viewer(owner=True)):
        result = shown(doc, owner, {"default": ["authority"]}, own)
        assert result.document is doc
        assert result.complete is True
    assert shown(doc, AUTHORITY, {"default": ["authority"]}, own).document == doc
    assert shown(doc, RECYCLER, {"default": ["authority"]}, own).document == HEADER


def test_complete_when_nothing_restricted_is_present():
    doc = document(nameplate={"name": "Shirt"}, composition={"fibres": "cotton"})
    result = shown(doc, ANONYMOUS)
    assert result.document is doc
    assert result.complete is True


def test_complete_speaks_of_the_document_not_of_the_passport_policy():
    # The passport's own policy is withheld from the anonymous reader (see `withheld`), but it is
    # not part of the document: the document itself is shown whole.
    doc = document(nameplate={"name": "Shirt"})
    own = {"sections": {"repair": ["authority"]}}
    paths = disclosable(doc, {}, own, parse_policy(DEPLOYMENT))
    assert withheld(paths, ANONYMOUS, parse_policy(DEPLOYMENT), own) == {POLICY}
    result = shown(doc, ANONYMOUS, own_policy=own)
    assert result.document is doc
    assert result.complete is True


def test_disclose_does_not_change_the_document():
    doc = document(
        composition={"fibres": "cotton", "supplierContract": "C-1"},
        supplychain={"tier1": {"name": "Spinner", "country": "ES"}},
    )
    own = {
        "elements": {
            "$.composition.supplierContract": ["authority"],
            "$.supplychain.tier1.country": ["authority"],
        }
    }
    before, own_before = copy.deepcopy(doc), copy.deepcopy(own)
    results = [shown(doc, reader, own_policy=own).document for reader in WHO.values()]
    assert doc == before
    assert own == own_before
    # what the anonymous reader got is cut from the document, not out of it
    assert results[0] == {**HEADER, "composition": {"fibres": "cotton"}}


def test_a_broken_passport_policy_is_refused_when_read():
    broken = {"default": ["wizard"]}
    with pytest.raises(BadRequest) as excinfo:
        passport_policy(broken)
    assert code_of(excinfo) == "InvalidAccessPolicy"
    with pytest.raises(BadRequest) as excinfo:
        shown(document(nameplate={"name": "x"}), ANONYMOUS, own_policy=broken)
    assert code_of(excinfo) == "InvalidAccessPolicy"
    assert passport_policy(None) == AccessPolicy()
    assert passport_policy({}) == AccessPolicy()
    assert passport_policy({"sections": {"repair": ["authority"]}}) == AccessPolicy(
        None, {("repair",): frozenset({"authority"})}
    )


@pytest.mark.parametrize(
    ("rule", "section"),
    [
        pytest.param("$.composition.substancesOfConcern", {"fibres": "cotton"}, id="absent-element"),
        pytest.param("$.composition.fibres.name", {"fibres": [{"name": "Cotton"}]}, id="rule-through-a-list"),
    ],
)
def test_a_rule_naming_nothing_in_the_document_withholds_nothing(rule, section):
    doc = document(composition=section)
    result = shown(doc, ANONYMOUS, {"default": ["public"], "elements": {rule: ["authority"]}})
    assert result.document == doc
    assert result.complete is True


# -- element reads: what disclose shows at a path -----------------------------------------------


def test_an_element_is_readable_exactly_when_disclose_shows_it():
    composition = {"fibres": "cotton", "supplierContract": "C-1"}
    doc = document(composition=composition, supplychain={"tier1": {"name": "Spinner"}})
    own = {"elements": {"$.composition.supplierContract": ["authority"]}}

    def read(path: tuple[Any, ...], who: Viewer) -> tuple[bool, Any]:
        return readable(doc, path, who, own_policy=own)

    assert read(("supplychain",), ANONYMOUS) == (False, None)
    assert read(("supplychain", "tier1", "name"), REPAIRER) == (False, None)
    assert read(("supplychain", "tier1", "name"), RECYCLER) == (True, "Spinner")
    assert read(("composition",), RECYCLER) == (True, {"fibres": "cotton"})
    assert read(("composition", "fibres"), ANONYMOUS) == (True, "cotton")
    assert read(("composition", "supplierContract"), RECYCLER) == (False, None)
    assert read(("composition", "supplierContract"), AUTHORITY) == (True, "C-1")
    assert read(("composition",), OWNER) == (True, composition)
    assert read(("contentSpecificationIds", 0), ANONYMOUS) == (True, HEADER["contentSpecificationIds"][0])
    # Under a closed default the header stays readable, the sections do not.
    assert readable(doc, ("economicOperatorId",), ANONYMOUS, {"default": ["authority"]}) == (
        True,
        HEADER["economicOperatorId"],
    )
    assert readable(doc, ("composition", "fibres"), ANONYMOUS, {"default": ["authority"]}) == (False, None)


def test_an_element_opened_inside_a_restricted_section_cannot_be_read_without_the_section():
    deployment = {
        "default": ["public"],
        "sections": {"supplychain": ["authority"]},
        "elements": {"$.supplychain.origin": ["public"]},
    }
    doc = document(supplychain={"origin": "PT", "cost": 3})
    assert readable(doc, ("supplychain", "origin"), ANONYMOUS, deployment) == (False, None)
    assert readable(doc, ("supplychain", "origin"), AUTHORITY, deployment) == (True, "PT")


# -- disclosable: what a version's SD-JWT makes selectively disclosable --------------------------


def test_disclosable_lists_sections_rule_elements_artifacts_and_the_passport_policy():
    doc = document(
        nameplate={"name": "Shirt", "Materials": [{"name": "Cotton"}]},
        composition={"soc": {"lead": 0.1}, "fibres": "cotton", "nested": {"deep": 1}},
        empty={},
    )
    deployment = parse_policy(
        {
            "default": ["public"],
            "sections": {"supplychain": ["authority"], "nameplate": ["recycler"]},
            "elements": {
                "$.composition.soc": ["authority"],
                "$.composition.absent": ["authority"],
                "$.nameplate.Materials.name": ["authority"],
                "$.repair.costs": ["authority"],
            },
        }
    )
    own = {"elements": {"$.composition.soc": ["authority"], "$.composition.nested.deep": ["authority"]}}
    artifacts = {"repair": ref("repair"), "composition": ref("composition")}
    paths = disclosable(doc, artifacts, own, deployment)
    assert len(paths) == len(set(paths))  # a rule both policies name is one disclosure
    assert set(paths) == {
        # every content section, the empty one too; header fields are plain claims
        doc_claim("nameplate"),
        doc_claim("composition"),
        doc_claim("empty"),
        # the elements rules name that the document has (not through a list, not absent ones)
        doc_claim("composition", "soc"),
        doc_claim("composition", "nested", "deep"),
        artifact_claim("repair"),
        artifact_claim("composition"),
        POLICY,
    }


def test_disclosable_without_a_passport_policy_or_artifacts():
    doc = document(nameplate={"name": "Shirt"})
    deployment = parse_policy(DEPLOYMENT)
    assert disclosable(doc, {}, None, deployment) == [doc_claim("nameplate")]
    # An empty policy is still the passport's policy, and a disclosure of its own.
    assert set(disclosable(doc, {}, {}, deployment)) == {doc_claim("nameplate"), POLICY}
    assert disclosable(HEADER, {}, None, deployment) == []


def test_disclosable_refuses_a_broken_passport_policy():
    with pytest.raises(BadRequest) as excinfo:
        disclosable(document(nameplate={}), {}, {"sections": {"nameplate": []}}, parse_policy(DEPLOYMENT))
    assert code_of(excinfo) == "InvalidAccessPolicy"


# -- policy_path: which rule governs a disclosure -----------------------------------------------


@pytest.mark.parametrize(
    ("claim", "path"),
    [
        (doc_claim("composition"), ("composition",)),
        (doc_claim("composition", "soc", "detail"), ("composition", "soc", "detail")),
        (artifact_claim("repair"), ("dppArtifacts", "repair")),
        (POLICY, ("dppAccessPolicy",)),
        (("dpp", "lifecycle"), ()),
        (("document",), ()),
        (("iss",), ()),
    ],
)
def test_policy_path(claim, path):
    assert policy_path(claim) == path


def test_policy_paths_are_governed_as_documented():
    deployment = [parse_policy(DEPLOYMENT)]
    # an artifact reference follows the section of its type, the passport's policy its own rule
    assert not may_read(policy_path(artifact_claim("repair")), ANONYMOUS, deployment)
    assert may_read(policy_path(artifact_claim("repair")), REPAIRER, deployment)
    assert may_read(policy_path(artifact_claim("composition")), ANONYMOUS, deployment)
    assert not may_read(policy_path(POLICY), RECYCLER, deployment)
    assert may_read(policy_path(POLICY), AUTHORITY, deployment)
    # the envelope's plain claims are nobody's to withhold
    assert may_read(policy_path(("dpp", "lifecycle")), ANONYMOUS, [parse_policy({"default": ["authority"]})])


# -- withheld: THE decision of every read --------------------------------------------------------


def _full_version() -> tuple[list[tuple[str, ...]], dict[str, Any]]:
    doc = document(
        nameplate={"name": "Shirt"},
        composition={"fibres": "cotton", "supplierContract": "C-1"},
        supplychain={"tier1": "Spinner"},
        repair={"manual": "m", "costs": 40},
    )
    artifacts = {kind: ref(kind) for kind in ("supplychain", "composition", "repair", "manufacture")}
    own = {
        "elements": {
            "$.composition.supplierContract": ["authority"],
            "$.repair.costs": ["recycler", "authority"],
        }
    }
    return disclosable(doc, artifacts, own, parse_policy(DEPLOYMENT)), own


ANONYMOUS_REFUSED = {
    doc_claim("supplychain"),
    doc_claim("repair"),
    doc_claim("composition", "supplierContract"),
    doc_claim("repair", "costs"),
    artifact_claim("supplychain"),
    artifact_claim("repair"),
    artifact_claim("manufacture"),
    POLICY,
}


@pytest.mark.parametrize(
    ("who", "refused"),
    [
        pytest.param(ANONYMOUS, ANONYMOUS_REFUSED, id="anonymous"),
        pytest.param(NO_ROLES, ANONYMOUS_REFUSED, id="no-roles"),
        pytest.param(OPERATOR, ANONYMOUS_REFUSED, id="operator"),
        pytest.param(
            REPAIRER,
            {
                doc_claim("supplychain"),
                doc_claim("composition", "supplierContract"),
                doc_claim("repair", "costs"),
                artifact_claim("supplychain"),
                artifact_claim("manufacture"),
                POLICY,
            },
            id="repairer",
        ),
        pytest.param(
            RECYCLER,
            {doc_claim("composition", "supplierContract"), artifact_claim("manufacture"), POLICY},
            id="recycler",
        ),
        pytest.param(AUTHORITY, set(), id="authority"),
        pytest.param(OWNER, set(), id="owner"),
        pytest.param(viewer(owner=True), set(), id="owner-without-roles"),
    ],
)
def test_withheld_refuses_each_disclosure_its_rules_deny(who, refused):
    paths, own = _full_version()
    assert withheld(paths, who, parse_policy(DEPLOYMENT), own) == refused


def test_artifact_references_follow_their_section():
    artifacts = {kind: ref(kind) for kind in ("supplychain", "composition", "repair", "manufacture")}
    deployment = parse_policy(DEPLOYMENT)
    paths = disclosable(document(nameplate={"name": "Shirt"}), artifacts, None, deployment)
    expected = {
        ANONYMOUS: {"composition"},
        NO_ROLES: {"composition"},
        OPERATOR: {"composition"},
        REPAIRER: {"composition", "repair"},
        RECYCLER: {"composition", "repair", "supplychain"},
        AUTHORITY: set(artifacts),
        OWNER: set(artifacts),
    }
    base = ("dpp", "artifacts")
    for reader, kinds in expected.items():
        refused = withheld(paths, reader, deployment, None)
        assert refused == {artifact_claim(kind) for kind in set(artifacts) - kinds}, reader
        assert prune(artifacts, base, refused) == {kind: artifacts[kind] for kind in kinds}, reader


def test_artifact_references_follow_the_passport_policy_too():
    artifacts = {"composition": ref("composition"), "repair": ref("repair")}
    doc = document(composition={"fibres": "cotton", "supplierContract": "C-1"})
    own = {
        "sections": {"repair": ["authority"]},
        "elements": {"$.composition.supplierContract": ["authority"]},
    }
    deployment = parse_policy(DEPLOYMENT)
    paths = disclosable(doc, artifacts, own, deployment)

    def shown_artifacts(who: Viewer) -> dict[str, Any]:
        return prune(artifacts, ("dpp", "artifacts"), withheld(paths, who, deployment, own))

    # The element rule inside composition does not touch the composition reference.
    assert shown_artifacts(ANONYMOUS) == {"composition": artifacts["composition"]}
    assert shown_artifacts(REPAIRER) == {"composition": artifacts["composition"]}
    assert shown_artifacts(AUTHORITY) == artifacts


def test_artifact_references_under_a_closed_default():
    artifacts = {"repair": ref("repair"), "nameplate": ref("nameplate")}
    closed = parse_policy({"default": ["authority"]})
    paths = disclosable(document(nameplate={"name": "Shirt"}), artifacts, None, closed)
    refused = withheld(paths, ANONYMOUS, closed, None)
    assert refused == {doc_claim("nameplate"), artifact_claim("repair"), artifact_claim("nameplate")}
    assert prune(artifacts, ("dpp", "artifacts"), refused) == {}
    assert withheld(paths, AUTHORITY, closed, None) == frozenset()


def test_the_passport_policy_is_for_the_authority_under_the_shipped_policy():
    paths = [POLICY]
    shipped = deployment_policy(None)
    for reader in (ANONYMOUS, NO_ROLES, RECYCLER, REPAIRER, OPERATOR):
        assert withheld(paths, reader, shipped, {}) == {POLICY}, reader
    for reader in (AUTHORITY, OWNER):
        assert withheld(paths, reader, shipped, {}) == frozenset(), reader
    # It is the section rule `dppAccessPolicy` that does it, and the passport's own can narrow it.
    public = parse_policy({"default": ["public"]})
    assert withheld(paths, ANONYMOUS, public, {}) == frozenset()
    assert withheld(paths, ANONYMOUS, public, {"default": ["authority"]}) == {POLICY}
    assert withheld(paths, ANONYMOUS, public, {"sections": {"dppAccessPolicy": ["recycler"]}}) == {POLICY}
    assert withheld(paths, RECYCLER, public, {"sections": {"dppAccessPolicy": ["recycler"]}}) == frozenset()


def test_an_element_disclosure_inside_a_withheld_section_is_withheld_with_it():
    deployment = parse_policy(
        {
            "default": ["public"],
            "sections": {"supplychain": ["authority"]},
            "elements": {"$.supplychain.origin": ["public"]},
        }
    )
    doc = document(supplychain={"origin": "PT", "cost": 3})
    paths = disclosable(doc, {}, None, deployment)
    assert set(paths) == {doc_claim("supplychain"), doc_claim("supplychain", "origin")}
    refused = withheld(paths, ANONYMOUS, deployment, None)
    # The element's own rule admits the reader; its section's does not.
    assert refused == {doc_claim("supplychain")}
    assert is_withheld(doc_claim("supplychain", "origin"), refused)
    assert "supplychain" not in prune(doc, ("document",), refused)
    assert withheld(paths, AUTHORITY, deployment, None) == frozenset()


def test_withheld_fails_closed_on_a_rule_inside_a_disclosure():
    doc = document(composition={"fibres": "cotton", "soc": {"lead": 0.1, "detail": "x"}})
    # The version was issued under a policy without element rules ...
    issued = disclosable(doc, {}, None, parse_policy({"default": ["public"]}))
    assert issued == [doc_claim("composition")]
    # ... and read under one that restricts an element inside its composition disclosure.
    later = parse_policy(
        {
            "default": ["public"],
            "elements": {
                "$.composition.soc": ["recycler", "authority"],
                "$.composition.soc.detail": ["authority"],
            },
        }
    )
    for reader in (ANONYMOUS, RECYCLER, REPAIRER):
        assert withheld(issued, reader, later, None) == {doc_claim("composition")}, reader
    assert withheld(issued, AUTHORITY, later, None) == frozenset()
    assert withheld(issued, OWNER, later, None) == frozenset()
    # The disclosure that holds the rule most closely is the one withheld.
    with_soc = [doc_claim("composition"), doc_claim("composition", "soc")]
    assert withheld(with_soc, RECYCLER, later, None) == {doc_claim("composition", "soc")}
    assert withheld(with_soc, ANONYMOUS, later, None) == {doc_claim("composition", "soc")}
    # Issued now, every rule has its own disclosure and only the restricted elements go.
    current = disclosable(doc, {}, None, later)
    assert withheld(current, RECYCLER, later, None) == {doc_claim("composition", "soc", "detail")}
    assert prune(doc, ("document",), withheld(current, RECYCLER, later, None))["composition"] == {
        "fibres": "cotton",
        "soc": {"lead": 0.1},
    }


def test_withheld_fails_closed_on_a_passport_policy_rule_too():
    issued = [doc_claim("repair"), doc_claim("nameplate")]
    public = parse_policy({"default": ["public"]})
    own = {"elements": {"$.repair.costs": ["authority"]}}
    assert withheld(issued, ANONYMOUS, public, own) == {doc_claim("repair")}
    assert withheld(issued, ANONYMOUS, public, None) == frozenset()
    assert withheld(issued, AUTHORITY, public, own) == frozenset()


def test_a_rule_outside_every_disclosure_or_admitting_the_reader_withholds_nothing():
    public = parse_policy(
        {
            "default": ["public"],
            "sections": {"supplychain": ["authority"]},
            "elements": {"$.composition.soc": ["authority"], "$.nameplate.serial": ["public"]},
        }
    )
    # no disclosure encloses ("supplychain",) or ("composition", "soc"); nameplate.serial is public
    assert withheld([doc_claim("nameplate")], ANONYMOUS, public, None) == frozenset()
    # an artifact reference does not enclose the element rules of its section
    assert withheld([artifact_claim("composition")], ANONYMOUS, public, None) == frozenset()


def test_is_withheld():
    refused = frozenset({doc_claim("repair"), artifact_claim("manufacture")})
    assert is_withheld(doc_claim("repair"), refused)
    assert is_withheld(doc_claim("repair", "costs", "labour"), refused)
    assert not is_withheld(doc_claim("repairs"), refused)
    assert not is_withheld(doc_claim("composition"), refused)
    assert not is_withheld(artifact_claim("repair"), refused)
    assert is_withheld(artifact_claim("manufacture"), refused)
    assert not is_withheld(doc_claim("repair"), frozenset())


# -- prune: withheld parts cut out of the claims ------------------------------------------------


def test_prune_removes_the_withheld_members_and_shares_the_rest():
    value = {
        "a": {"b": 1, "c": {"d": 2, "e": 3}},
        "f": {"g": 4},
        "h": [1, {"i": 5}],
        "j": {"k": 6},
    }
    before = copy.deepcopy(value)
    refused = frozenset({doc_claim("a", "b"), doc_claim("f", "g"), doc_claim("j"), artifact_claim("a")})
    result = prune(value, ("document",), refused)
    assert result == {"a": {"c": {"d": 2, "e": 3}}, "f": {}, "h": [1, {"i": 5}]}
    assert result["a"]["c"] is value["a"]["c"]
    assert result["h"] is value["h"]
    assert result is not value
    assert value == before


def test_prune_returns_the_value_itself_when_nothing_below_it_is_withheld():
    value = {"a": {"b": 1}}
    assert prune(value, ("document",), frozenset()) is value
    assert prune(value, ("document",), frozenset({artifact_claim("a"), doc_claim("x")})) == value
    assert prune(value, ("document",), frozenset({artifact_claim("a"), POLICY})) is value
    assert prune(value, ("document", "a"), frozenset({doc_claim("x", "b")})) is value


def test_prune_below_another_base():
    artifacts = {"repair": ref("repair"), "composition": ref("composition")}
    refused = frozenset({artifact_claim("repair"), doc_claim("composition")})
    assert prune(artifacts, ("dpp", "artifacts"), refused) == {"composition": artifacts["composition"]}
    section = {"costs": 1, "manual": "m"}
    assert prune(section, doc_claim("repair"), frozenset({doc_claim("repair", "costs")})) == {"manual": "m"}


# -- the deployment's policy file ---------------------------------------------------------------


def test_the_repository_default_file_parses_to_the_documented_policy():
    policy = load_policy_file(str(DEFAULT_POLICY_FILE))
    assert policy == parse_policy(SHIPPED)
    assert deployment_policy(None) == policy
    raw = json.loads(DEFAULT_POLICY_FILE.read_text(encoding="utf-8"))
    assert raw["default"] == ["public"]


@pytest.mark.parametrize(
    "content",
    [
        pytest.param("{not json", id="not-json"),
        pytest.param("", id="empty"),
        pytest.param("[]", id="not-an-object"),
        pytest.param('{"default": ["public"], "sections": {"repair": ["mechanic"]}}', id="unknown-role"),
        pytest.param('{"sections": {"contentHash": ["authority"]}}', id="always-public-member"),
        pytest.param('{"elements": {"$.repair": ["authority"]}}', id="one-segment-element"),
        pytest.param(b"\xff\xfe{}", id="not-utf8"),
    ],
)
def test_a_broken_policy_file_refuses_to_serve(tmp_path, content):
    path = tmp_path / "policy.json"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    with pytest.raises(DppError) as excinfo:
        load_policy_file(str(path))
    assert code_of(excinfo) == "AccessPolicyInvalid"
    assert excinfo.value.status == 500
    assert not isinstance(excinfo.value, BadRequest)


def test_a_missing_policy_file_refuses_to_serve(tmp_path):
    with pytest.raises(DppError) as excinfo:
        deployment_policy(str(tmp_path / "absent.json"))
    assert code_of(excinfo) == "AccessPolicyInvalid"
    assert excinfo.value.status == 500


def test_a_valid_policy_file_is_loaded(tmp_path):
    path = tmp_path / "policy.json"
    path.write_text(
        json.dumps({"default": ["authority"], "elements": {"$.a.b": ["public"]}}), encoding="utf-8"
    )
    policy = deployment_policy(str(path))
    assert policy == AccessPolicy(frozenset({"authority"}), {("a", "b"): frozenset({"public"})})


@pytest.mark.parametrize(
    "section",
    [
        "supplyChain",
        "SupplyChain",
        "supply_chain",
        "Supply-Chain",
        "SUPPLY CHAIN",
        "\uff53upplychain",
        "https://spec.example.org/SupplyChain/1",
        "urn:spec:supply-chain:v2",
    ],
)
def test_a_section_spelled_otherwise_or_keyed_by_its_specification_id_is_still_restricted(section):
    """Issue 14: `supplyChain` (or a section keyed by its specification id) escaped the
    `supplychain` rule and was public and searchable."""
    doc = document(nameplate={"name": "Shirt"}, **{section: {"smelter": "Smelter A"}})
    shipped = parse_policy(SHIPPED)
    assert section not in disclose(doc, ANONYMOUS, shipped).document
    assert disclose(doc, RECYCLER, shipped).document[section] == {"smelter": "Smelter A"}


def test_the_documented_substances_of_concern_rule_is_shipped():
    doc = document(composition={"fibres": "cotton", "SubstancesOfConcern": ["lead"]})
    shown = disclose(doc, ANONYMOUS, deployment_policy(None)).document
    assert shown["composition"] == {"fibres": "cotton"}
    assert disclose(doc, RECYCLER, deployment_policy(None)).document["composition"][
        "SubstancesOfConcern"
    ] == ["lead"]


def test_a_member_two_rules_name_admits_only_who_both_admit():
    policy = parse_policy(
        {"sections": {"supplychain": ["recycler", "authority"], "manufacture": ["authority"]}}
    )
    both = "https://spec.example.org/supplychain/manufacture"
    assert policy.rule_for((both,)) == frozenset({"authority"})
    assert policy.rule_for(("supplyChain",)) == frozenset({"recycler", "authority"})


# -- rules a mutation run found untested (docs/testing.md) ---------------------------------------


def test_a_member_answering_to_a_public_and_a_restricted_rule_stays_restricted():
    # Fail closed: `https://spec.example/SupplyChain/1` answers to both rules, equally specific.
    policy = parse_policy({"sections": {"SupplyChain": ["public"], "spec.example": ["authority"]}})
    member = ("https://spec.example/SupplyChain/1",)
    assert policy.rule_for(member) == frozenset({"authority"})
    assert not may_read(member, ANONYMOUS, [policy]) and may_read(member, AUTHORITY, [policy])


def test_two_spellings_of_one_rule_admit_only_what_both_admit():
    for first, second in (
        (["authority", "recycler"], ["authority"]),
        (["authority"], ["authority", "recycler"]),
    ):
        policy = parse_policy({"sections": {"supplyChain": first, "supply_chain": second}})
        assert policy.rule_for(("supplyChain",)) == frozenset({"authority"})


@pytest.mark.parametrize(
    ("data", "fault"),
    [
        ([], "'dppAccessPolicy' must be a JSON object"),
        ({"sectons": {}}, "'dppAccessPolicy' has unknown members ['sectons']"),
        ({"default": []}, "'dppAccessPolicy.default' must be a non-empty list of roles"),
        ({"sections": []}, "'dppAccessPolicy.sections' must be a JSON object"),
        ({"sections": {"dppLifecycle": ["authority"]}}, "'dppLifecycle' is always public and takes no rule"),
        ({"sections": {"--": ["authority"]}}, "'dppAccessPolicy.sections.--' names no letters or digits"),
        # A non-string path: JSON keys are strings, a caller's dict's need not be.
        ({"elements": {5: ["authority"]}}, "Element rule paths must be strings"),
        ({"elements": {"$.a[": ["authority"]}}, "Element rule '$.a['"),
        ({"elements": {"repair": ["authority"]}}, "Element rule 'repair' must name a member below a section"),
        (
            {"sections": {"repair": ["mechanic"]}},
            "'dppAccessPolicy.sections.repair' names unknown roles ['mechanic']; "
            "allowed: authority, operator, public, recycler, repairer",
        ),
    ],
)
def test_an_invalid_policy_is_refused_naming_the_first_problem(data, fault):
    with pytest.raises(BadRequest) as refused:
        parse_policy(data)
    assert refused.value.code == "InvalidAccessPolicy" and fault in refused.value.text


def test_a_deployment_policy_file_that_cannot_be_loaded_names_itself(tmp_path):
    broken = tmp_path / "policy.json"
    broken.write_text("[]", encoding="utf-8")
    with pytest.raises(DppError) as refused:
        load_policy_file(str(broken))
    assert refused.value.code == "AccessPolicyInvalid"
    assert refused.value.text == (
        f"The service's access policy cannot be loaded: 'access policy file {broken}' must be a JSON object"
    )


def test_without_the_document_a_rule_deeper_than_every_disclosure_withholds_its_section():
    # The version has a disclosure inside the restricted element but none for the element itself:
    # the section's disclosure holds the rest of it, so the section is withheld (fail closed).
    paths = [("document", "Nameplate"), ("document", "Nameplate", "Serial", "Check")]
    deployment = parse_policy({"elements": {"nameplate.serial": ["authority"]}})
    assert withheld(paths, ANONYMOUS, deployment, None) == frozenset(paths)
    assert withheld(paths, AUTHORITY, deployment, None) == frozenset()


def test_every_member_a_rule_names_is_withheld_not_only_the_first():
    document = {"Nameplate": {"serial": "1"}, "name_plate": {"serial": "2"}}
    paths = [("document", "Nameplate"), ("document", "name_plate"), ("document", "Nameplate", "serial")]
    deployment = parse_policy({"elements": {"nameplate.serial": ["authority"]}})
    refused = withheld(paths, ANONYMOUS, deployment, None, document)
    assert refused == {("document", "Nameplate", "serial"), ("document", "name_plate")}


def test_header_objects_are_not_disclosed_as_sections():
    document = {"facilityId": {"odd": True}, "repair": {"a": 1}}
    assert disclosable(document, {}, None, AccessPolicy()) == [("document", "repair")]


def test_prune_keeps_scalars_beside_what_it_cuts():
    value = {"a": 1, "b": {"c": 2, "d": [3]}}
    assert prune(value, (), frozenset({("b", "c")})) == {"a": 1, "b": {"d": [3]}}
