"""The GS1-conformant resolver (GS1 Digital Link resolver standard 1.2) over the passports.

A request for `/01/<gtin>[/22/..][/10/<lot>][/21/<serial>]` is resolved with point reads only (the
product's lookup, then its passport's head): the identification as given, else without its
serial, else without lot and serial too (item → batch → model), and the resolution says which
level answered. Its links, by GS1 link type:

- `gs1:pip` (also the default link): the consumer page;
- `gs1:dpp`: the passport, as the lite JSON-LD view and as the EN 18222 document;
- `gs1:sustainabilityInfo`, `gs1:certificationInfo`: the page's sections, when the public
  document has them.

The linkset is RFC 9264 JSON (`application/linkset+json`) in the shape the resolver standard
gives it: one context object whose `anchor` is the canonical Digital Link URI and whose members
are link type URIs, each a list of target objects with `href`, `type`, `title`, `hreflang`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from shared.access.authorization import AccessControl
from shared.documents.digital_link import DigitalLink, link_key
from shared.documents.members import sections
from shared.documents.text import languages, product_name
from shared.passports.records import PassportItem
from shared.passports.repository import PassportRepository
from shared.platform.errors import ErrorCode, NotFound

GS1_VOC = "https://gs1.org/voc/"
PIP, DPP, SUSTAINABILITY, CERTIFICATION, DEFAULT = (
    "pip",
    "dpp",
    "sustainabilityInfo",
    "certificationInfo",
    "defaultLink",
)
LINK_TYPES: tuple[str, ...] = (PIP, DPP, SUSTAINABILITY, CERTIFICATION, DEFAULT)
LINKSET = "linkset"
# Content sections a link type points into, by their usual names.
SECTION_OF = {SUSTAINABILITY: "sustainability", CERTIFICATION: "certification"}
LEVELS = ("item", "batch", "model")


class ResolverLinks(Protocol):
    """Absolute URLs the resolver's links point at (built by the HTTP layer from its routes)."""

    def page(self, dpp_id: str) -> str: ...

    def passport(self, dpp_id: str) -> str: ...

    def lite_view(self, product_id: str) -> str: ...


@dataclass(frozen=True)
class Resolution:
    head: PassportItem
    requested: DigitalLink | None
    matched: DigitalLink | None
    level: str  # item, batch or model (or "passport" for a short URL)
    anchor: str

    @property
    def fallback(self) -> bool:
        return self.requested != self.matched


@dataclass(frozen=True)
class Link:
    link_type: str
    href: str
    media_type: str
    title: str
    hreflang: tuple[str, ...]

    def target(self) -> dict[str, Any]:
        target: dict[str, Any] = {"href": self.href, "type": self.media_type, "title": self.title}
        if self.hreflang:
            target["hreflang"] = list(self.hreflang)
        return target


def parse_link_type(raw: str | None) -> str | None:
    """`gs1:pip`, `pip`, `https://gs1.org/voc/pip` → `pip`; `linkset`; None when absent."""
    if raw is None or raw == "":
        return None
    for prefix in ("gs1:", GS1_VOC, "https://ref.gs1.org/voc/"):
        if raw.startswith(prefix):
            return raw[len(prefix) :]
    return raw


class Resolver:
    def __init__(self, passports: PassportRepository, access: AccessControl):
        self.passports = passports
        self.access = access

    def resolve(self, link: DigitalLink, root: str) -> Resolution:
        """The passport the identification resolves to, at the most specific level that has one;
        `root` is the resolver's origin as the request addressed it (the linkset's anchor)."""
        candidates = [(link, LEVELS[0] if link.serial else LEVELS[1] if link.lot else LEVELS[2])]
        if link.serial is not None:
            candidates.append((link.without("21"), LEVELS[1] if link.lot else LEVELS[2]))
        if link.lot is not None or link.serial is not None:
            candidates.append((link.without("10", "21"), LEVELS[2]))
        for candidate, level in dict.fromkeys(candidates):
            # The repository caches product → passport id, so a scan costs the head's point read.
            head = self.passports.live_head_for_product(link_key(candidate))
            if head is not None:
                return Resolution(head, link, candidate, level, link.uri(root))
        raise NotFound(f"No passport for GS1 {link.path()}", code=ErrorCode.PASSPORT_NOT_FOUND)

    def resolve_id(self, dpp_id: str, anchor: str) -> Resolution:
        head = self.passports.head(dpp_id)
        if head is None or head["deleted"]:
            raise NotFound(f"No passport found for id '{dpp_id}'", code=ErrorCode.PASSPORT_NOT_FOUND)
        return Resolution(head, None, None, "passport", anchor)

    def links(self, resolution: Resolution, urls: ResolverLinks) -> list[Link]:
        head = resolution.head
        public = self.access.public(head).document
        name = product_name(sections(public), "en") or head["productId"]
        langs = tuple(sorted(languages(public)))
        dpp_id = head["dppId"]
        found = [
            Link(PIP, urls.page(dpp_id), "text/html", f"Product passport: {name}", langs),
            Link(
                DPP,
                urls.lite_view(head["productId"]),
                "application/ld+json",
                f"Digital product passport: {name}",
                (),
            ),
            Link(DPP, urls.passport(dpp_id), "application/json", "EN 18222 passport document", ()),
        ]
        shown = sections(public)
        for link_type, section in SECTION_OF.items():
            if section in shown:
                href = f"{urls.page(dpp_id)}#{section}"
                found.append(Link(link_type, href, "text/html", f"{section.capitalize()}: {name}", langs))
        found.append(Link(DEFAULT, urls.page(dpp_id), "text/html", f"Product passport: {name}", langs))
        return found

    def linkset(self, resolution: Resolution, urls: ResolverLinks) -> dict[str, Any]:
        context: dict[str, Any] = {"anchor": resolution.anchor}
        for link in self.links(resolution, urls):
            context.setdefault(GS1_VOC + link.link_type, []).append(link.target())
        return {"linkset": [context]}

    def link_for(self, resolution: Resolution, urls: ResolverLinks, link_type: str) -> Link:
        """The first link of `link_type`; an unknown type gets the default link, as the standard says."""
        links = self.links(resolution, urls)
        return next((link for link in links if link.link_type == link_type), links[-1])

    def description(self, root: str) -> dict[str, Any]:
        """`/.well-known/gs1resolver`: what this resolver is and does."""
        return {
            "name": "DPP service GS1 Digital Link resolver",
            "resolverRoot": root,
            "supportedPrimaryKeys": ["01"],
            "supportedKeyQualifiers": {"01": ["22", "10", "21"]},
            "linkTypes": [GS1_VOC + link_type for link_type in LINK_TYPES],
            "linkTypeDefaultCanBeLinkset": False,
            "supportedContextValuesEnumerated": [],
            "validatingAgainstSchema": False,
        }
