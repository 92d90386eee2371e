"""The Bicep templates, checked offline: every file parses (tree-sitter-bicep), and what they
declare matches what the code expects (containers and partition keys, indexing, blob containers,
settings, the signing key, blob-trigger subscriptions) with the security defaults in place. The
checks are functions of the template text, so each is also shown failing on broken Bicep."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
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


def assert_caught(
    check: Callable[[str], list[str]], relative: str, old: str, new: str, expected: str
) -> None:
    """`check` over the template at `relative`, with `old` (which it holds) replaced by `new`,
    reports a problem starting with `expected`: the check is shown failing on broken Bicep."""
    source = text(relative)
    assert old in source
    problems = check(source.replace(old, new, 1))
    assert any(problem.startswith(expected) for problem in problems), problems


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
    assert_caught(container_mismatches, "modules/cosmos.bicep", old, new, expected)


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
        r"resource settings 'config' = \{(\s*//[^\n]*)*\s*name: 'appsettings'\s*properties: appSettings",
        source,
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
    # the key type is a parameter: EC-HSM by default, EC (software) as the option; the same curve
    assert properties["kty"] == Expr("keyType")
    kty = template.default("keyType").removesuffix("-HSM")
    assert (kty, properties["curveName"]) == KEY_FOR_ALGORITHM[ALGORITHM]
    assert "sign" in properties["keyOps"]
    vault = template.resources_of("Microsoft.KeyVault/vaults")[0].body["properties"]
    assert vault["enableRbacAuthorization"] is True
    assert vault["enableSoftDelete"] is True
    assert vault["enablePurgeProtection"] is True
    # Key Vault Crypto User, granted on the key itself (not the vault)
    [grant] = [
        g
        for g in template.resources_of("Microsoft.Authorization/roleAssignments")
        if g.body["properties"]["roleDefinitionId"].text.endswith("cryptoUser)")
    ]
    assert grant.body["scope"] == Expr("signingKey")
    assert template.variables["cryptoUser"] == "12338af0-0e69-4776-bea7-57ae8d297424"
    assert template.outputs["signingKeyId"] == Expr("'${vault.properties.vaultUri}keys/${signingKey.name}'")


def test_the_connectors_secret_is_a_key_vault_reference_the_app_may_resolve():
    """DPP_CONNECTOR_SECRETS holds only the secret's URI; the platform resolves it as the app's
    identity, which holds Key Vault Secrets User on the vault (the operator sets the secret)."""
    app_template = read(text("modules/functionapp.bicep"))
    setting = app_template.variables["appSettings"]["DPP_CONNECTOR_SECRETS"]
    assert setting == Expr("'@Microsoft.KeyVault(SecretUri=${connectorSecretsUri})'")
    [app] = app_template.resources_of("Microsoft.Web/sites")
    assert app.body["properties"]["keyVaultReferenceIdentity"] == Expr("identityId")
    vault = read(text("modules/keyvault.bicep"))
    assert vault.variables["secretsUser"] == "4633458b-17de-408a-b874-0445c86b69e6"
    [reader] = [
        g
        for g in vault.resources_of("Microsoft.Authorization/roleAssignments")
        if g.body["properties"]["roleDefinitionId"].text.endswith("secretsUser)")
    ]
    assert reader.body["scope"] == Expr("vault")
    assert vault.outputs["connectorSecretsUri"] == Expr(
        "'${vault.properties.vaultUri}secrets/${connectorSecretName}'"
    )
    assert "connectorSecretsUri: keyVault.outputs.connectorSecretsUri" in text("main.bicep")


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
        "FRONT_DOOR_ENDPOINT",
    } <= set(template.outputs)
    # readers are sent to the edge: the app's own host name admits Front Door only
    assert "functionApp.outputs.defaultHostName" not in template.outputs["API_BASE_URL"].text
    # and the URLs and issuer DIDs the app writes name the edge's host, not its own
    assert template.variables["publicHost"] == Expr(
        "empty(customDomainName) ? frontDoor.outputs.endpointHostName : customDomainName"
    )
    assert "publicUrl: 'https://${publicHost}'" in text("main.bicep")
    app_settings = read(text("modules/functionapp.bicep")).variables["appSettings"]
    assert app_settings["DPP_PUBLIC_URL"] == Expr("publicUrl")


def storage_link_problems(main_source: str, functionapp_source: str) -> list[str]:
    """Storage private (hardened): links to the app's routes; the development override: SAS links."""
    main = read(main_source)
    problems = []
    if main.variables.get("hardened") != Expr("!developmentPublicAccess"):
        problems.append("hardened is not the absence of the development override")
    if main.variables.get("storageLinks") != Expr("hardened ? 'app' : 'sas'"):
        problems.append("DPP_STORAGE_LINKS is not app when hardened and sas under the override")
    # Within the module's body: it ends at the first closing brace at the start of a line.
    module = re.search(r"module functionApp [^\n]*\{.*?\n\}", main_source, re.DOTALL)
    if module is None or "\n    storageLinks: storageLinks\n" not in module.group(0):
        problems.append("the Function App is not given storageLinks")
    if read(functionapp_source).variables["appSettings"].get("DPP_STORAGE_LINKS") != Expr("storageLinks"):
        problems.append("DPP_STORAGE_LINKS is not the app setting of storageLinks")
    return problems


