"""The Bicep templates, checked offline: every file parses (tree-sitter-bicep), and what they
declare matches what the code expects (containers and partition keys, indexing, blob containers,
settings, the signing key, blob-trigger subscriptions) with the security defaults in place. The
checks are functions of the template text, so each is also shown failing on broken Bicep."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support.bicep import Expr, read, syntax_errors
from tests.support.documents import REPO

INFRA = REPO / "infra"
BICEP_FILES = sorted(INFRA.rglob("*.bicep"))
# A connection string or a key must never be an app setting value; these are how they get there.
SECRET_MARKERS = ("listKeys(", "listConnectionStrings(", "AccountKey=", "primaryMasterKey", "SharedAccessKey")
SECRET_NAME = re.compile(r"(KEY|SECRET|PASSWORD|CONNECTION_?STRING)$", re.IGNORECASE)
# Names where telemetry goes (ingestion endpoint and resource id); not a credential because the
# Application Insights resource disables local auth (checked below): sending needs Entra ID.
NOT_A_SECRET = {"APPLICATIONINSIGHTS_CONNECTION_STRING"}
# JWS algorithm -> the Key Vault key type and curve that sign it.
KEY_FOR_ALGORITHM = {"ES256": ("EC", "P-256")}


def text(relative: str) -> str:
    return (INFRA / relative).read_text(encoding="utf-8")


# -- syntax -----------------------------------------------------------------------------------------


def test_there_are_templates_to_check():
    names = {path.relative_to(INFRA).as_posix() for path in BICEP_FILES}
    assert {"main.bicep", "eventgrid.bicep", "modules/cosmos.bicep", "modules/functionapp.bicep"} <= names


@pytest.mark.parametrize("path", BICEP_FILES, ids=lambda path: path.relative_to(INFRA).as_posix())
def test_every_bicep_file_parses(path: Path):
    assert syntax_errors(path.read_bytes()) == []


@pytest.mark.parametrize(
    "breakage",
    [
        lambda source: source.replace("kind: 'Hash'", "kind: 'Hash'\n          version 2 2", 1),
        lambda source: source[: source.rindex("}")],  # a missing closing brace
        lambda source: source.replace(
            "param databaseName string = 'dpp'", "param databaseName string = 'dpp"
        ),
    ],
    ids=["stray tokens", "unclosed object", "unterminated string"],
)
def test_a_syntax_error_is_caught(breakage):
    source = text("modules/cosmos.bicep")
    assert syntax_errors(source) == []
    assert syntax_errors(breakage(source)) != []


# -- Cosmos DB ------------------------------------------------------------------------------------------


def container_mismatches(cosmos_source: str) -> list[str]:
    """How the template's containers differ from shared/storage/cosmos.py's CONTAINERS (empty: they match)."""
    from shared.storage.cosmos import CONTAINERS

    declared = {c["name"]: c for c in read(cosmos_source).variables["containers"]}
    problems = []
    for spec in CONTAINERS:
        found = declared.pop(spec.name, None)
        if found is None:
            problems.append(f"container {spec.name} is missing")
            continue
        if found["partitionKey"] != spec.partition_key:
            problems.append(f"{spec.name}: partition key {found['partitionKey']} != {spec.partition_key}")
        if found["includedPaths"] != list(spec.included_paths):
            problems.append(f"{spec.name}: included paths {found['includedPaths']}")
        if found["excludedPaths"] != list(spec.excluded_paths):
            problems.append(f"{spec.name}: excluded paths {found['excludedPaths']}")
    problems.extend(f"container {name} is not used by the code" for name in declared)
    return problems


def test_cosmos_containers_partition_keys_and_indexing_match_the_code():
    assert container_mismatches(text("modules/cosmos.bicep")) == []


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("name: 'passports'", "name: 'passport'", "container passports is missing"),
        ("partitionKey: '/term'", "partitionKey: '/terms'", "searchIndex: partition key /terms != /term"),
        ("excludedPaths: ['/document/*', ", "excludedPaths: [", "passports: excluded paths"),
    ],
)
def test_a_container_that_drifts_from_the_code_is_caught(old, new, expected):
    source = text("modules/cosmos.bicep")
    assert old in source
    problems = container_mismatches(source.replace(old, new, 1))
    assert any(problem.startswith(expected) for problem in problems), problems


def test_the_templates_index_what_the_code_creates_locally():
    """The local layout is made from the same specs (store.indexing_policy), so Bicep and the
    local stand-in index alike."""
    from shared.storage.cosmos import CONTAINERS, indexing_policy

    declared = {c["name"]: c for c in read(text("modules/cosmos.bicep")).variables["containers"]}
    for spec in CONTAINERS:
        policy = indexing_policy(spec)
        assert [p["path"] for p in policy["includedPaths"]] == declared[spec.name]["includedPaths"]
        assert [p["path"] for p in policy["excludedPaths"]] == declared[spec.name]["excludedPaths"]


def test_cosmos_database_security_and_capacity():
    from shared.platform.settings import Settings

    template = read(text("modules/cosmos.bicep"))
    assert template.params["databaseName"]["default"] == Settings().cosmos_database
    assert template.params["capacityMode"]["default"] == "serverless"
    account = template.resources_of("Microsoft.DocumentDB/databaseAccounts")[0].body["properties"]
    assert account["disableLocalAuth"] is True
    assert account["disableKeyBasedMetadataWriteAccess"] is True
    [role] = template.resources_of("Microsoft.DocumentDB/databaseAccounts/sqlRoleAssignments")
    assert template.variables["dataContributor"] == "00000000-0000-0000-0000-000000000002"
    assert role.body["properties"]["principalId"] == Expr("principalId")


# -- app settings -----------------------------------------------------------------------------------


def settings_problems(functionapp_source: str) -> list[str]:
    """Every setting the code reads is set by Bicep or documented optional; none is a secret."""
    from shared.platform.settings import OPTIONAL_IN_AZURE, SETTING_NAMES

    app_settings: dict[str, Any] = read(functionapp_source).variables["appSettings"]
    problems = [f"{name} is neither set nor optional" for name in SETTING_NAMES if name not in app_settings]
    problems = [p for p in problems if p.split()[0] not in OPTIONAL_IN_AZURE]
    problems += [
        f"{name} is set but documented as optional" for name in OPTIONAL_IN_AZURE if name in app_settings
    ]
    problems += [
        f"{name} is optional but not a setting" for name in OPTIONAL_IN_AZURE if name not in SETTING_NAMES
    ]
    for name, setting in app_settings.items():
        shown = setting.text if isinstance(setting, Expr) else json.dumps(setting)
        if SECRET_NAME.search(name) and name not in NOT_A_SECRET:
            problems.append(f"{name} looks like a key or connection string")
        if any(marker.lower() in shown.lower() for marker in SECRET_MARKERS):
            problems.append(f"{name} carries a key: {shown}")
    if "AzureWebJobsStorage" in app_settings:
        problems.append("AzureWebJobsStorage is a connection string; use the identity-based __ settings")
    return problems


def test_every_setting_the_code_reads_is_set_or_optional_and_none_is_a_secret():
    assert settings_problems(text("modules/functionapp.bicep")) == []


def test_app_settings_are_the_app_config():
    source = text("modules/functionapp.bicep")
    assert re.search(
        r"resource settings 'config' = \{\s*name: 'appsettings'\s*properties: appSettings", source
    )
    identity_based = read(source).variables["appSettings"]
    assert identity_based["AzureWebJobsStorage__credential"] == "managedidentity"
    assert identity_based["AzureWebJobsStorage__clientId"] == Expr("identityClientId")
    assert identity_based["DPP_ENVIRONMENT"] == "azure"


@pytest.mark.parametrize(
    ("added", "expected"),
    [
        ("COSMOS_KEY: listKeys(cosmosId, '2024-11-15').primaryMasterKey", "COSMOS_KEY is set but documented"),
        ("AzureWebJobsStorage: 'DefaultEndpointsProtocol=https;AccountKey=abc'", "AzureWebJobsStorage"),
        ("STORAGE_SECRET: storageSecret", "STORAGE_SECRET looks like a key"),
        ("DPP_EXTRA: 'x;AccountKey=abc'", "DPP_EXTRA carries a key"),
    ],
)
def test_a_key_in_app_settings_is_caught(added, expected):
    source = text("modules/functionapp.bicep").replace(
        "  DPP_ENVIRONMENT: 'azure'\n", f"  DPP_ENVIRONMENT: 'azure'\n  {added}\n", 1
    )
    problems = settings_problems(source)
    assert any(problem.startswith(expected) for problem in problems), problems


def test_a_setting_the_code_reads_but_bicep_forgets_is_caught():
    source = text("modules/functionapp.bicep").replace("  COSMOS_ENDPOINT: cosmosEndpoint\n", "", 1)
    assert "COSMOS_ENDPOINT is neither set nor optional" in settings_problems(source)


# -- signing key, storage, monitoring, function app -----------------------------------------------------


def test_the_signing_key_is_what_the_code_signs_with():
    from shared.integrity.signatures import ALGORITHM

    template = read(text("modules/keyvault.bicep"))
    [key] = template.resources_of("Microsoft.KeyVault/vaults/keys")
    properties = key.body["properties"]
    assert (properties["kty"], properties["curveName"]) == KEY_FOR_ALGORITHM[ALGORITHM]
    assert "sign" in properties["keyOps"]
    vault = template.resources_of("Microsoft.KeyVault/vaults")[0].body["properties"]
    assert vault["enableRbacAuthorization"] is True
    assert vault["enableSoftDelete"] is True
    assert vault["enablePurgeProtection"] is True
    # Key Vault Crypto User, granted on the key itself (not the vault)
    [grant] = template.resources_of("Microsoft.Authorization/roleAssignments")
    assert grant.body["scope"] == Expr("signingKey")
    assert template.variables["cryptoUser"] == "12338af0-0e69-4776-bea7-57ae8d297424"
    assert template.outputs["signingKeyId"] == Expr("'${vault.properties.vaultUri}keys/${signingKey.name}'")


def test_storage_is_locked_down_and_holds_the_code_s_containers():
    from shared.onboarding.exports import EXPORTS_CONTAINER
    from shared.onboarding.imports import IMPORTS_CONTAINER, REPORTS_CONTAINER
    from shared.passports.artifacts import ARTIFACTS_CONTAINER

    template = read(text("modules/storage.bicep"))
    account = template.resources_of("Microsoft.Storage/storageAccounts")[0].body["properties"]
    assert account["allowSharedKeyAccess"] is False
    assert account["allowBlobPublicAccess"] is False
    assert account["minimumTlsVersion"] == "TLS1_2"
    containers = template.variables["blobContainers"]
    assert {ARTIFACTS_CONTAINER, IMPORTS_CONTAINER, REPORTS_CONTAINER, EXPORTS_CONTAINER} <= set(containers)
    assert template.resources_of("Microsoft.Storage/storageAccounts/blobServices/containers")[0].body[
        "properties"
    ] == {"publicAccess": "None"}
    # Blob Data Owner (data and user delegation keys), Queue and Table Data Contributor (the host)
    assert set(template.variables["roles"]) == {
        "b7e6dc6d-f1e8-4753-8033-0f276bb0955b",
        "974c5e8b-45b9-4653-ba55-5f855dd0fb88",
        "0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3",
    }


def test_application_insights_accepts_entra_id_only():
    template = read(text("modules/monitoring.bicep"))
    [insights] = template.resources_of("Microsoft.Insights/components")
    assert insights.body["properties"]["DisableLocalAuth"] is True
    assert insights.body["properties"]["WorkspaceResourceId"] == Expr("logs.id")


def test_the_function_app_runs_on_flex_consumption_as_its_identity():
    template = read(text("modules/functionapp.bicep"))
    [plan] = template.resources_of("Microsoft.Web/serverfarms")
    assert plan.body["sku"] == {"tier": "FlexConsumption", "name": "FC1"}
    [app] = template.resources_of("Microsoft.Web/sites")
    assert app.body["identity"]["type"] == "UserAssigned"
    properties = app.body["properties"]
    assert properties["httpsOnly"] is True
    config = properties["functionAppConfig"]
    assert config["runtime"] == {"name": "python", "version": "3.11"}
    assert config["deployment"]["storage"]["authentication"]["type"] == "UserAssignedIdentity"
    assert [group["name"] for group in config["scaleAndConcurrency"]["alwaysReady"]] == ["http"]
    publishing = template.resources_of("Microsoft.Web/sites/basicPublishingCredentialsPolicies")
    assert [policy.body["properties"]["allow"] for policy in publishing] == [False, False]


def test_platform_cors_is_off_so_the_app_answers_cors_itself():
    template = read(text("modules/functionapp.bicep"))
    [app] = template.resources_of("Microsoft.Web/sites")
    # Origins listed here would make the platform answer preflights and drop the app's headers.
    assert app.body["properties"]["siteConfig"]["cors"] == {"allowedOrigins": [], "supportCredentials": False}


# -- Event Grid, main, parameters, azd ------------------------------------------------------------------


def test_event_grid_subscriptions_cover_every_blob_trigger():
    from function_app import app
    from local.host.functions_index import registered_functions

    triggers = {}
    # get_functions() may be called once per app; the local host keeps its answer.
    for function in registered_functions(app):
        for binding in function.get_bindings():
            if binding.type == "blobTrigger":
                assert binding.source == "EventGrid", function.get_function_name()
                container, _, pattern = binding.path.partition("/")
                triggers[function.get_function_name()] = (container, pattern.removesuffix("{name}"))
    declared = {
        t["function"]: (t["container"], t["prefix"])
        for t in read(text("eventgrid.bicep")).variables["blobTriggers"]
    }
    assert declared == triggers


def test_main_wires_every_module_and_outputs_what_operators_need():
    template = read(text("main.bicep"))
    for path in template.modules.values():
        assert (INFRA / path).is_file(), path
    assert {
        "API_BASE_URL",
        "JWKS_URL",
        "FUNCTION_APP_NAME",
        "EVENT_GRID_SYSTEM_TOPIC",
        "KEY_VAULT_NAME",
    } <= set(template.outputs)


def test_parameters_file_fills_every_required_parameter_and_names_only_real_ones():
    template = read(text("main.bicep"))
    given = json.loads(text("main.parameters.json"))["parameters"]
    assert set(given) <= set(template.params)
    assert {name for name, param in template.params.items() if param["required"]} <= set(given)


def test_azd_project_deploys_the_app_and_subscribes_blob_events():
    project = yaml.safe_load((REPO / "azure.yaml").read_text(encoding="utf-8"))
    assert project["services"]["api"] == {"project": ".", "language": "python", "host": "function"}
    hook = project["hooks"]["postdeploy"]["posix"]["run"]
    script = REPO / hook.removeprefix("./")
    assert script.is_file()
    assert "eventgrid.bicep" in script.read_text(encoding="utf-8")
