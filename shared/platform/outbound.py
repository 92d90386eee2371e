"""Outbound HTTP to URLs that operators wrote (another provider's passports): safe by default.

Every hop, the first request and each redirect alike, is checked before a byte is sent: https
only (unless plain http is allowed), no credentials in the URL, and every address the host name
resolves to must be public: no private, loopback, link-local, shared, multicast or reserved
address, unless it lies in a network the settings allow (local development). The connection goes
to the address that was checked (the name is not resolved twice, so DNS rebinding cannot swap
it), with TLS still verified against the host name. Redirects are followed by hand, at most
MAX_REDIRECTS, each one checked the same way. Connect and read timeouts are short, a whole
request has a deadline, and a body larger than the cap is cut off and refused. A `Budget` bounds
how many requests one incoming request may make.

Failures are `Refused` (the rules forbid the URL: nothing was sent to it), `Unreachable` (the
network or the peer failed) or `BudgetSpent`; each carries a reason a person can read.
"""

from __future__ import annotations

import ipaddress
import socket
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import urljoin, urlsplit

CONNECT_TIMEOUT, READ_TIMEOUT, DEADLINE = 2.0, 3.0, 6.0
MAX_BYTES = 1_048_576
MAX_REDIRECTS = 3
REDIRECTS = frozenset({301, 302, 303, 307, 308})
USER_AGENT = "dpp-service (relations; +https://github.com/)"

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Resolve = Callable[[str, int], list[str]]


class OutboundError(Exception):
    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class Refused(OutboundError):
    """The rules forbid this URL (or a redirect to it); nothing was sent there."""


class Unreachable(OutboundError):
    """The network or the peer failed: no answer, a timeout, a broken or oversized response."""


class BudgetSpent(OutboundError):
    """This incoming request may make no more outbound requests."""


@dataclass(frozen=True)
class OutboundRules:
    allow_http: bool = False
    allowed_networks: tuple[Network, ...] = ()
    connect_timeout: float = CONNECT_TIMEOUT
    read_timeout: float = READ_TIMEOUT
    deadline: float = DEADLINE
    max_bytes: int = MAX_BYTES
    # Certificate authorities to trust instead of the system's (a private CA); None: the system's.
    ca_file: str | None = None

    @classmethod
    def of(cls, allow_http: bool, networks: Iterable[str], **limits: Any) -> OutboundRules:
        allowed = tuple(ipaddress.ip_network(network, strict=False) for network in networks)
        return cls(allow_http=allow_http, allowed_networks=allowed, **limits)


@dataclass(frozen=True)
class Response:
    url: str  # the URL that answered, after redirects
    status: int
    headers: Mapping[str, str]  # names in lower case
    body: bytes
    # The headers of each redirect on the way (a cache may reuse redirects they let it keep).
    redirected_by: tuple[Mapping[str, str], ...] = ()


@dataclass
class Budget:
    """How many outbound requests an incoming request may still make (shared by its threads)."""

    remaining: int
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def take(self) -> bool:
        with self._lock:
            if self.remaining <= 0:
                return False
            self.remaining -= 1
            return True


def system_resolve(host: str, port: int) -> list[str]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise Unreachable(f"{host} does not resolve ({exc})") from None
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


class TimedResolver:
    """The system resolver, bounded in time: getaddrinfo has no timeout of its own, so it runs on
    a small pool and a slow answer counts as none (the lookup finishes on its thread)."""

    def __init__(self, timeout: float = CONNECT_TIMEOUT, resolve: Resolve = system_resolve, workers: int = 4):
        from concurrent.futures import ThreadPoolExecutor

        self.timeout = timeout
        self.resolve = resolve
        self.pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="dpp-resolve")

    def __call__(self, host: str, port: int) -> list[str]:
        from concurrent.futures import TimeoutError as Timeout

        try:
            return self.pool.submit(self.resolve, host, port).result(timeout=self.timeout)
        except Timeout:
            raise Unreachable(f"{host} does not resolve within {self.timeout:g} s") from None