def test_links_to_blobs_go_through_the_app_when_storage_is_private():
    from shared.platform.settings import STORAGE_LINK_MODES

    assert storage_link_problems(text("main.bicep"), text("modules/functionapp.bicep")) == []
    assert set(read(text("main.bicep")).variables["storageLinks"].text.split("'")[1::2]) == set(
        STORAGE_LINK_MODES
    )


@pytest.mark.parametrize(
    ("index", "old", "new", "expected"),
    [
        (0, "hardened ? 'app' : 'sas'", "'sas'", "DPP_STORAGE_LINKS is not app when hardened"),
        (0, "hardened ? 'app' : 'sas'", "hardened ? 'sas' : 'app'", "DPP_STORAGE_LINKS is not app when"),
        (0, "    storageLinks: storageLinks\n", "", "the Function App is not given"),
        (
            1,
            "DPP_STORAGE_LINKS: storageLinks",
            "DPP_STORAGE_LINKS: 'sas'",
            "DPP_STORAGE_LINKS is not the app",
        ),
    ],
)
def test_storage_links_that_would_break_with_private_storage_are_caught(index, old, new, expected):
    sources = [text("main.bicep"), text("modules/functionapp.bicep")]
    assert old in sources[index]
    sources[index] = sources[index].replace(old, new, 1)
    problems = storage_link_problems(*sources)
    assert any(problem.startswith(expected) for problem in problems), problems


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


# -- the edge: Front Door, caching, WAF ------------------------------------------------------------


def edge_problems(routes_source: str) -> list[str]:
    """How the Front Door routes differ from what the code allows to be cached (empty: they agree)."""
    from functions.routes import PUBLIC_READS, edge_pattern

    template = read(routes_source)
    problems = []
    cached = set(template.variables["cachedPaths"])
    public = {edge_pattern(route) for route in PUBLIC_READS}
    problems += [f"{path} is cached but not a public read" for path in sorted(cached - public)]
    problems += [f"{path} is a public read but not cached" for path in sorted(public - cached)]
    reads = template.resource("publicReads").body["properties"]
    if reads["patternsToMatch"] != Expr("cachedPaths"):
        problems.append("the cached route does not match cachedPaths")
    cache = reads.get("cacheConfiguration") or {}
    if cache.get("queryStringCachingBehavior") != "UseQueryString":
        problems.append("the query string is not in the cache key")
    if not cache.get("compressionSettings", {}).get("isCompressionEnabled"):
        problems.append("public reads are not compressed")
    if "cacheConfiguration" in template.resource("api").body["properties"]:
        problems.append("the pass-through route caches")
    rules = {rule["name"]: rule for rule in template.variables["cacheRules"]}
    token = rules.get("TokenNeverCached", {}).get("conditions", [])
    if not any(c["parameters"].get("selector") == "Authorization" for c in token):
        problems.append("requests with a token may be served from the cache")
    headers = {c["parameters"].get("selector") for rule in rules.values() for c in rule["conditions"]}
    problems += [
        f"{name} is not part of the cache decision"
        for name in ("Accept", "Accept-Language")
        if name not in headers
    ]
    if "cacheConfiguration" in template.variables["uncached"]:
        problems.append("the bypass rules still cache")
    return problems


