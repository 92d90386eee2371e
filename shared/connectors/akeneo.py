"""Akeneo PIM over its REST API (api.akeneo.com): the connector's `Source`.

- Authentication: a Connection's credentials, as Akeneo documents for connectors: `POST
  /api/oauth/v1/token` with the client id and secret as HTTP Basic and `{"grant_type": "password",
  "username", "password"}` as JSON; the token is reused until shortly before `expires_in`, and a
  401 asks for a new one once. An App's access token (Akeneo 7 / SaaS Apps, obtained by the App
  authorization flow) is used as it is instead.
- Products: `GET /api/rest/v1/products` with `pagination_type=search_after`, `limit=100`, the
  `updated` filter (`>` since, Akeneo's `yyyy-mm-dd hh:mm:ss`, sent in UTC), `scope` (the channel)
  and `locales`; pages are followed by `_links.next.href`, never built by hand (Akeneo's advice),
  and that link is the resume point.
- Families (`GET /api/rest/v1/families/{code}`) and attributes (`GET /api/rest/v1/attributes`,
  `search={"code":[{"operator":"IN",...}]}`) give each value's type, which decides how it is
  flattened into the columns of Akeneo's CSV product export (`name-en_US`,
  `description-en_US-ecommerce`, a metric's amount and `-unit`, multi-select codes joined by
  `,`, booleans as 1/0), so the shipped `akeneo` mapping reads a synced product as it reads an
  exported row.
- Media: `GET /api/rest/v1/media-files/{code}/download` for the attributes the connector maps to
  artifact types.

Every request goes through the outbound client (https only, public addresses unless allowed,
timeouts, size cap), and only to the connector's own origin: a `next` link elsewhere is refused
before the token could travel with it.
"""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any
from urllib.parse import quote, urlencode, urljoin, urlsplit

from shared.connectors.base import Media, Page, SourceError, SourceProduct
from shared.connectors.config import ConnectorConfig
from shared.platform.outbound import Budget, OutboundClient, OutboundError

PAGE_SIZE = 100
# Akeneo's own REST API (not this service's routes): its token endpoint, then its resources.
TOKEN_PATH = "/api/oauth/v1/token"  # noqa: S105 (a path, not a password)
AKENEO_REST = "/api/rest/v1"
PRODUCTS_PATH = f"{AKENEO_REST}/products"
# A token is renewed this long before Akeneo says it expires.
TOKEN_MARGIN = 60.0
# Requests one sync may make (pages, families, attributes, media): bounded like any outbound work.
SYNC_REQUESTS = 200_000
# Attribute types whose values are files (their data is the media file's code).
FILE_TYPES = frozenset({"pim_catalog_image", "pim_catalog_file"})


def akeneo_time(moment: str) -> str:
    """Akeneo's filter format, in UTC: `2026-01-01 00:00:00`."""
    parsed = datetime.fromisoformat(moment)
    return parsed.strftime("%Y-%m-%d %H:%M:%S")


def _cell(data: Any) -> Any:
    if isinstance(data, bool):
        return "1" if data else "0"
    if isinstance(data, list):
        return ",".join(str(item) for item in data)
    if data is None:
        return None
    return data if isinstance(data, str | int | float) else json.dumps(data, ensure_ascii=False)


