"""A TEST DOUBLE of an Akeneo PIM's REST API: a real HTTP server on a free loopback port, speaking
the documented wire protocol (api.akeneo.com), holding products the test puts in it.

What it implements, as Akeneo documents it:
- Authentication (documentation/authentication.html, "Connector" flow): `POST /api/oauth/v1/token`
  with `Authorization: Basic base64(clientId:secret)`, `Content-Type: application/json` and
  `{"grant_type": "password", "username", "password"}`; answers `{"access_token", "expires_in":
  3600, "token_type": "bearer", "scope": null, "refresh_token"}`. Every other call needs
  `Authorization: Bearer <token>` (401 otherwise). Wrong credentials: 422, as Akeneo's token
  endpoint answers them.
- Products (api-reference, "Get list of products"; documentation/filter.html and pagination.html):
  `GET /api/rest/v1/products` with `pagination_type=search_after` (sorted by the primary key; the
  cursor `search_after` is only ever taken from `_links.next.href`), `limit` (10 by default, more
  than 100 is a 422 "You cannot request more than 100 items."), `search` (here: `updated` with
  `>` / `<` and Akeneo's `yyyy-mm-dd hh:mm:ss`), `scope` (values of that channel and unscoped
  ones) and `locales` (values of those locales and non-localizable ones). Answers `{"_links":
  {"self", "first", "next"?}, "_embedded": {"items": [...]}}`; `next` is present while more
  products follow. Products carry `identifier`, `enabled`, `family`, `categories`, `groups`,
  `parent`, `values` (`{attribute: [{"locale", "scope", "data"}]}`), `created`, `updated`.
- `GET /api/rest/v1/families/{code}` (`{"code", "attributes", "attribute_as_label", ...}`; 404
  `{"code": 404, "message"}` for an unknown family), `GET /api/rest/v1/attributes` with
  `search={"code":[{"operator":"IN","value":[...]}]}`, and `GET /api/rest/v1/media-files/{code}/download`
  (the file's bytes with its Content-Type).

What it does not: writes through the API, product models, the `products-uuid` endpoints, other
filters. Faults for tests: `fail_page(n)` answers 500 to the n-th products page request,
`revoke_tokens()` (or `revoke_before_page`) makes every issued token answer 401, `next_base` points
`next` links elsewhere, `ignore_value_filters` answers every channel's and locale's values.
"""

from __future__ import annotations

import base64
import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from tests.support.ports import free_port

AKENEO_TIME = "%Y-%m-%d %H:%M:%S"


@dataclass
class Product:
    identifier: str
    family: str
    values: dict[str, list[dict[str, Any]]]
    updated: datetime
    created: datetime
    enabled: bool = True
    categories: list[str] = field(default_factory=list)

    def as_json(self, base: str, scope: str | None, locales: list[str] | None) -> dict[str, Any]:
        values = {
            code: kept
            for code, entries in self.values.items()
            if (kept := [e for e in entries if _kept(e, scope, locales)])
        }
        return {
            "_links": {"self": {"href": f"{base}/api/rest/v1/products/{self.identifier}"}},
            "identifier": self.identifier,
            "enabled": self.enabled,
            "family": self.family,
            "categories": self.categories,
            "groups": [],
            "parent": None,
            "values": values,
            "created": self.created.isoformat(timespec="seconds"),
            "updated": self.updated.isoformat(timespec="seconds"),
            "associations": {},
            "quantified_associations": {},
        }


def _kept(entry: dict[str, Any], scope: str | None, locales: list[str] | None) -> bool:
    if scope is not None and entry.get("scope") not in (None, scope):
        return False
    return locales is None or entry.get("locale") in (None, *locales)