def test_front_door_caches_the_public_reads_only_and_never_a_token_s_answer():
    assert edge_problems(text("modules/frontdoor-routes.bicep")) == []


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            "  '/api/v1/keys'\n",
            "  '/api/v1/keys'\n  '/api/v1/imports/*'\n",
            "/api/v1/imports/* is cached but",
        ),
        ("  '/p/*'\n", "", "/p/* is a public read but not cached"),
        ("selector: 'Authorization'", "selector: 'Cookie'", "requests with a token may be served"),
        ("selector: 'Accept-Language'", "selector: 'User-Agent'", "Accept-Language is not part"),
        (
            "queryStringCachingBehavior: 'UseQueryString'",
            "queryStringCachingBehavior: 'IgnoreQueryString'",
            "the query",
        ),
        (
            "    patternsToMatch: ['/*']\n",
            "    patternsToMatch: ['/*']\n    cacheConfiguration: {}\n",
            "the pass-through",
        ),
    ],
)
def test_edge_caching_that_drifts_is_caught(old, new, expected):
    assert_caught(edge_problems, "modules/frontdoor-routes.bicep", old, new, expected)


def waf_problems(frontdoor_source: str) -> list[str]:
    template = read(frontdoor_source)
    [policy] = template.resources_of("Microsoft.Network/FrontDoorWebApplicationFirewallPolicies")
    properties = policy.body["properties"]
    problems = []
    if (
        properties["policySettings"]["mode"] != "Prevention"
        or properties["policySettings"]["enabledState"] != "Enabled"
    ):
        problems.append("the WAF does not block")
    rules = {rule["name"]: rule for rule in properties["customRules"]["rules"]}
    anonymous = rules.get("AnonymousReadRate", {})
    if anonymous.get("ruleType") != "RateLimitRule" or anonymous.get("groupBy") != [
        {"variableName": "SocketAddr"}
    ]:
        problems.append("no per-client rate limit on anonymous reads")
    conditions = anonymous.get("matchConditions", [])
    if not any(c.get("selector") == "Authorization" and c.get("negateCondition") for c in conditions):
        problems.append("the anonymous rate limit counts authenticated calls")
    size = rules.get("RequestTooLarge", {}).get("matchConditions", [{}])[0]
    if (size.get("selector"), size.get("operator"), rules.get("RequestTooLarge", {}).get("action")) != (
        "Content-Length",
        "GreaterThan",
        "Block",
    ):
        problems.append("no request size limit")
    problems += import_size_problems(template, rules)
    sets = {s["ruleSetType"] for s in template.variables["premiumRuleSets"]}
    if "Microsoft_DefaultRuleSet" not in sets:
        problems.append("no managed rule set on Premium")
    if properties["managedRules"]["managedRuleSets"] != Expr("managedRuleSets"):
        problems.append("the managed rule sets are not applied")
    return problems


def import_size_problems(template: Any, rules: dict[str, Any]) -> list[str]:
    """Import uploads through the app (DPP_STORAGE_LINKS=app) take the import limit at the edge,
    and only the import upload routes do."""
    from functions.routes import Route, route_path
    from shared.onboarding.imports import HOST_MAX_REQUEST_BYTES
    from shared.platform.settings import Settings

    pattern = template.variables.get("importUploadPattern")
    if not isinstance(pattern, str):
        return ["no import upload pattern"]
    problems = []
    uploads = [route_path(route, importId="0f3a9c") for route in (Route.IMPORT_FILE, Route.IMPORT_MAPPING)]
    others = [
        route_path(Route.ARTIFACT_UPLOAD, dppId="x", artifactType="repair"),
        route_path(Route.IMPORTS),
        route_path(Route.IMPORT, importId="0f3a9c"),
        route_path(Route.DPPS),
        route_path(Route.DPP, dppId="urn:x:imports:y:file"),
    ]
    problems += [f"{path} does not take the import limit" for path in uploads if not re.search(pattern, path)]
    problems += [f"{path} takes the import limit" for path in others if re.search(pattern, path)]
    exempt = rules.get("RequestTooLarge", {}).get("matchConditions", [])[1:]
    if exempt != [
        {
            "matchVariable": "RequestUri",
            "operator": "RegEx",
            "negateCondition": True,
            "matchValue": [Expr("importUploadPattern")],
        }
    ]:
        problems.append("the request size limit does not exempt exactly the import upload routes")
    [imports] = rules.get("ImportTooLarge", {}).get("matchConditions", [{}])
    # The parser reads `[string(maxImportBytes)]` as the call's parts.
    if (
        (imports.get("selector"), imports.get("operator")) != ("Content-Length", "GreaterThan")
        or Expr("maxImportBytes") not in imports.get("matchValue", [])
        or rules["ImportTooLarge"].get("action") != "Block"
    ):
        problems.append("no import size limit")
    if not Settings().import_max_bytes <= template.default("maxImportBytes") <= HOST_MAX_REQUEST_BYTES:
        problems.append("the edge's import limit is not between DPP_IMPORT_MAX_BYTES and the host's")
    return problems


