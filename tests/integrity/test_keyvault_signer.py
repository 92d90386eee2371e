"""KeyVaultSigner driving the real azure-keyvault-keys SDK, over real TLS, against the Key Vault
test double in tests/doubles/keyvault.py (a double of the REST API, not an emulator)."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, utils
from jwcrypto import jwk, jws

from shared.integrity.keyvault_signer import KeyVaultSigner, SignerError
from shared.platform.errors import ServiceUnavailable
from tests.doubles.keyvault import KEY, KeyVaultDouble, StaticTokenCredential, make_signer
from tests.support.ports import free_port

PAYLOAD = b'{"digitalProductPassportId":"urn:uuid:5b1c0a52-2f0e-4c3a-9b9e-0f2c8a1d7e44"}'


@pytest.fixture(autouse=True)
def _fresh_challenge_cache() -> Iterator[None]:
    # The SDK caches Key Vault auth challenges per host:port for the whole process. Each test's
    # double gets a new port, but the OS may hand out a port again; clearing the cache makes
    # every test start like a fresh worker, so "the first request is challenged" always holds.
    from azure.keyvault.keys._shared import http_challenge_cache

    http_challenge_cache.clear()
    yield
    http_challenge_cache.clear()


@pytest.fixture
def vault() -> Iterator[KeyVaultDouble]:
    with KeyVaultDouble() as double:
        double.create_key(KEY)
        yield double


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def detached_jws(signer: KeyVaultSigner, payload: bytes) -> tuple[str, str]:
    """(kid, compact JWS with detached payload), built by hand the way the service builds one."""
    kid = signer.public_jwk()["kid"]
    header = b64url(json.dumps({"alg": "ES256", "kid": kid}, separators=(",", ":")).encode())
    signed_kid, signature = signer.sign(f"{header}.{b64url(payload)}".encode())
    assert signed_kid == kid
    return kid, f"{header}..{b64url(signature)}"


def verify_jws(compact: str, public_jwk: dict[str, Any], payload: bytes) -> None:
    token = jws.JWS()
    token.deserialize(compact)
    token.verify(jwk.JWK(**public_jwk), alg="ES256", detached_payload=payload)


def verify_raw(vault: KeyVaultDouble, kid: str, signature: bytes, signed: bytes) -> None:
    """Check r||s against the double's own key with `cryptography`, independent of any JWK."""
    der = utils.encode_dss_signature(
        int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
    )
    vault.public_key(kid).verify(der, signed, ec.ECDSA(hashes.SHA256()))


def closed_port() -> int:
    return free_port()  # nothing listens there


# -- signing ----------------------------------------------------------------------------------


def test_sign_returns_versioned_kid_and_raw_signature_made_in_the_vault(vault: KeyVaultDouble) -> None:
    signer = make_signer(vault)

    kid, signature = signer.sign(b"header.payload")

    assert kid == vault.latest_kid(KEY)
    assert kid.startswith(f"{vault.vault_url}/keys/{KEY}/") and len(kid.rsplit("/", 1)[1]) == 32
    assert len(signature) == 64
    verify_raw(vault, kid, signature, b"header.payload")
    with pytest.raises(InvalidSignature):
        verify_raw(vault, kid, signature, b"header.payload-tampered")
    # The private key stayed in the vault: the double signed it, once.
    assert vault.sign_count == 1
    assert vault.count("POST", "/sign", status=200) == 1


def test_signature_verifies_as_detached_jws_with_only_the_public_jwk(vault: KeyVaultDouble) -> None:
    signer = make_signer(vault)

    public = signer.public_jwk()
    kid, compact = detached_jws(signer, PAYLOAD)

    assert public == {
        "kty": "EC",
        "crv": "P-256",
        "x": public["x"],
        "y": public["y"],
        "kid": kid,
        "alg": "ES256",
        "use": "sig",
    }
    assert "=" not in public["x"] + public["y"]
    assert len(base64.urlsafe_b64decode(public["x"] + "=")) == 32
    verify_jws(compact, public, PAYLOAD)
    with pytest.raises(jws.InvalidJWSSignature):
        verify_jws(compact, public, PAYLOAD.replace(b"5b1c", b"5b1d"))