class AkeneoDouble:
    """`with AkeneoDouble(client_id, secret, username, password) as pim:` then `pim.base_url`."""

    def __init__(self, client_id: str, secret: str, username: str, password: str):
        self.client_id, self.secret, self.username, self.password = client_id, secret, username, password
        self.products: dict[str, Product] = {}
        self.families: dict[str, list[str]] = {}
        self.attributes: dict[str, dict[str, Any]] = {}
        self.media: dict[str, tuple[bytes, str]] = {}
        self.tokens: set[str] = set()
        self.requests: list[dict[str, Any]] = []
        self.failing_pages: set[int] = set()
        self.product_pages_served = 0
        # Seconds each products page takes to answer (a slow PIM, for a worker killed mid-sync).
        self.page_delay = 0.0
        # Where `next` links point instead of this server (a PIM, or a proxy, gone wrong).
        self.next_base: str | None = None
        # The products page request before which every token is revoked (an expired token).
        self.revoke_before_page: int | None = None
        # A PIM that ignores `scope` and `locales` (answers every value).
        self.ignore_value_filters = False
        self.lock = threading.Lock()
        self.clock = lambda: datetime.now(UTC).replace(microsecond=0)
        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), _handler(self))
        self.base_url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> AkeneoDouble:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    # -- what the test puts in the PIM ------------------------------------------------------------

    def attribute(self, code: str, type_: str, localizable: bool = False, scopable: bool = False) -> None:
        self.attributes[code] = {
            "code": code,
            "type": type_,
            "group": "other",
            "localizable": localizable,
            "scopable": scopable,
            "labels": {},
        }

    def family(self, code: str, attributes: list[str]) -> None:
        self.families[code] = attributes

    def put(self, identifier: str, family: str, values: dict[str, list[dict[str, Any]]]) -> None:
        """Create or change a product, as a PIM user saving it does (its `updated` moves)."""
        now = self.clock()
        with self.lock:
            created = self.products[identifier].created if identifier in self.products else now
            self.products[identifier] = Product(identifier, family, values, now, created)

    def delete(self, identifier: str) -> None:
        with self.lock:
            del self.products[identifier]

    def fail_page(self, number: int) -> None:
        """Answer 500 to the `number`-th products page request from now (1: the next one)."""
        self.failing_pages.add(self.product_pages_served + number)

    def revoke_tokens(self) -> None:
        self.tokens.clear()

    # -- the API ----------------------------------------------------------------------------------

    def token(self, headers: Any, body: bytes) -> tuple[int, Any]:
        expected = base64.b64encode(f"{self.client_id}:{self.secret}".encode()).decode()
        if headers.get("Authorization") != f"Basic {expected}":
            return 422, {
                "code": 422,
                "message": 'Parameter "client_id" is missing or does not match any client',
            }
        if (headers.get("Content-Type") or "").split(";")[0].strip() != "application/json":
            return 415, {"code": 415, "message": "Only JSON is allowed"}
        try:
            grant = json.loads(body)
        except ValueError:
            return 400, {"code": 400, "message": "Invalid json message received"}
        if grant.get("grant_type") != "password":
            return 422, {"code": 422, "message": 'Parameter "grant_type" is missing or not supported'}
        if (grant.get("username"), grant.get("password")) != (self.username, self.password):
            return 422, {"code": 422, "message": "No user found for the given username and password"}
        token = secrets.token_urlsafe(24)
        self.tokens.add(token)
        return 200, {
            "access_token": token,
            "expires_in": 3600,
            "token_type": "bearer",
            "scope": None,
            "refresh_token": secrets.token_urlsafe(24),
        }

    def product_list(self, query: dict[str, str]) -> tuple[int, Any]:
        with self.lock:
            self.product_pages_served += 1
            number = self.product_pages_served
        time.sleep(self.page_delay)
        if number in self.failing_pages:
            return 500, {"code": 500, "message": "Internal server error"}
        if query.get("pagination_type") != "search_after":
            return 422, {"code": 422, "message": "This double serves the search_after pagination only"}
        limit = int(query.get("limit", "10"))
        if limit > 100:
            return 422, {"code": 422, "message": "You cannot request more than 100 items."}
        rules = json.loads(query["search"]).get("updated", []) if "search" in query else []
        scope = None if self.ignore_value_filters else query.get("scope")
        locales = (
            query["locales"].split(",") if "locales" in query and not self.ignore_value_filters else None
        )
        after = query.get("search_after")
        with self.lock:
            chosen = sorted(
                (p for p in self.products.values() if all(_matches(p.updated, rule) for rule in rules)),
                key=lambda p: p.identifier,
            )
        if after is not None:
            chosen = [p for p in chosen if p.identifier > after]
        page, more = chosen[:limit], len(chosen) > limit
        base = f"{self.base_url}/api/rest/v1/products"
        kept = {k: v for k, v in query.items() if k != "search_after"}
        links: dict[str, Any] = {
            "self": {"href": f"{base}?{urlencode(query)}"},
            "first": {"href": f"{base}?{urlencode(kept)}"},
        }
        if more:
            following = f"{self.next_base or self.base_url}/api/rest/v1/products"
            links["next"] = {
                "href": f"{following}?{urlencode({**kept, 'search_after': page[-1].identifier})}"
            }
        items = [p.as_json(self.base_url, scope, locales) for p in page]
        return 200, {"_links": links, "_embedded": {"items": items}}

    def attribute_list(self, query: dict[str, str]) -> tuple[int, Any]:
        codes: list[str] | None = None
        if "search" in query:
            (rule,) = json.loads(query["search"])["code"]
            assert rule["operator"] == "IN"
            codes = rule["value"]
        items = [a for code, a in self.attributes.items() if codes is None or code in codes]
        limit = int(query.get("limit", "10"))
        if limit > 100:
            return 422, {"code": 422, "message": "You cannot request more than 100 items."}
        return 200, {"_links": {}, "current_page": 1, "_embedded": {"items": items[:limit]}}