def test_the_waf_limits_rates_and_sizes_and_runs_managed_rules_on_premium():
    assert waf_problems(text("modules/frontdoor.bicep")) == []
    template = read(text("modules/frontdoor.bicep"))
    assert template.default("sku") == "Standard_AzureFrontDoor"
    # the policy guards every host of the endpoint
    [policy] = read(text("modules/frontdoor-routes.bicep")).resources_of(
        "Microsoft.Cdn/profiles/securityPolicies"
    )
    [association] = policy.body["properties"]["parameters"]["associations"]
    assert association["patternsToMatch"] == ["/*"]
    assert policy.body["properties"]["parameters"]["wafPolicy"] == {"id": Expr("wafPolicyId")}


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("mode: 'Prevention'", "mode: 'Detection'", "the WAF does not block"),
        ("variableName: 'SocketAddr'", "variableName: 'GeoLocation'", "no per-client rate limit"),
        (
            "negateCondition: true\n              matchValue: ['bearer']",
            "negateCondition: false\n              matchValue: ['bearer']",
            "the anonymous rate limit counts",
        ),
        ("operator: 'GreaterThan'", "operator: 'LessThan'", "no request size limit"),
        ("managedRuleSets: managedRuleSets", "managedRuleSets: []", "the managed rule sets"),
        ("+/(file|mapping)([?].*)?$", "+", "/api/v1/imports/0f3a9c takes the import limit"),
        ("(file|mapping)", "(file)", "/api/v1/imports/0f3a9c/mapping does not take"),
        (
            "negateCondition: true\n              matchValue: [imp",
            "negateCondition: false\n              matchValue: [imp",
            "the request size limit does not exempt",
        ),
        ("matchValue: [string(maxImportBytes)]", "matchValue: ['1073741824']", "no import size limit"),
        ("param maxImportBytes int = 53477376", "param maxImportBytes int = 209715200", "the edge's import"),
    ],
)
def test_a_weakened_waf_is_caught(old, new, expected):
    assert_caught(waf_problems, "modules/frontdoor.bicep", old, new, expected)


def access_problems(functionapp_source: str) -> list[str]:
    """The Function App admits Front Door (this profile) and Event Grid only, and checks readiness."""
    from functions.routes import Route, route_path

    template = read(functionapp_source)
    site = template.resource("app").body["properties"]
    config = site["siteConfig"]
    problems = []
    rules = {
        rule["ipAddress"]: rule for rule in template.variables["accessRules"] if rule["action"] == "Allow"
    }
    front_door = rules.pop("AzureFrontDoor.Backend", None)
    if front_door is None or front_door.get("tag") != "ServiceTag":
        problems.append("Front Door is not admitted by its service tag")
    elif front_door.get("headers") != {"x-azure-fdid": [Expr("frontDoorId")]}:
        problems.append("any Front Door profile is admitted, not only this one")
    problems += [f"{source} is admitted" for source in rules if source != "AzureEventGrid"]
    if config.get("ipSecurityRestrictions") != Expr("accessRules"):
        problems.append("the access rules are not applied")
    if config.get("ipSecurityRestrictionsDefaultAction") != "Deny":
        problems.append("callers outside the rules are let in")
    if config.get("healthCheckPath") != route_path(Route.HEALTH):
        problems.append("no health check on the readiness endpoint")
    if "virtualNetworkSubnetId" not in site:
        problems.append("no VNet integration")
    return problems