class AkeneoSource:
    def __init__(
        self,
        config: ConnectorConfig,
        outbound: OutboundClient,
        monotonic: Callable[[], float] = time.monotonic,
    ):
        self.config = config
        self.outbound = outbound
        self.monotonic = monotonic
        self.budget = Budget(SYNC_REQUESTS)
        origin = urlsplit(config.base_url)
        self._origin = (origin.scheme.lower(), origin.netloc.lower())
        self._token: tuple[str, float] | None = None
        self._lock = threading.Lock()
        self._types: dict[str, str] = {}
        self._families: set[str] = set()

    # -- authentication ------------------------------------------------------------------------

    def _bearer(self, renew: bool = False) -> str:
        credentials = self.config.credentials
        if credentials.access_token is not None:
            return credentials.access_token.value
        with self._lock:
            if renew or self._token is None or self._token[1] <= self.monotonic():
                self._token = self._request_token()
            return self._token[0]

    def _request_token(self) -> tuple[str, float]:
        credentials = self.config.credentials
        assert credentials.client_secret is not None and credentials.password is not None
        pair = f"{self.config.client_id}:{credentials.client_secret.value}".encode()
        headers = {
            "Authorization": "Basic " + base64.b64encode(pair).decode("ascii"),
            "Content-Type": "application/json",
            "Accept": "application/json",
        }
        body = {
            "grant_type": "password",
            "username": self.config.username,
            "password": credentials.password.value,
        }
        try:
            response = self.outbound.post(
                self.config.base_url + TOKEN_PATH, headers, json.dumps(body).encode(), self.budget
            )
        except OutboundError as exc:
            raise SourceError(f"token request: {exc.reason}") from None
        answer = self._json(response.status, response.body, "token request")
        token, lifetime = answer.get("access_token"), answer.get("expires_in", 3600)
        if not isinstance(token, str) or not isinstance(lifetime, int | float):
            raise SourceError("token request: the answer holds no access_token")
        return token, self.monotonic() + max(float(lifetime) - TOKEN_MARGIN, 1.0)

    # -- requests ----------------------------------------------------------------------------------

    def _json(self, status: int, body: bytes, what: str) -> dict[str, Any]:
        try:
            answer = json.loads(body or b"{}")
        except ValueError:
            answer = None
        if not 200 <= status < 300:
            message = answer.get("message") if isinstance(answer, dict) else None
            detail = f": {str(message)[:300]}" if message else ""
            raise SourceError(f"{what} answered {status}{detail}", status)
        if not isinstance(answer, dict):
            raise SourceError(f"{what}: the answer is not a JSON object")
        return answer

    def _fetch(self, url: str, what: str, accept: str = "application/json") -> tuple[bytes, str]:
        parts = urlsplit(url)
        if (parts.scheme.lower(), parts.netloc.lower()) != self._origin:
            raise SourceError(f"{what}: refused a link outside the PIM's origin ({parts.netloc})")
        for renew in (False, True):
            headers = {"Authorization": f"Bearer {self._bearer(renew)}", "Accept": accept}
            try:
                response = self.outbound.get(url, headers, self.budget)
            except OutboundError as exc:
                raise SourceError(f"{what}: {exc.reason}") from None
            if response.status == 401 and not renew and self.config.credentials.access_token is None:
                continue  # the token expired early or was revoked: one new token, one retry
            if not 200 <= response.status < 300:
                self._json(response.status, response.body, what)
            return response.body, response.headers.get("content-type", "application/octet-stream")
        raise SourceError(f"{what} answered 401 with a new token too", 401)

    def _get(self, path_and_query: str, what: str) -> dict[str, Any]:
        body, _ = self._fetch(self.config.base_url + path_and_query, what)
        return self._json(200, body, what)

    # -- products ----------------------------------------------------------------------------------

    def first_page_url(self, since: str | None) -> str:
        query: dict[str, str] = {"pagination_type": "search_after", "limit": str(self.config.page_size)}
        if since is not None:
            query["search"] = json.dumps(
                {"updated": [{"operator": ">", "value": akeneo_time(since)}]}, separators=(",", ":")
            )
        if self.config.channel:
            query["scope"] = self.config.channel
        if self.config.locales:
            query["locales"] = ",".join(self.config.locales)
        return f"{self.config.base_url}{PRODUCTS_PATH}?{urlencode(query)}"

    def changed(self, since: str | None, resume: str | None) -> Iterator[Page]:
        url: str | None = resume or self.first_page_url(since)
        while url:
            body, _ = self._fetch(url, "product list")
            answer = self._json(200, body, "product list")
            items = answer.get("_embedded", {}).get("items", [])
            if not isinstance(items, list):
                raise SourceError("product list: _embedded.items is not a list")
            following = answer.get("_links", {}).get("next", {}).get("href")
            # Akeneo writes absolute links; a relative one is taken relative to the page it is on.
            following = urljoin(url, following) if isinstance(following, str) and following else None
            self._learn_types(items)
            yield Page([self.product(item) for item in items], following)
            url = following

    def _learn_types(self, items: list[Any]) -> None:
        """Attribute types of every value on the page, from the products' families first."""
        for family in {item.get("family") for item in items if isinstance(item, dict)}:
            if isinstance(family, str) and family not in self._families:
                self._families.add(family)
                found = self._get(f"{AKENEO_REST}/families/{quote(family, safe='')}", f"family {family}")
                self._attributes([a for a in found.get("attributes", []) if isinstance(a, str)])
        codes = {
            code
            for item in items
            if isinstance(item, dict) and isinstance(item.get("values"), dict)
            for code in item["values"]
        }
        self._attributes(sorted(codes))

    def _attributes(self, codes: list[str]) -> None:
        unknown = [code for code in codes if code not in self._types]
        for start in range(0, len(unknown), PAGE_SIZE):
            chunk = unknown[start : start + PAGE_SIZE]
            search = json.dumps({"code": [{"operator": "IN", "value": chunk}]}, separators=(",", ":"))
            query = urlencode({"search": search, "limit": str(PAGE_SIZE)})
            found = self._get(f"{AKENEO_REST}/attributes?{query}", "attribute list")
            for attribute in found.get("_embedded", {}).get("items", []):
                if isinstance(attribute, dict) and isinstance(attribute.get("code"), str):
                    self._types[attribute["code"]] = str(attribute.get("type", ""))
            for code in chunk:
                self._types.setdefault(code, "")

    def product(self, item: Any) -> SourceProduct:
        """One product as the CSV export would show it, with its media files."""
        if not isinstance(item, dict) or not isinstance(item.get("identifier"), str):
            return SourceProduct("(unknown)", None, {}, error="a product without an identifier")
        identifier = item["identifier"]
        updated = item.get("updated") if isinstance(item.get("updated"), str) else None
        values: dict[str, Any] = {"sku": identifier}
        if isinstance(item.get("family"), str):
            values["family"] = item["family"]
        if isinstance(item.get("enabled"), bool):
            values["enabled"] = _cell(item["enabled"])
        if isinstance(item.get("categories"), list):
            values["categories"] = _cell(item["categories"])
        media: list[Media] = []
        try:
            for code, entries in (item.get("values") or {}).items():
                for entry in entries:
                    self._value(code, entry, values, media)
        except (AttributeError, TypeError, KeyError) as exc:
            return SourceProduct(identifier, updated, {}, error=f"values not in Akeneo's shape ({exc})")
        return SourceProduct(identifier, updated, values, tuple(media))

    def _value(self, code: str, entry: dict[str, Any], values: dict[str, Any], media: list[Media]) -> None:
        locale, scope, data = entry.get("locale"), entry.get("scope"), entry["data"]
        if scope is not None and self.config.channel and scope != self.config.channel:
            return
        if locale is not None and self.config.locales and locale not in self.config.locales:
            return
        column = "-".join(part for part in (code, locale, scope) if part)
        kind = self._types.get(code, "")
        if kind == "pim_catalog_metric" and isinstance(data, dict):
            values[column] = data.get("amount")
            values[f"{column}-unit"] = data.get("unit")
        elif kind == "pim_catalog_price_collection" and isinstance(data, list):
            for price in data:
                values[f"{column}-{price['currency']}"] = price.get("amount")
        else:
            values[column] = _cell(data)
        if kind in FILE_TYPES and code in self.config.media and isinstance(data, str) and data:
            media.append(Media(code, data, self.config.media[code]))

    # -- media -----------------------------------------------------------------------------------

    def download(self, media: Media) -> tuple[bytes, str]:
        path = f"{AKENEO_REST}/media-files/{quote(media.code, safe='/')}/download"
        what = f"media file of {media.attribute}"
        body, content_type = self._fetch(self.config.base_url + path, what, "*/*")
        return body, content_type.split(";", 1)[0].strip() or "application/octet-stream"
