"""Where a relation's target lives: on this service (read locally) or at another provider (fetched).

A target is a product id, a GS1 Digital Link URI, or a URL. Product ids may themselves be URIs,
and GS1 keys are global (a Digital Link URI on any host names the product), so a target is first
looked up here as a product: when this service holds a live passport for it, that is the node.
An absolute URL on this service's own public origin (DPP_PUBLIC_URL) is read locally and never
fetched: an EN 18222 passport URL (`/api/v1/dpps/{id}`), a short URL (`/p/{id}`), a read by
product (`/api/v1/dppsByProductId/{id}`), a JSON-LD view (`/api/v1/dpp/{id}/...`), a Digital Link
URI. Any other absolute URL not found here as a product is another provider's: fetched there.

The reverse index files a relation under `index_key`: the product key for what is looked up as
a product, `dpp:<id>` for a passport URL of this service.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, replace
from urllib.parse import unquote, urlsplit

from shared.documents.digital_link import is_digital_link, product_key
from shared.documents.lifecycle import LATEST

DPP_KEY_PREFIX = "dpp:"
_PARAMETER = re.compile(r"\{([A-Za-z]+)\}")


@functools.cache
def _pattern(template: str) -> re.Pattern[str]:
    """A route template (`/api/v1/dpps/{dppId}`) as a regex over raw paths: each parameter one
    segment; what follows (`/page`, `/status`) does not change which passport is named."""
    parts = _PARAMETER.split(template)
    regex = "".join(
        re.escape(part) if index % 2 == 0 else f"(?P<{part}>[^/]+)" for index, part in enumerate(parts)
    )
    return re.compile(regex + r"(?:/.*)?")


@dataclass(frozen=True)
class OwnRoutes:
    """This service's public origin, and the route templates of its URLs that name a passport by
    id (`{dppId}`) or a product (`{productId}`, with a `{version}` label for a view). The HTTP
    layer's route table gives them (functions.routes.own_routes); without them only Digital Link
    URIs and product ids are recognised here."""

    origin: str
    by_id: tuple[str, ...] = ()
    by_product: tuple[str, ...] = ()

    def named(self, path: str) -> Target | None:
        for template in self.by_id:
            found = _pattern(template).fullmatch(path)
            if found:
                return Target("", dpp_id=unquote(found["dppId"]))
        for template in self.by_product:
            found = _pattern(template).fullmatch(path)
            if found:
                groups = found.groupdict()
                label = unquote(groups["version"]) if groups.get("version") else None
                return Target(
                    "", product=unquote(groups["productId"]), label=None if label == LATEST else label
                )
        return None


@dataclass(frozen=True)
class Target:
    written: str
    product: str | None = None  # a product id to look up here
    dpp_id: str | None = None  # a passport id here
    remote: str | None = None  # a URL at another provider (also: where a GS1 product is, if not here)
    label: str | None = None  # the version label a view URL names (`latest`: none)

    @property
    def index_key(self) -> str:
        if self.product is not None:
            return product_key(self.product)
        if self.dpp_id is not None:
            return dpp_key(self.dpp_id)
        return self.written


def dpp_key(dpp_id: str) -> str:
    return DPP_KEY_PREFIX + dpp_id


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}"


def locate(written: str, own: OwnRoutes) -> Target:
    if "://" not in written:
        return Target(written, product=written)
    if origin_of(written) != origin_of(own.origin):
        return Target(written, product=written, remote=written)
    if is_digital_link(written):
        return Target(written, product=written)
    named = own.named(urlsplit(written).path)
    # On this service, but not a passport's URL: there is nothing to read, here or elsewhere.
    return Target(written) if named is None else replace(named, written=written)