def test_the_function_app_admits_front_door_only_and_checks_readiness():
    assert access_problems(text("modules/functionapp.bicep")) == []


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("      'x-azure-fdid': [frontDoorId]\n", "", "any Front Door profile is admitted"),
        ("ipAddress: 'AzureEventGrid'", "ipAddress: '0.0.0.0/0'", "0.0.0.0/0 is admitted"),
        (
            "ipSecurityRestrictionsDefaultAction: 'Deny'",
            "ipSecurityRestrictionsDefaultAction: 'Allow'",
            "callers",
        ),
        ("healthCheckPath: '/api/health'", "healthCheckPath: '/api/v1/keys'", "no health check"),
    ],
)
def test_an_open_function_app_is_caught(old, new, expected):
    assert_caught(access_problems, "modules/functionapp.bicep", old, new, expected)


# -- zero trust for data: private endpoints, DNS zones, public access off, the HSM key ----------------


def private_problems(sources: dict[str, str]) -> list[str]:
    network = read(sources["network"])
    endpoints = read(sources["privateendpoints"]).variables["endpoints"]
    problems = []
    zones = set(network.variables["zones"])
    problems += [f"{e['name']}: zone {e['zone']} is not linked" for e in endpoints if e["zone"] not in zones]
    groups = {e["groupId"] for e in endpoints}
    # Cosmos DB, Key Vault, and the three storage services the Functions host uses
    problems += [
        f"no private endpoint for {group}"
        for group in sorted({"Sql", "vault", "blob", "queue", "table"} - groups)
    ]
    [app_subnet] = [s for s in network.resource("vnet").body["properties"]["subnets"] if s["name"] == "app"]
    delegations = [d["properties"]["serviceName"] for d in app_subnet["properties"].get("delegations", [])]
    if delegations != ["Microsoft.App/environments"]:
        problems.append("the app subnet is not delegated to Flex Consumption")
    for name, type_ in (
        ("cosmos", "Microsoft.DocumentDB/databaseAccounts"),
        ("keyvault", "Microsoft.KeyVault/vaults"),
        ("storage", "Microsoft.Storage/storageAccounts"),
    ):
        template = read(sources[name])
        properties = template.resources_of(type_)[0].body["properties"]
        if template.default("publicNetworkAccess") != "Disabled":
            problems.append(f"{name}: public network access is on by default")
        if properties.get("publicNetworkAccess") != Expr("publicNetworkAccess"):
            problems.append(f"{name}: public network access is not the parameter")
        acls = properties.get("networkAcls")
        if acls is not None and template.default("firewallDefaultAction") != "Deny":
            problems.append(f"{name}: the firewall admits by default")
    return problems


PRIVATE_SOURCES = ("network", "privateendpoints", "cosmos", "keyvault", "storage")


def test_data_services_are_private_behind_endpoints_with_dns_zones():
    assert private_problems({name: text(f"modules/{name}.bicep") for name in PRIVATE_SOURCES}) == []


@pytest.mark.parametrize(
    ("module", "old", "new", "expected"),
    [
        (
            "privateendpoints",
            "zone: 'privatelink.vaultcore.azure.net'",
            "zone: 'privatelink.vault.azure.net'",
            "vault: zone",
        ),
        ("privateendpoints", "groupId: 'queue'", "groupId: 'file'", "no private endpoint for queue"),
        (
            "network",
            "serviceName: 'Microsoft.App/environments'",
            "serviceName: 'Microsoft.Web/serverFarms'",
            "the app subnet",
        ),
        (
            "cosmos",
            "param publicNetworkAccess string = 'Disabled'",
            "param publicNetworkAccess string = 'Enabled'",
            "cosmos: public",
        ),
        (
            "keyvault",
            "publicNetworkAccess: publicNetworkAccess",
            "publicNetworkAccess: 'Enabled'",
            "keyvault: public",
        ),
        (
            "storage",
            "param firewallDefaultAction string = 'Deny'",
            "param firewallDefaultAction string = 'Allow'",
            "storage: the fire",
        ),
    ],
)
def test_a_data_service_left_public_is_caught(module, old, new, expected):
    sources = {name: text(f"modules/{name}.bicep") for name in PRIVATE_SOURCES}
    assert old in sources[module]
    sources[module] = sources[module].replace(old, new, 1)
    problems = private_problems(sources)
    assert any(problem.startswith(expected) for problem in problems), problems