def test_versionless_key_follows_rotation_and_old_signatures_still_verify(vault: KeyVaultDouble) -> None:
    signer = make_signer(vault)
    old_kid, old_jws = detached_jws(signer, PAYLOAD)

    new_kid = vault.rotate(KEY)
    kid_after, signature = signer.sign(b"input")

    assert old_kid != new_kid
    assert kid_after == new_kid
    verify_raw(vault, new_kid, signature, b"input")
    assert signer.public_jwk()["kid"] == new_kid
    kid_again, new_jws = detached_jws(signer, PAYLOAD)
    assert kid_again == new_kid
    old_jwk = make_signer(vault, old_kid).public_jwk()
    assert old_jwk["kid"] == old_kid
    verify_jws(old_jws, old_jwk, PAYLOAD)
    verify_jws(new_jws, signer.public_jwk(), PAYLOAD)
    # The versions really are different keys: each signature verifies under its own version only.
    with pytest.raises(jws.InvalidJWSSignature):
        verify_jws(old_jws, signer.public_jwk(), PAYLOAD)
    with pytest.raises(jws.InvalidJWSSignature):
        verify_jws(new_jws, old_jwk, PAYLOAD)


def test_a_write_costs_one_key_vault_call_once_the_signer_is_warm(vault: KeyVaultDouble) -> None:
    signer = make_signer(vault)

    for _ in range(3):
        detached_jws(signer, PAYLOAD)

    assert vault.count("POST", "/sign", status=200) == 3
    assert vault.count("GET", status=200) == 1  # the first public_jwk; the signs name the version since


def test_an_idle_signer_rechecks_the_current_version_before_naming_it(vault: KeyVaultDouble) -> None:
    signer = make_signer(vault, version_check_interval=0)
    old_kid = signer.public_jwk()["kid"]

    new_kid = vault.rotate(KEY)

    assert signer.public_jwk()["kid"] == new_kid != old_kid
    assert vault.count("GET", status=200) == 2


def test_trusted_keys_are_the_vaults_enabled_versions_oldest_first(vault: KeyVaultDouble) -> None:
    signer = make_signer(vault)
    first = vault.latest_kid(KEY)
    second, third = vault.rotate(KEY), vault.rotate(KEY)  # three versions: two pages of the listing
    trusted = signer.trusted_jwks()
    assert [key["kid"] for key in trusted] == [first, second, third]
    for key in trusted:
        numbers = vault.public_key(key["kid"]).public_numbers()
        assert (key["kty"], key["crv"], key["alg"]) == ("EC", "P-256", "ES256")
        assert key["x"] == b64url(numbers.x.to_bytes(32, "big"))
        assert key["y"] == b64url(numbers.y.to_bytes(32, "big"))
    assert vault.count("GET", "/versions", status=200) == 2  # the SDK followed nextLink
    # A version disabled in the vault (a compromised key) is no longer trusted.
    vault.disable(second)
    assert [key["kid"] for key in signer.trusted_jwks()] == [first, third]
    # Each version's public key is fetched once per signer; listing again costs only the listing.
    assert vault.count("GET", first.rsplit("/", 1)[1], status=200) == 1


def test_a_pinned_signer_trusts_every_enabled_version_of_its_key(vault: KeyVaultDouble) -> None:
    old = vault.latest_kid(KEY)
    new = vault.rotate(KEY)
    pinned = make_signer(vault, old)
    assert [key["kid"] for key in pinned.trusted_jwks()] == [old, new]


def test_listing_the_keys_of_an_unreachable_vault_is_unavailable(vault: KeyVaultDouble) -> None:
    signer = make_signer(vault, f"https://127.0.0.1:{closed_port()}/keys/{KEY}", max_retries=0)
    with pytest.raises(ServiceUnavailable) as refused:
        signer.trusted_jwks()
    assert refused.value.code == "SignerUnavailable"