def _public(address: Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_global and not address.is_multicast


class OutboundClient:
    def __init__(self, rules: OutboundRules, resolve: Resolve | None = None):
        self.rules = rules
        self.resolve = resolve or TimedResolver(rules.connect_timeout)

    def get(self, url: str, headers: Mapping[str, str], budget: Budget) -> Response:
        """GET `url`, following checked redirects; each hop spends one unit of `budget`."""
        started = time.monotonic()
        hops: list[Mapping[str, str]] = []
        for _ in range(MAX_REDIRECTS + 1):
            if not budget.take():
                raise BudgetSpent("the fetch budget of this request is spent")
            response = self._once(url, headers, started)
            if response.status not in REDIRECTS:
                return replace(response, redirected_by=tuple(hops))
            hops.append(response.headers)
            location = response.headers.get("location")
            if not location:
                raise Unreachable(f"{url} answered {response.status} without a Location")
            try:
                url = urljoin(url, location)
                urlsplit(url).port  # noqa: B018 (parsing it is the check)
            except ValueError:
                raise Unreachable(f"{url} redirected to a malformed URL") from None
        raise Unreachable(f"more than {MAX_REDIRECTS} redirects")

    def post(self, url: str, headers: Mapping[str, str], body: bytes, budget: Budget) -> Response:
        """POST `body` to `url` (a token endpoint, say), checked like a GET; a redirect is not
        followed, since it would carry the body (credentials) to wherever it points."""
        if not budget.take():
            raise BudgetSpent("the fetch budget of this request is spent")
        return self._once(url, headers, time.monotonic(), method="POST", body=body)

    def check(self, url: str) -> tuple[str, str, int, str]:
        """(scheme, host, port, checked address) of a URL the rules allow; else Refused."""
        try:
            parts = urlsplit(url)
        except ValueError:
            raise Refused("the URL is malformed") from None
        scheme = parts.scheme.lower()
        if scheme != "https" and not (scheme == "http" and self.rules.allow_http):
            raise Refused(f"only https URLs are fetched, not {scheme or 'a relative URL'}")
        if parts.username is not None or parts.password is not None:
            raise Refused("URLs with credentials are not fetched")
        try:
            host, port = parts.hostname, parts.port or (443 if scheme == "https" else 80)
        except ValueError:
            raise Refused("the URL's port is not a number") from None
        if not host:
            raise Refused("the URL names no host")
        addresses = self.resolve(host, port)
        if not addresses:
            raise Unreachable(f"{host} does not resolve")
        for raw in addresses:
            address = ipaddress.ip_address(raw.split("%", 1)[0])
            if not _public(address) and not any(address in net for net in self.rules.allowed_networks):
                raise Refused(f"{host} resolves to {address}, which is not a public address")
        return scheme, host, port, addresses[0]

    def _once(
        self,
        url: str,
        headers: Mapping[str, str],
        started: float,
        method: str = "GET",
        body: bytes | None = None,
    ) -> Response:
        import urllib3

        scheme, host, port, address = self.check(url)
        parts = urlsplit(url)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        default_port = 443 if scheme == "https" else 80
        host_header = host if port == default_port else f"{host}:{port}"
        if ":" in host and not host.startswith("["):
            host_header = f"[{host}]" if port == default_port else f"[{host}]:{port}"
        timeout = urllib3.Timeout(connect=self.rules.connect_timeout, read=self.rules.read_timeout)
        pool: urllib3.HTTPConnectionPool
        if scheme == "https":
            pool = urllib3.HTTPSConnectionPool(
                address,
                port,
                server_hostname=host,
                assert_hostname=host,
                cert_reqs="CERT_REQUIRED",
                ca_certs=self.rules.ca_file,
            )
        else:
            pool = urllib3.HTTPConnectionPool(address, port)
        sent = {"User-Agent": USER_AGENT, **headers, "Host": host_header, "Accept-Encoding": "identity"}
        try:
            with pool:
                answer = pool.urlopen(
                    method,
                    target,
                    body=body,
                    headers=sent,
                    redirect=False,
                    retries=False,
                    timeout=timeout,
                    preload_content=False,
                )
                try:
                    body = self._read(answer, started)
                finally:
                    answer.release_conn()
        except urllib3.exceptions.HTTPError as exc:
            raise Unreachable(f"{host}: {type(exc).__name__}") from None
        except OSError as exc:
            raise Unreachable(f"{host}: {exc.strerror or type(exc).__name__}") from None
        found = {name.lower(): value for name, value in answer.headers.items()}
        return Response(url, answer.status, found, body)

    def _read(self, answer: Any, started: float) -> bytes:
        declared = answer.headers.get("content-length")
        if declared and declared.isascii() and declared.isdigit() and int(declared) > self.rules.max_bytes:
            raise Unreachable(f"the response is larger than {self.rules.max_bytes} bytes")
        chunks: list[bytes] = []
        size = 0
        while True:
            if time.monotonic() - started > self.rules.deadline:
                raise Unreachable(f"no whole answer within {self.rules.deadline:g} s")
            chunk = answer.read(65536)
            if not chunk:
                return b"".join(chunks)
            size += len(chunk)
            if size > self.rules.max_bytes:
                raise Unreachable(f"the response is larger than {self.rules.max_bytes} bytes")
            chunks.append(chunk)