def key_problems(keyvault_source: str) -> list[str]:
    template = read(keyvault_source)
    [key] = template.resources_of("Microsoft.KeyVault/vaults/keys")
    properties = key.body["properties"]
    problems = []
    if template.default("keyType") != "EC-HSM" or properties["kty"] != Expr("keyType"):
        problems.append("the signing key is not HSM-backed by default")
    if "exp" not in properties["attributes"]:
        problems.append("the key has no expiry")
    policy = properties.get("rotationPolicy", {})
    if not policy.get("attributes", {}).get("expiryTime"):
        problems.append("new versions have no expiry")
    actions = {action["action"]["type"].lower() for action in policy.get("lifetimeActions", [])}
    if "rotate" not in actions:
        problems.append("the key does not rotate")
    return problems


def test_the_signing_key_is_hsm_backed_and_rotates_before_it_expires():
    assert key_problems(text("modules/keyvault.bicep")) == []


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("param keyType string = 'EC-HSM'", "param keyType string = 'EC'", "the signing key is not HSM"),
        ("            type: 'rotate'", "            type: 'notify'", "the key does not rotate"),
        ("        expiryTime: keyLifetime\n", "", "new versions have no expiry"),
    ],
)
def test_a_weaker_signing_key_is_caught(old, new, expected):
    assert_caught(key_problems, "modules/keyvault.bicep", old, new, expected)


def test_front_door_waf_key_vault_and_cosmos_log_to_log_analytics():
    for module in ("frontdoor", "keyvault", "cosmos"):
        [setting] = read(text(f"modules/{module}.bicep")).resources_of(
            "Microsoft.Insights/diagnosticSettings"
        )
        assert setting.body["properties"]["workspaceId"] == Expr("logAnalyticsId"), module
        assert all(log["enabled"] for log in setting.body["properties"]["logs"])
    categories = {
        log["category"]
        for log in read(text("modules/frontdoor.bicep"))
        .resources_of("Microsoft.Insights/diagnosticSettings")[0]
        .body["properties"]["logs"]
    }
    assert "FrontDoorWebApplicationFirewallLog" in categories


# Azure regions in EU member states (the Netherlands, Ireland, France, Germany, Italy, Spain,
# Sweden, Poland): outside the EU (Switzerland, Norway, the UK) is an override, not a default.
EU_REGIONS = {
    "westeurope",
    "northeurope",
    "francecentral",
    "francesouth",
    "germanywestcentral",
    "germanynorth",
    "italynorth",
    "spaincentral",
    "swedencentral",
    "polandcentral",
}


def region_problems(main_source: str) -> list[str]:
    template = read(main_source)
    allowed = template.default("allowedRegions")
    problems = [f"{region} is not an EU region" for region in allowed if region not in EU_REGIONS]
    if template.variables.get("regionAllowed") != Expr("contains(allowedRegions, location)"):
        problems.append("location is not checked against allowedRegions")
    group = template.resources_of("Microsoft.Resources/resourceGroups")[0].body
    if not isinstance(group["location"], Expr) or not group["location"].text.startswith("regionAllowed ?"):
        problems.append("a location outside the list is deployed")
    return problems


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            "  'westeurope'\n  'northeurope'\n",
            "  'westeurope'\n  'switzerlandnorth'\n",
            "switzerlandnorth is not",
        ),
        (
            "var regionAllowed = contains(allowedRegions, location)",
            "var regionAllowed = true",
            "location is not",
        ),
        ("location: regionAllowed ? location :", "location: true ? location :", "a location outside"),
    ],
)
def test_a_region_outside_the_eu_is_caught(old, new, expected):
    assert_caught(region_problems, "main.bicep", old, new, expected)


