"""A TEST DOUBLE of the Azure Key Vault keys REST API, served over HTTPS. Not an emulator.

It speaks just enough of the real protocol for the real `azure-keyvault-keys` SDK to talk to it:
challenge authentication (401 + `WWW-Authenticate`, then a bearer token), `GET /keys/{name}[/{version}]`
returning a KeyBundle, and `POST /keys/{name}[/{version}]/sign` (ES256 only) signing with a real EC
private key, with Key Vault's error bodies. Everything else answers 404 or 405. Tests steer it with
`rotate`, `throttle`, `fail` and `create_key`, and read `requests` and `sign_count` back.

TLS is real: a self-signed certificate for 127.0.0.1/localhost is made at `start()` and written to
`ca_file`, which clients trust with `connection_verify=<ca_file>`. The SDK checks that a challenge's
resource matches the vault's domain, which 127.0.0.1 cannot, so clients also need
`verify_challenge_resource=False`.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import ipaddress
import json
import re
import secrets
import shutil
import ssl
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, NamedTuple, Self
from urllib.parse import parse_qs, urlsplit

from azure.core.credentials import AccessToken
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa, utils
from cryptography.x509.oid import NameOID

if TYPE_CHECKING:
    from shared.integrity.keyvault_signer import KeyVaultSigner

RESOURCE = "https://vault.azure.net"
SCOPE = RESOURCE + "/.default"
# What the real SDK sends (ApiVersion in azure-keyvault-keys): 7.x and the date-named successor.
API_VERSIONS = frozenset({"7.0", "7.1", "7.2", "7.3", "7.4", "7.5", "7.6", "2016-10-01", "2025-07-01"})
_NAME = re.compile(r"^[0-9A-Za-z-]{1,127}$")
_VERSION = re.compile(r"^[0-9a-f]{32}$")


class RecordedRequest(NamedTuple):
    """One request as the double saw it: path without query, the status it answered, and
    whether it carried a bearer token (accepted or not)."""

    method: str
    path: str
    status: int
    bearer: bool


@dataclass
class KeyVersion:
    version: str
    private_key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey
    created: int = field(default_factory=lambda: int(time.time()))
    enabled: bool = True


class StaticTokenCredential:
    """Test plumbing, not part of the double: a `TokenCredential` handing out one fixed token,
    recording the scopes and tenants it was asked for."""

    def __init__(self, token: str) -> None:
        self._token = token
        self.requests: list[tuple[tuple[str, ...], str | None]] = []

    def get_token(
        self,
        *scopes: str,
        claims: str | None = None,
        tenant_id: str | None = None,
        enable_cae: bool = False,
        **kwargs: Any,
    ) -> AccessToken:
        self.requests.append((scopes, tenant_id))
        return AccessToken(self._token, int(time.time()) + 3600)


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class KeyVaultDouble:
    """An HTTPS Key Vault keys endpoint on 127.0.0.1 holding real keys in memory.

    Usage: `with KeyVaultDouble() as vault: vault.create_key("passport-signing")`, then point the
    SDK at `vault.vault_url` with a `StaticTokenCredential(vault.token)`.
    """

    def __init__(self) -> None:
        self.token = "kv-double-" + secrets.token_urlsafe(24)
        self.tenant_id = "00000000-0000-4000-8000-" + secrets.token_hex(6)
        self.requests: list[RecordedRequest] = []
        self.sign_count = 0
        # Small pages by default, so every listing of key versions exercises the SDK's paging.
        self.versions_page_size = 2
        self._keys: dict[str, list[KeyVersion]] = {}
        self._throttled = 0
        self._throttle_retry_after = "2"
        self._failing = 0
        self._failure_status = 500
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._tmp: Path | None = None

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> Self:
        self._tmp = Path(tempfile.mkdtemp(prefix="kv-double-"))
        cert_file, key_file = _write_self_signed_cert(self._tmp)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert_file, key_file)
        server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        server.daemon_threads = True
        # The handshake runs in the request's own thread (see _Handler.setup), so a client that
        # stalls mid-handshake cannot block the accept loop.
        server.socket = context.wrap_socket(server.socket, server_side=True, do_handshake_on_connect=False)
        self._server = server
        # A short poll interval makes stop() quick; the loop is idle between tests anyway.
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="kv-double", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._tmp is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def vault_url(self) -> str:
        if self._server is None:
            raise RuntimeError("the Key Vault double is not started")
        return f"https://127.0.0.1:{self._server.server_address[1]}"

    @property
    def ca_file(self) -> str:
        if self._tmp is None:
            raise RuntimeError("the Key Vault double is not started")
        return str(self._tmp / "cert.pem")

    # -- controls ----------------------------------------------------------------------------

    def create_key(self, name: str, *, kty: str = "EC", crv: str = "P-256") -> str:
        """Create a key (or a new version of it); returns the versioned kid. kty EC or RSA."""
        if not _NAME.match(name):
            raise ValueError(f"invalid key name {name!r}")
        private_key = _generate_key(kty, crv)
        with self._lock:
            versions = self._keys.setdefault(name, [])
            # Creation times are whole seconds in Key Vault; later versions are never older here.
            created = max([int(time.time()), *(v.created + 1 for v in versions)])
            versions.append(KeyVersion(secrets.token_hex(16), private_key, created))
            return self._kid(name, versions[-1].version)

    def rotate(self, name: str) -> str:
        """A new version of an existing key, same type; it becomes latest. Returns its kid."""
        with self._lock:
            latest = self._keys[name][-1].private_key
        if isinstance(latest, rsa.RSAPrivateKey):
            return self.create_key(name, kty="RSA")
        return self.create_key(name, kty="EC", crv=_CURVE_NAMES[type(latest.curve)])

    def disable(self, kid: str) -> None:
        """Disable one key version, as an operator does with a compromised key: it can no longer
        sign, and it is listed as disabled."""
        name, version = kid.rstrip("/").split("/")[-2:]
        entry = self._find(name, version)
        if entry is None:
            raise KeyError(kid)
        with self._lock:
            entry.enabled = False

    def throttle(self, n: int, retry_after: str = "2") -> None:
        """The next n authenticated sign requests answer 429 with this Retry-After."""
        with self._lock:
            self._throttled = n
            self._throttle_retry_after = retry_after

    def fail(self, n: int, status: int = 500) -> None:
        """The next n authenticated sign requests answer `status` (a server error)."""
        with self._lock:
            self._failing = n
            self._failure_status = status

    def public_key(self, kid: str) -> ec.EllipticCurvePublicKey:
        """The public key of an exact versioned kid, for verifying signatures independently."""
        name, version = kid.rstrip("/").split("/")[-2:]
        entry = self._find(name, version)
        if entry is None or not isinstance(entry.private_key, ec.EllipticCurvePrivateKey):
            raise KeyError(kid)
        return entry.private_key.public_key()

    def latest_kid(self, name: str) -> str:
        with self._lock:
            return self._kid(name, self._keys[name][-1].version)

    def count(self, method: str, suffix: str = "", status: int | None = None) -> int:
        """How many recorded requests match a method, a path suffix and (optionally) a status."""
        return sum(
            1
            for r in list(self.requests)
            if r.method == method and r.path.endswith(suffix) and (status is None or r.status == status)
        )

    # -- protocol ----------------------------------------------------------------------------

    def _kid(self, name: str, version: str) -> str:
        return f"{self.vault_url}/keys/{name}/{version}"

    def _find(self, name: str, version: str | None) -> KeyVersion | None:
        with self._lock:
            versions = self._keys.get(name, [])
            if not version:
                return versions[-1] if versions else None
            return next((v for v in versions if v.version == version), None)

    def handle(self, method: str, raw_path: str, headers: dict[str, str], body: bytes) -> _Reply:
        """Route one request; the HTTP plumbing lives in _Handler."""
        url = urlsplit(raw_path)
        authorization = headers.get("authorization", "")
        reply = self._route(method, url.path, parse_qs(url.query), authorization, body)
        with self._lock:
            self.requests.append(
                RecordedRequest(method, url.path, reply.status, authorization.startswith("Bearer "))
            )
        return reply

    def _route(
        self, method: str, path: str, query: dict[str, list[str]], authorization: str, body: bytes
    ) -> _Reply:
        if authorization != f"Bearer {self.token}":
            return self._challenge(authorization)
        if query.get("api-version", [""])[0] not in API_VERSIONS:
            return _error(400, "BadParameter", "The api-version query parameter is missing or not supported")
        # An empty version segment (`/keys/k//sign`, `/keys/k/`) means the latest version.
        segments = [s for s in path.split("/") if s]
        if len(segments) < 2 or segments[0] != "keys" or len(segments) > 4:
            return _error(404, "NotFound", "The requested resource is not served by this double")
        return self._operation(method, segments, query, body)

    def _operation(
        self, method: str, segments: list[str], query: dict[str, list[str]], body: bytes
    ) -> _Reply:
        if method == "POST" and segments[-1] == "sign":
            return self._sign(segments[1], segments[2] if len(segments) == 4 else None, body)
        if method == "GET" and len(segments) == 3 and segments[2] == "versions":
            return self._list_versions(segments[1], query)
        if method == "GET" and len(segments) <= 3:
            return self._get_key(segments[1], segments[2] if len(segments) == 3 else None)
        return _error(405, "MethodNotAllowed", f"{method} is not supported on this resource")

    def _challenge(self, authorization: str) -> _Reply:
        message = (
            "AKV10022: Invalid token" if authorization else "AKV10000: Request is missing a Bearer token"
        )
        reply = _error(401, "Unauthorized", message)
        authority = f"https://login.microsoftonline.com/{self.tenant_id}"
        reply.headers["WWW-Authenticate"] = f'Bearer authorization="{authority}", resource="{RESOURCE}"'
        return reply

    def _get_key(self, name: str, version: str | None) -> _Reply:
        entry = self._find(name, version)
        if entry is None:
            return _key_not_found(name, version)
        return _Reply(200, {"key": self._jwk(name, entry), "attributes": _attributes(entry)})

    def _list_versions(self, name: str, query: dict[str, list[str]]) -> _Reply:
        """Key versions in pages (`maxresults`, default VERSIONS_PAGE_SIZE), linked by `nextLink`."""
        with self._lock:
            versions = list(self._keys.get(name, []))
        if not versions:
            return _key_not_found(name, None)
        size = int(query.get("maxresults", [str(self.versions_page_size)])[0])
        start = int(query.get("$skiptoken", ["0"])[0])
        page = versions[start : start + size]
        items = [{"kid": self._kid(name, v.version), "attributes": _attributes(v)} for v in page]
        following = None
        if start + size < len(versions):
            api_version = query.get("api-version", ["7.5"])[0]
            following = (
                f"{self.vault_url}/keys/{name}/versions?api-version={api_version}"
                f"&$skiptoken={start + size}&maxresults={size}"
            )
        return _Reply(200, {"value": items, "nextLink": following})

    def _sign(self, name: str, version: str | None, body: bytes) -> _Reply:
        if (refused := self._refusal()) is not None:
            return refused
        entry = self._find(name, version)
        if entry is None:
            return _key_not_found(name, version)
        if not entry.enabled:
            return _error(403, "Forbidden", "Operation sign is not allowed on a disabled key")
        digest_or_error = _sign_parameters(body)
        if isinstance(digest_or_error, _Reply):
            return digest_or_error
        key = entry.private_key
        if not isinstance(key, ec.EllipticCurvePrivateKey) or not isinstance(key.curve, ec.SECP256R1):
            return _error(
                400, "BadParameter", "Key and signing algorithm are incompatible: ES256 needs P-256"
            )
        der = key.sign(digest_or_error, ec.ECDSA(utils.Prehashed(hashes.SHA256())))
        r, s = utils.decode_dss_signature(der)
        with self._lock:
            self.sign_count += 1
        signature = r.to_bytes(32, "big") + s.to_bytes(32, "big")
        return _Reply(200, {"kid": self._kid(name, entry.version), "value": b64url(signature)})

    def _refusal(self) -> _Reply | None:
        """A scheduled 429 or server error for this sign request, if any are left."""
        with self._lock:
            if self._throttled > 0:
                self._throttled -= 1
                reply = _error(
                    429, "Throttled", "Request was not processed because too many requests were received"
                )
                reply.headers["Retry-After"] = self._throttle_retry_after
                return reply
            if self._failing > 0:
                self._failing -= 1
                return _error(self._failure_status, "InternalServerError", "Scheduled failure of the double")
        return None

    def _jwk(self, name: str, entry: KeyVersion) -> dict[str, Any]:
        jwk: dict[str, Any] = {"kid": self._kid(name, entry.version)}
        key = entry.private_key
        if isinstance(key, rsa.RSAPrivateKey):
            numbers = key.public_key().public_numbers()
            jwk |= {"kty": "RSA", "n": b64url(_int_bytes(numbers.n)), "e": b64url(_int_bytes(numbers.e))}
            jwk["key_ops"] = ["sign", "verify", "encrypt", "decrypt", "wrapKey", "unwrapKey"]
            return jwk
        size = (key.curve.key_size + 7) // 8
        point = key.public_key().public_numbers()
        jwk |= {"kty": "EC", "crv": _CURVE_NAMES[type(key.curve)]}
        jwk |= {"x": b64url(point.x.to_bytes(size, "big")), "y": b64url(point.y.to_bytes(size, "big"))}
        jwk["key_ops"] = ["sign", "verify"]
        return jwk


@dataclass
class _Reply:
    status: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)


_CURVES: dict[str, ec.EllipticCurve] = {
    "P-256": ec.SECP256R1(),
    "P-384": ec.SECP384R1(),
    "P-521": ec.SECP521R1(),
}
_CURVE_NAMES: dict[type[ec.EllipticCurve], str] = {type(curve): name for name, curve in _CURVES.items()}


def _generate_key(kty: str, crv: str) -> ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey:
    if kty == "RSA":
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    if kty == "EC" and crv in _CURVES:
        return ec.generate_private_key(_CURVES[crv])
    raise ValueError(f"unsupported key type {kty} {crv}")


def _int_bytes(value: int) -> bytes:
    return value.to_bytes((value.bit_length() + 7) // 8, "big")


def _attributes(entry: KeyVersion) -> dict[str, Any]:
    return {
        "enabled": entry.enabled,
        "created": entry.created,
        "updated": entry.created,
        "recoveryLevel": "Recoverable+Purgeable",
        "recoverableDays": 90,
        "exportable": False,
    }


def _error(status: int, code: str, message: str) -> _Reply:
    return _Reply(status, {"error": {"code": code, "message": message}})


def _key_not_found(name: str, version: str | None) -> _Reply:
    which = f"'{name}' version '{version}'" if version else f"'{name}'"
    return _error(404, "KeyNotFound", f"A key with (name/id) {which} was not found in this key vault.")


def _sign_parameters(body: bytes) -> bytes | _Reply:
    """The digest to sign, or the 400 Key Vault answers for malformed parameters."""
    try:
        parameters = json.loads(body or b"{}")
        alg, value = parameters.get("alg"), parameters.get("value")
        digest = b64url_decode(value) if isinstance(value, str) else b""
    except (ValueError, AttributeError, binascii.Error):
        return _error(400, "BadParameter", "The request body is not valid sign parameters")
    if alg != "ES256":
        return _error(
            400, "BadParameter", f"Algorithm {alg!r} is not supported by this double; only ES256 is"
        )
    if len(digest) != 32:
        return _error(400, "BadParameter", f"ES256 needs a 32-byte SHA-256 digest, got {len(digest)} bytes")
    return digest


def _write_self_signed_cert(directory: Path) -> tuple[str, str]:
    """A fresh self-signed server certificate for 127.0.0.1 and localhost."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    alt_names = [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName(alt_names), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = directory / "cert.pem", directory / "key.pem"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return str(cert_file), str(key_file)


