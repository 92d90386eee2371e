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

from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from shared.documents.digital_link import is_digital_link, product_key
from shared.documents.lifecycle import LATEST

DPP_KEY_PREFIX = "dpp:"
# Paths of this service that name a passport (by id) or a product (by id), as route prefixes.
BY_ID_PATHS = ("/api/v1/dpps/", "/p/")
VIEW_PATH = "/api/v1/dpp/"
BY_PRODUCT_PATHS = ("/api/v1/dppsByProductId/", VIEW_PATH)


@dataclass(frozen=True)
class Target:
    written: str
    product: str | None = None  # a product id to look up here
    dpp_id: str | None = None  # a passport id here
    remote: str | None = None  # a URL at another provider (also: where a GS1 product is, if not here)
    label: str | None = None  # the version label a JSON-LD view URL names (`latest`: none)

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


def locate(written: str, own_origin: str) -> Target:
    if "://" not in written:
        return Target(written, product=written)
    if origin_of(written) != origin_of(own_origin):
        return Target(written, product=written, remote=written)
    if is_digital_link(written):
        return Target(written, product=written)
    path = urlsplit(written).path
    for prefixes, by_id in ((BY_ID_PATHS, True), (BY_PRODUCT_PATHS, False)):
        for prefix in prefixes:
            if path.startswith(prefix) and len(path) > len(prefix):
                # The first segment after the route names it; what follows (a view's version,
                # `/page`, `/status`) does not change which passport it is.
                named, _, rest = path[len(prefix) :].partition("/")
                if by_id:
                    return Target(written, dpp_id=unquote(named))
                label = unquote(rest.split("/", 1)[0]) if prefix == VIEW_PATH else ""
                return Target(
                    written, product=unquote(named), label=label if label not in ("", LATEST) else None
                )
    # On this service, but not a passport's URL: there is nothing to read, here or elsewhere.
    return Target(written)