def test_the_hardened_shape_is_the_default_and_location_stays_in_the_eu():
    template = read(text("main.bicep"))
    assert region_problems(text("main.bicep")) == []
    assert template.default("developmentPublicAccess") is False
    assert template.default("hsmSigningKey") is True
    assert template.default("frontDoorSku") == "Standard_AzureFrontDoor"
    given = json.loads(text("main.parameters.json"))["parameters"]
    assert "developmentPublicAccess" not in given or given["developmentPublicAccess"]["value"].endswith(
        "=false}"
    )
    # the preferred regions reach the app: the write region first, then the read replicas
    assert read(text("modules/cosmos.bicep")).variables["regions"] == Expr(
        "concat([location], replicaRegions)"
    )
    assert read(text("modules/functionapp.bicep")).variables["appSettings"][
        "COSMOS_PREFERRED_REGIONS"
    ] == Expr("join(cosmosRegions, ',')")


def flex_storage_problems(functionapp_source: str, endpoints_source: str, main_source: str) -> list[str]:
    """What Flex Consumption needs to start with its storage private: every storage service the
    host's settings name (and the deployment package's blob) has a private endpoint, the app is
    VNet-integrated, and it is created only once the endpoints exist."""
    settings = read(functionapp_source).variables["appSettings"]
    groups = {e["groupId"] for e in read(endpoints_source).variables["endpoints"]}
    problems = []
    for name in settings:
        service = re.fullmatch(r"AzureWebJobsStorage__(blob|queue|table)ServiceUri", name)
        if service and service.group(1) not in groups:
            problems.append(f"{name}: no private endpoint for {service.group(1)}")
    [app] = read(functionapp_source).resources_of("Microsoft.Web/sites")
    package = app.body["properties"]["functionAppConfig"]["deployment"]["storage"]["value"]
    if "primaryEndpoints.blob" not in package.text or "blob" not in groups:
        problems.append("the deployment package is not read over the blob private endpoint")
    if not re.search(
        r"module functionApp [^\n]*\{.*?dependsOn: \[privateEndpoints\]", main_source, re.DOTALL
    ):
        problems.append("the app may start before its private endpoints exist")
    if "subnetId: hardened ? network.outputs.appSubnetId : ''" not in main_source:
        problems.append("the app is not integrated with the app subnet")
    return problems


def test_flex_consumption_host_storage_works_over_the_private_network():
    sources = (text("modules/functionapp.bicep"), text("modules/privateendpoints.bicep"), text("main.bicep"))
    assert flex_storage_problems(*sources) == []


@pytest.mark.parametrize(
    ("index", "old", "new", "expected"),
    [
        (
            1,
            "groupId: 'table'",
            "groupId: 'file'",
            "AzureWebJobsStorage__tableServiceUri: no private endpoint",
        ),
        (2, "  dependsOn: [privateEndpoints]\n", "", "the app may start before"),
        (
            2,
            "subnetId: hardened ? network.outputs.appSubnetId : ''",
            "subnetId: ''",
            "the app is not integrated",
        ),
    ],
)
def test_flex_storage_that_would_need_the_internet_is_caught(index, old, new, expected):
    sources = [text("modules/functionapp.bicep"), text("modules/privateendpoints.bicep"), text("main.bicep")]
    assert old in sources[index]
    sources[index] = sources[index].replace(old, new, 1)
    problems = flex_storage_problems(*sources)
    assert any(problem.startswith(expected) for problem in problems), problems


# -- passport events: the Event Grid topic ---------------------------------------------------------------

EVENTS_SOURCES = (
    "modules/events.bicep",
    "modules/functionapp.bicep",
    "main.bicep",
    "modules/privateendpoints.bicep",
)
DATA_SENDER = "d5a91429-5739-47e2-a06b-3470a27159e7"