def _handler_for(double: KeyVaultDouble) -> type[BaseHTTPRequestHandler]:
    class _Handler(BaseHTTPRequestHandler):
        # HTTP/1.1 keep-alive, as the SDK's connection pool expects; every reply has a length.
        protocol_version = "HTTP/1.1"

        def setup(self) -> None:
            self.request.do_handshake()
            super().setup()

        def do_GET(self) -> None:
            self._serve()

        def do_POST(self) -> None:
            self._serve()

        def do_PUT(self) -> None:
            self._serve()

        def do_DELETE(self) -> None:
            self._serve()

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            headers = {k.lower(): v for k, v in self.headers.items()}
            reply = double.handle(self.command, self.path, headers, body)
            payload = json.dumps(reply.body).encode()
            self.send_response(reply.status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(payload)))
            for name, value in reply.headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: Any) -> None:
            pass  # the `requests` log is the record; stderr noise helps nobody

    return _Handler


KEY = "passport-signing"


@contextmanager
def fresh_vault() -> Iterator[KeyVaultDouble]:
    """A running double holding KEY, with the SDK's per-process cache of auth challenges cleared
    around it: the OS may hand a later double the same port, and each test starts like a fresh
    worker (its first request is challenged)."""
    from azure.keyvault.keys._shared import http_challenge_cache

    http_challenge_cache.clear()
    try:
        with KeyVaultDouble() as double:
            double.create_key(KEY)
            yield double
    finally:
        http_challenge_cache.clear()


def make_signer(
    vault: KeyVaultDouble,
    key_id: str | None = None,
    *,
    max_retries: int = 3,
    credential: StaticTokenCredential | None = None,
    version_check_interval: float = 300.0,
    **options: Any,
) -> KeyVaultSigner:
    """A signer of the double's key; `options` go to KeyVaultSigner (bucket, signing_rate, ...)."""
    from shared.integrity.keyvault_signer import KeyVaultSigner

    return KeyVaultSigner(
        key_id or f"{vault.vault_url}/keys/{KEY}",
        credential or StaticTokenCredential(vault.token),
        transport_options={"connection_verify": vault.ca_file, "verify_challenge_resource": False},
        max_retries=max_retries,
        version_check_interval=version_check_interval,
        **options,
    )
