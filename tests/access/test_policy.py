"""The access policy without HTTP: parsing, rule specificity, THE decision (`may_read`) and what
`disclose` / `element_value` show each reader (EN 18222 4.2-4.5, element-level access)."""

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
    disclose,
    element_value,
    load_policy_file,
    may_read,
    parse_policy,
    passport_policy,
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
SEALED = {
    "dppLifecycle": {"versionLabel": "v1", "status": "Valid", "validFrom": "2025-01-01T00:00:00.000Z"},
    "contentHash": "sha256-abc",
    "signature": "eyJhbGciOiJFUzI1NiJ9..sig",
}


def ref(kind: str) -> dict[str, Any]:
    return {"uri": f"/artifacts/{'0' * 32}/{kind}/{'1' * 64}-00000000", "hash": "sha256-x", "size": 3}


def document(**sections: Any) -> dict[str, Any]:
    return {**HEADER, **sections, **SEALED}


def shown(doc: dict[str, Any], who: Viewer, deployment: dict[str, Any] | None = None):
    return disclose(doc, who, parse_policy(DEPLOYMENT if deployment is None else deployment))


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
    assert dict(policy.rules) == {
        ("supplychain",): frozenset({"authority", "recycler"}),
        ("dppAccessPolicy",): frozenset({"authority"}),
        ("composition", "substancesOfConcern"): frozenset({"authority"}),
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
    with pytest.raises(BadRequest):
        parse_policy({"elements": {"$.repair..costs": ["authority"]}})


@pytest.mark.parametrize("rule", ["$.repair..costs", "$.repair[*]", "repair/costs", "$.repair.costs["])
def test_malformed_element_rule_path_is_an_invalid_access_policy(rule):
    with pytest.raises(BadRequest) as excinfo:
        parse_policy({"elements": {rule: ["authority"]}})
    assert code_of(excinfo) == "InvalidAccessPolicy"


def test_element_rule_names_members_literally():
    policy = parse_policy({"elements": {"$['composition']['price%20list']": ["authority"]}})
    assert dict(policy.rules) == {("composition", "price%20list"): frozenset({"authority"})}
    doc = document(composition={"price%20list": "secret", "fibres": "cotton"})
    assert disclose(doc, ANONYMOUS, policy).document["composition"] == {"fibres": "cotton"}


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


# -- may_read: THE decision ---------------------------------------------------------------------


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


# -- disclose -----------------------------------------------------------------------------------


def test_restricted_section_is_withheld_and_view_is_partial():
    doc = document(nameplate={"name": "Shirt"}, supplychain={"tier1": "Spinner"})
    anonymous = shown(doc, ANONYMOUS)
    assert anonymous.document == {**HEADER, "nameplate": {"name": "Shirt"}, **SEALED}
    assert anonymous.complete is False
    for reader in (RECYCLER, AUTHORITY):
        assert shown(doc, reader).document == doc
        assert shown(doc, reader).complete is True
    assert shown(doc, REPAIRER).document == {**HEADER, "nameplate": {"name": "Shirt"}, **SEALED}


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


def test_element_made_readable_inside_a_restricted_section_shows_only_that_element():
    deployment = {
        "default": ["public"],
        "sections": {"supplychain": ["authority"]},
        "elements": {"$.supplychain.origin": ["public"], "$.supplychain.tier1.country": ["recycler"]},
    }
    supplychain = {"origin": "PT", "tier1": {"name": "Spinner", "country": "ES"}, "cost": 3}
    doc = document(supplychain=supplychain)
    assert shown(doc, ANONYMOUS, deployment).document["supplychain"] == {"origin": "PT"}
    assert shown(doc, RECYCLER, deployment).document["supplychain"] == {
        "origin": "PT",
        "tier1": {"country": "ES"},
    }
    # The most specific rule wins in both directions: the element rule replaces the section's,
    # so the authority, not named by it, loses tier1.country.
    assert shown(doc, AUTHORITY, deployment).document["supplychain"] == {
        "origin": "PT",
        "tier1": {"name": "Spinner"},
        "cost": 3,
    }
    assert shown(doc, OWNER, deployment).document["supplychain"] == supplychain
    # Nothing readable in a restricted section: the section disappears, it is not shown empty.
    without_origin = document(supplychain={"cost": 3})
    assert "supplychain" not in shown(without_origin, ANONYMOUS, deployment).document


def test_passport_policy_narrows_the_deployment():
    policy = {
        "sections": {"nameplate": ["authority", "recycler"]},
        "elements": {"$.composition.supplierContract": ["authority"], "$.repair.costs": ["authority"]},
    }
    doc = document(
        nameplate={"name": "Shirt"},
        composition={"fibres": "cotton", "supplierContract": "C-1"},
        repair={"manual": "m", "costs": 40},
        dppAccessPolicy=policy,
    )
    anonymous = shown(doc, ANONYMOUS).document
    assert "nameplate" not in anonymous
    assert anonymous["composition"] == {"fibres": "cotton"}
    assert "repair" not in anonymous
    assert "dppAccessPolicy" not in anonymous
    recycler = shown(doc, RECYCLER).document
    assert recycler["nameplate"] == {"name": "Shirt"}
    assert recycler["composition"] == {"fibres": "cotton"}
    assert recycler["repair"] == {"manual": "m"}
    assert "dppAccessPolicy" not in recycler
    assert shown(doc, AUTHORITY).document == doc
    assert shown(doc, AUTHORITY).complete is True


def test_passport_policy_does_not_widen_the_deployment():
    doc = document(
        supplychain={"tier1": "Spinner"},
        manufacture={"plant": "Porto", "process": "dyeing"},
        repair={"manual": "m"},
        dppAccessPolicy={
            "default": ["public"],
            "sections": {"supplychain": ["public"], "repair": ["public", "operator"]},
            "elements": {"$.manufacture.plant": ["public"], "$.repair.manual": ["public"]},
        },
    )
    for reader in (ANONYMOUS, NO_ROLES, OPERATOR):
        result = shown(doc, reader)
        assert result.document == {**HEADER, **SEALED}, reader
        assert result.complete is False
    assert set(shown(doc, RECYCLER).document) == {*HEADER, *SEALED, "supplychain", "repair"}
    assert set(shown(doc, REPAIRER).document) == {*HEADER, *SEALED, "repair"}
    assert shown(doc, AUTHORITY).document == doc


def test_artifact_references_follow_their_section():
    artifacts = {kind: ref(kind) for kind in ("supplychain", "composition", "repair", "manufacture")}
    doc = document(nameplate={"name": "Shirt"}, dppArtifacts=artifacts)
    expected = {
        ANONYMOUS: {"composition"},
        NO_ROLES: {"composition"},
        OPERATOR: {"composition"},
        REPAIRER: {"composition", "repair"},
        RECYCLER: {"composition", "repair", "supplychain"},
        AUTHORITY: set(artifacts),
        OWNER: set(artifacts),
    }
    for reader, kinds in expected.items():
        result = shown(doc, reader)
        assert result.document["dppArtifacts"] == {kind: artifacts[kind] for kind in kinds}, reader
        assert result.complete is (kinds == set(artifacts))


def test_artifact_references_follow_the_passport_policy_too():
    artifacts = {"composition": ref("composition"), "repair": ref("repair")}
    doc = document(
        composition={"fibres": "cotton", "supplierContract": "C-1"},
        dppArtifacts=artifacts,
        dppAccessPolicy={
            "sections": {"repair": ["authority"]},
            "elements": {"$.composition.supplierContract": ["authority"]},
        },
    )
    # The element rule inside composition does not touch the composition reference.
    assert shown(doc, ANONYMOUS).document["dppArtifacts"] == {"composition": artifacts["composition"]}
    assert shown(doc, REPAIRER).document["dppArtifacts"] == {"composition": artifacts["composition"]}
    assert shown(doc, AUTHORITY).document["dppArtifacts"] == artifacts


def test_always_public_members_are_kept_under_a_closed_policy():
    doc = document(nameplate={"name": "Shirt"}, dppArtifacts={"repair": ref("repair")})
    result = shown(doc, ANONYMOUS, {"default": ["authority"]})
    assert {key: result.document[key] for key in (*HEADER, *SEALED)} == {**HEADER, **SEALED}
    assert "nameplate" not in result.document
    assert result.document.get("dppArtifacts", {}) == {}
    assert result.complete is False


def test_owner_sees_the_document_itself_even_with_a_closed_passport_policy():
    doc = document(
        supplychain={"tier1": "Spinner"},
        dppAccessPolicy={"default": ["authority"]},
        dppArtifacts={"supplychain": ref("supplychain")},
    )
    for owner in (OWNER, viewer(owner=True)):
        result = shown(doc, owner, {"default": ["authority"]})
        assert result.document == doc
        assert result.complete is True


def test_complete_when_nothing_restricted_is_present():
    doc = document(nameplate={"name": "Shirt"}, composition={"fibres": "cotton"})
    result = shown(doc, ANONYMOUS)
    assert result.document == doc
    assert result.complete is True


def test_disclose_does_not_change_the_document():
    doc = document(
        composition={"fibres": "cotton", "supplierContract": "C-1"},
        supplychain={"tier1": "Spinner"},
        dppArtifacts={"supplychain": ref("supplychain")},
        dppAccessPolicy={"elements": {"$.composition.supplierContract": ["authority"]}},
    )
    before = copy.deepcopy(doc)
    for reader in WHO.values():
        shown(doc, reader)
    assert doc == before


def test_a_broken_passport_policy_is_refused_when_read():
    doc = document(nameplate={"name": "x"}, dppAccessPolicy={"default": ["wizard"]})
    with pytest.raises(BadRequest) as excinfo:
        passport_policy(doc)
    assert code_of(excinfo) == "InvalidAccessPolicy"
    assert passport_policy(document(nameplate={})) == AccessPolicy()


# -- element_value ------------------------------------------------------------------------------


def test_element_value_refuses_filters_and_passes():
    deployment = parse_policy(DEPLOYMENT)
    composition = {"fibres": "cotton", "supplierContract": "C-1"}
    doc = document(
        composition=composition,
        supplychain={"tier1": {"name": "Spinner"}},
        dppArtifacts={"supplychain": ref("supplychain")},
        dppAccessPolicy={"elements": {"$.composition.supplierContract": ["authority"]}},
    )
    assert element_value(doc, ("supplychain",), doc["supplychain"], ANONYMOUS, deployment) == (False, None)
    assert element_value(doc, ("supplychain", "tier1", "name"), "Spinner", REPAIRER, deployment) == (
        False,
        None,
    )
    assert element_value(doc, ("supplychain", "tier1", "name"), "Spinner", RECYCLER, deployment) == (
        True,
        "Spinner",
    )
    assert element_value(doc, ("composition",), composition, RECYCLER, deployment) == (
        True,
        {"fibres": "cotton"},
    )
    assert element_value(doc, ("composition", "supplierContract"), "C-1", RECYCLER, deployment) == (
        False,
        None,
    )
    assert element_value(doc, ("composition", "supplierContract"), "C-1", AUTHORITY, deployment) == (
        True,
        "C-1",
    )
    # every artifact withheld: the member is withheld whole (`{}` would say that artifacts exist)
    assert element_value(doc, ("dppArtifacts",), doc["dppArtifacts"], ANONYMOUS, deployment) == (False, None)
    assert element_value(
        doc, ("dppArtifacts", "supplychain"), doc["dppArtifacts"]["supplychain"], ANONYMOUS, deployment
    ) == (False, None)
    assert element_value(doc, ("dppAccessPolicy",), doc["dppAccessPolicy"], OWNER, deployment) == (
        True,
        doc["dppAccessPolicy"],
    )


# -- the deployment's policy file ---------------------------------------------------------------


def test_the_repository_default_file_parses_to_the_documented_policy():
    policy = load_policy_file(str(DEFAULT_POLICY_FILE))
    assert policy == parse_policy(DEPLOYMENT)
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


def test_a_section_with_every_member_withheld_is_withheld_whole():
    policy = parse_policy(
        {"elements": {"$.repair.costs": ["authority"], "$.repair.manualUrl": ["authority"]}}
    )
    doc = document(repair={"costs": 12, "manualUrl": "https://x"}, empty={})
    anonymous = disclose(doc, ANONYMOUS, policy)
    assert "repair" not in anonymous.document
    assert anonymous.document["empty"] == {}  # an empty section withholds nothing
    assert anonymous.complete is False
    assert disclose(doc, AUTHORITY, policy).document["repair"] == doc["repair"]