def events_problems(events: str, functionapp: str, main: str, endpoints: str) -> list[str]:
    """The topic the app publishes passport events to: CloudEvents 1.0 in, Entra ID only, private
    when hardened, the app's identity its only sender, its endpoint the app's setting."""
    template = read(events)
    problems = []
    [topic] = template.resources_of("Microsoft.EventGrid/topics")
    properties = topic.body["properties"]
    if properties.get("inputSchema") != "CloudEventSchemaV1_0":
        problems.append(f"the topic takes {properties.get('inputSchema')}, not CloudEvents 1.0")
    if properties.get("disableLocalAuth") is not True:
        problems.append("the topic accepts keys and SAS tokens")
    if template.default("publicNetworkAccess") != "Disabled" or properties.get("publicNetworkAccess") != Expr(
        "publicNetworkAccess"
    ):
        problems.append("the topic is public by default")
    grants = [
        g
        for g in template.resources_of("Microsoft.Authorization/roleAssignments")
        if g.body["properties"]["roleDefinitionId"].text.endswith("dataSender)")
    ]
    if template.variables.get("dataSender") != DATA_SENDER or len(grants) != 1:
        problems.append("the app's identity is not granted EventGrid Data Sender")
    elif grants[0].body["scope"] != Expr("topic") or grants[0].body["properties"]["principalId"] != Expr(
        "principalId"
    ):
        problems.append("EventGrid Data Sender is not granted on the topic to the app's identity")
    if template.outputs.get("endpoint") != Expr("topic.properties.endpoint"):
        problems.append("the topic's endpoint is not an output")
    setting = read(functionapp).variables["appSettings"].get("DPP_EVENTS_TOPIC_ENDPOINT")
    if setting != Expr("eventsTopicEndpoint") or "eventsTopicEndpoint: events.outputs.endpoint" not in main:
        problems.append("DPP_EVENTS_TOPIC_ENDPOINT is not the topic's endpoint")
    if (
        "publicNetworkAccess: dataNetworkAccess"
        not in main.split("module events ", 1)[-1].split("\n}\n", 1)[0]
    ):
        problems.append("the topic does not follow the hardened/development switch")
    private = [e for e in read(endpoints).variables["endpoints"] if e["groupId"] == "topic"]
    if [e["serviceId"] for e in private] != [
        Expr("eventTopicId")
    ] or "eventTopicId: events.outputs.id" not in main:
        problems.append("no private endpoint for the topic")
    return problems


def test_passport_events_go_to_a_cloudevents_topic_only_the_app_may_publish_to():
    from functions.changes import CHANGES_CONNECTION

    assert events_problems(*(text(name) for name in EVENTS_SOURCES)) == []
    # the topic's events trigger connects as derived data's does
    assert CHANGES_CONNECTION == "COSMOS_CHANGES"
    assert "EVENT_GRID_EVENTS_TOPIC" in read(text("main.bicep")).outputs


@pytest.mark.parametrize(
    ("index", "old", "new", "expected"),
    [
        (0, "inputSchema: 'CloudEventSchemaV1_0'", "inputSchema: 'EventGridSchema'", "the topic takes"),
        (0, "disableLocalAuth: true", "disableLocalAuth: false", "the topic accepts keys"),
        (
            0,
            "param publicNetworkAccess string = 'Disabled'",
            "param publicNetworkAccess string = 'Enabled'",
            "the topic is public",
        ),
        (0, "var dataSender = 'd5a91429", "var dataSender = 'b24988ac", "the app's identity is not granted"),
        (
            0,
            "  scope: topic\n  properties: {\n    roleDefinitionId",
            "  scope: resourceGroup()\n  properties: {\n    roleDefinitionId",
            "EventGrid Data Sender is not granted",
        ),
        (
            1,
            "DPP_EVENTS_TOPIC_ENDPOINT: eventsTopicEndpoint",
            "DPP_EVENTS_TOPIC_ENDPOINT: ''",
            "DPP_EVENTS_TOPIC_ENDPOINT is not",
        ),
        (
            2,
            "principalId: identity.outputs.principalId\n    publicNetworkAccess: dataNetworkAccess",
            "principalId: identity.outputs.principalId\n    publicNetworkAccess: 'Enabled'",
            "the topic does not follow",
        ),
        (3, "groupId: 'topic'", "groupId: 'topics'", "no private endpoint for the topic"),
    ],
)
def test_an_events_topic_that_drifts_is_caught(index, old, new, expected):
    sources = [text(name) for name in EVENTS_SOURCES]
    assert old in sources[index]
    sources[index] = sources[index].replace(old, new, 1)
    problems = events_problems(*sources)
    assert any(problem.startswith(expected) for problem in problems), problems