def _matches(updated: datetime, rule: dict[str, Any]) -> bool:
    value = datetime.strptime(rule["value"], AKENEO_TIME).replace(tzinfo=UTC)
    if rule["operator"] == ">":
        return updated > value
    if rule["operator"] == "<":
        return updated < value
    raise AssertionError(f"the double does not implement operator {rule['operator']}")


def _handler(pim: AkeneoDouble) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _answer(self, status: int, body: Any, content_type: str = "application/json") -> None:
            data = body if isinstance(body, bytes) else json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _record(self, body: bytes = b"") -> tuple[str, dict[str, str]]:
            parts = urlsplit(self.path)
            query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
            pim.requests.append(
                {
                    "method": self.command,
                    "path": parts.path,
                    "query": query,
                    "headers": dict(self.headers),
                    "body": body,
                }
            )
            return parts.path, query

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            path, _ = self._record(body)
            if path != "/api/oauth/v1/token":
                self._answer(404, {"code": 404, "message": "Not found"})
                return
            self._answer(*pim.token(self.headers, body))

        def do_GET(self) -> None:
            path, query = self._record()
            bearer = (self.headers.get("Authorization") or "").removeprefix("Bearer ")
            if path == "/api/rest/v1/products" and pim.revoke_before_page == pim.product_pages_served + 1:
                pim.revoke_before_page = None
                pim.revoke_tokens()
            if bearer not in pim.tokens:
                self._answer(401, {"code": 401, "message": "The access token provided is invalid."})
                return
            if path == "/api/rest/v1/products":
                self._answer(*pim.product_list(query))
            elif path == "/api/rest/v1/attributes":
                self._answer(*pim.attribute_list(query))
            elif path.startswith("/api/rest/v1/families/"):
                code = path.rsplit("/", 1)[1]
                if code not in pim.families:
                    self._answer(404, {"code": 404, "message": f'Family "{code}" does not exist.'})
                    return
                family = {
                    "code": code,
                    "attributes": pim.families[code],
                    "attribute_as_label": "name",
                    "labels": {},
                }
                self._answer(200, family)
            elif path.startswith("/api/rest/v1/media-files/") and path.endswith("/download"):
                code = path.removeprefix("/api/rest/v1/media-files/").removesuffix("/download")
                if code not in pim.media:
                    self._answer(404, {"code": 404, "message": f'Media file "{code}" does not exist.'})
                    return
                data, content_type = pim.media[code]
                self._answer(200, data, content_type)
            else:
                self._answer(404, {"code": 404, "message": "Not found"})

    return Handler