def test_pinned_version_keeps_signing_with_that_version_after_rotation(vault: KeyVaultDouble) -> None:
    pinned_kid = vault.latest_kid(KEY)
    signer = make_signer(vault, pinned_kid)

    vault.rotate(KEY)
    kid, signature = signer.sign(b"input")

    assert kid == pinned_kid
    verify_raw(vault, pinned_kid, signature, b"input")


def test_public_jwk_of_a_pinned_version_is_fetched_once(vault: KeyVaultDouble) -> None:
    signer = make_signer(vault, vault.latest_kid(KEY))

    first, second = signer.public_jwk(), signer.public_jwk()

    assert first == second
    assert vault.count("GET", status=200) == 1
    # Callers get copies: editing one does not change what the signer hands out next.
    first["kid"] = "edited"
    assert signer.public_jwk()["kid"] == second["kid"]


# -- authentication ---------------------------------------------------------------------------


def test_challenge_authentication_precedes_the_first_signature(vault: KeyVaultDouble) -> None:
    credential = StaticTokenCredential(vault.token)
    signer = make_signer(vault, credential=credential)

    signer.sign(b"input")

    first, second = vault.requests[0], vault.requests[1]
    assert (first.method, first.status, first.bearer) == ("POST", 401, False)
    assert (second.method, second.path, second.status, second.bearer) == ("POST", first.path, 200, True)
    assert credential.requests == [(("https://vault.azure.net/.default",), vault.tenant_id)]


def test_a_token_the_vault_does_not_accept_is_refused(vault: KeyVaultDouble) -> None:
    signer = make_signer(vault, credential=StaticTokenCredential("not-the-vaults-token"))

    with pytest.raises(SignerError) as caught:
        signer.sign(b"input")

    assert "HTTP 401" in str(caught.value)
    assert "not-the-vaults-token" not in str(caught.value)
    # the challenge, then the token once: refused, and not sent again
    assert [(r.method, r.status, r.bearer) for r in vault.requests] == [
        ("POST", 401, False),
        ("POST", 401, True),
    ]
    assert vault.sign_count == 0


# -- throttling and outages --------------------------------------------------------------------


def test_throttling_beyond_the_retry_budget_is_a_503_with_the_vaults_retry_after(
    vault: KeyVaultDouble,
) -> None:
    signer = make_signer(vault, max_retries=1)
    signer.public_jwk()  # authenticate first, so every sign request below is a throttled attempt
    vault.throttle(2, retry_after="2")

    with pytest.raises(ServiceUnavailable) as caught:
        signer.sign(b"input")

    error = caught.value
    assert (error.status, error.code, error.headers) == (503, "SignerThrottled", {"Retry-After": "2"})
    assert error.text == "Signing service is throttled; retry later"
    assert vault.count("POST", "/sign", status=429) == 2  # the first try and its one retry
    assert vault.sign_count == 0
    # Once Key Vault stops throttling, the same signer works again.
    assert len(signer.sign(b"input")[1]) == 64


def test_throttling_within_the_retry_budget_succeeds_after_retries(vault: KeyVaultDouble) -> None:
    signer = make_signer(vault, max_retries=2)
    signer.public_jwk()
    vault.throttle(2, retry_after="1")

    kid, signature = signer.sign(b"input")

    verify_raw(vault, kid, signature, b"input")
    assert vault.count("POST", "/sign", status=429) == 2
    assert vault.count("POST", "/sign", status=200) == 1
    assert vault.sign_count == 1


def test_server_errors_past_the_budget_are_unavailable_and_within_it_are_retried(
    vault: KeyVaultDouble,
) -> None:
    signer = make_signer(vault, max_retries=1)
    signer.public_jwk()

    vault.fail(2, status=503)
    with pytest.raises(ServiceUnavailable) as caught:
        signer.sign(b"input")
    assert (caught.value.status, caught.value.code) == (503, "SignerUnavailable")
    assert caught.value.headers == {"Retry-After": "5"}
    assert vault.count("POST", "/sign", status=503) == 2

    # The SDK alone retries a POST only on 500/503/504; the signer opts sign (harmless to repeat)
    # into the full retry set, so a 502 is retried too.
    vault.fail(1, status=502)
    kid, signature = signer.sign(b"input")
    verify_raw(vault, kid, signature, b"input")
    assert vault.count("POST", "/sign", status=502) == 1


def test_unreachable_vault_is_unavailable(vault: KeyVaultDouble) -> None:
    port = closed_port()
    signer = make_signer(vault, f"https://127.0.0.1:{port}/keys/{KEY}", max_retries=1)

    with pytest.raises(ServiceUnavailable) as caught:
        signer.sign(b"input")
    assert (caught.value.status, caught.value.code) == (503, "SignerUnavailable")
    assert caught.value.headers == {"Retry-After": "5"}

    with pytest.raises(ServiceUnavailable) as caught:
        signer.public_jwk()
    assert caught.value.code == "SignerUnavailable"


# -- keys that can never work ------------------------------------------------------------------


def test_unknown_key_or_version_is_a_clear_error(vault: KeyVaultDouble) -> None:
    missing = make_signer(vault, f"{vault.vault_url}/keys/no-such-key")
    with pytest.raises(SignerError, match=r"no key .*/keys/no-such-key \(HTTP 404 KeyNotFound\)"):
        missing.sign(b"input")
    with pytest.raises(SignerError, match="HTTP 404 KeyNotFound"):
        missing.public_jwk()

    missing_version = make_signer(vault, f"{vault.vault_url}/keys/{KEY}/{'0' * 32}")
    with pytest.raises(SignerError, match="HTTP 404 KeyNotFound"):
        missing_version.sign(b"input")
    assert vault.sign_count == 0


@pytest.mark.parametrize(
    ("key_type", "described"), [({"kty": "RSA"}, "is RSA"), ({"kty": "EC", "crv": "P-384"}, "is EC P-384")]
)
def test_a_key_that_is_not_ec_p256_is_refused(
    vault: KeyVaultDouble, key_type: dict[str, str], described: str
) -> None:
    vault.create_key("wrong-kind", **key_type)
    signer = make_signer(vault, f"{vault.vault_url}/keys/wrong-kind")

    with pytest.raises(SignerError, match=f"{described}; ES256 needs an EC P-256 key"):
        signer.public_jwk()
    with pytest.raises(SignerError, match="HTTP 400 BadParameter"):
        signer.sign(b"input")
    assert vault.sign_count == 0


@pytest.mark.parametrize(
    "key_id",
    [
        "http://vault.example/keys/k",
        "https://vault.example/secrets/k",
        "https://vault.example/keys",
        "not a url",
    ],
)
def test_a_malformed_key_id_is_refused_at_construction(key_id: str) -> None:
    with pytest.raises(ValueError, match="Key Vault key id"):
        KeyVaultSigner(key_id, StaticTokenCredential("unused"))


# -- the double's own protocol ------------------------------------------------------------------


def test_double_rejects_bad_sign_parameters_like_key_vault(vault: KeyVaultDouble) -> None:
    url = f"{vault.vault_url}/keys/{KEY}/sign?api-version=7.5"
    auth = {"Authorization": f"Bearer {vault.token}"}

    def post(body: dict[str, str], headers: dict[str, str]) -> requests.Response:
        return requests.post(url, json=body, headers=headers, verify=vault.ca_file, timeout=10)

    unauthenticated = post({"alg": "ES256", "value": b64url(bytes(32))}, {})
    assert unauthenticated.status_code == 401
    assert unauthenticated.headers["WWW-Authenticate"] == (
        f'Bearer authorization="https://login.microsoftonline.com/{vault.tenant_id}", '
        'resource="https://vault.azure.net"'
    )
    short = post({"alg": "ES256", "value": b64url(bytes(31))}, auth)
    assert (short.status_code, short.json()["error"]["code"]) == (400, "BadParameter")
    other_alg = post({"alg": "ES384", "value": b64url(bytes(32))}, auth)
    assert (other_alg.status_code, other_alg.json()["error"]["code"]) == (400, "BadParameter")
    good = post({"alg": "ES256", "value": b64url(bytes(32))}, auth)
    assert good.status_code == 200
    assert good.json()["kid"] == vault.latest_kid(KEY)
    assert vault.sign_count == 1
