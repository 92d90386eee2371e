"""GS1 Digital Link URIs (GS1 Digital Link URI Syntax 1.4; EN 18219 identification through GS1).

A `uniqueProductIdentifier` that is an http(s) URI with a `/01/` path segment is read as a GS1
Digital Link URI on any host (a path prefix before `/01/` is allowed, as the standard allows):

    https://id.gs1.org/01/09506000134352/10/LOT-7/21/ABC-1?17=261231

- the primary key, AI 01: a GTIN-8/12/13/14 written as 14 digits, with a valid check digit;
- key qualifiers, in the standard's order and each at most once: 22 (consumer product
  variant), 10 (batch/lot), 21 (serial); values 1-20 characters of GS1 AI encodable character
  set 82, percent-encoded where the URI needs it;
- data attributes as query parameters (AIs of 2-4 digits; other parameters, such as `linkType`,
  are the resolver's and not identification).

The granularity follows: a serial names an item, a lot a batch, a bare GTIN the model. The
canonical form on this service's resolver is `<base>/01/<gtin14>[/22/..][/10/..][/21/..]`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import parse_qsl, quote, unquote, urlsplit

from shared.platform.errors import BadRequest, ErrorCode

PRIMARY = "01"
QUALIFIERS: tuple[str, ...] = ("22", "10", "21")
QUALIFIER_NAMES = {"22": "consumer product variant", "10": "batch/lot", "21": "serial number"}
MAX_QUALIFIER_CHARS = 20
GTIN_LENGTHS = frozenset({8, 12, 13, 14})
# GS1 AI encodable character set 82 (GS1 General Specifications, figure 7.11-1).
_CSET82 = re.compile(r"[!\"%&'()*+,\-./0-9:;<=>?A-Z_a-z]+")
_AI = re.compile(r"[0-9]{2,4}")
_DIGITS = re.compile(r"[0-9]+")
# Characters a path segment may keep as they are; everything else of set 82 is percent-encoded.
_SEGMENT_SAFE = "!'()*+,-.:;=_"


class InvalidDigitalLink(BadRequest):
    def __init__(self, uri: str, fault: str):
        super().__init__(
            f"'uniqueProductIdentifier' {uri!r} is not a valid GS1 Digital Link URI: {fault}",
            code=ErrorCode.INVALID_PRODUCT_IDENTIFIER,
        )


def check_digit(body: str) -> str:
    """The GS1 mod-10 check digit of `body` (weights 3 and 1 from the right)."""
    total = sum(int(digit) * (3 if position % 2 == 0 else 1) for position, digit in enumerate(reversed(body)))
    return str((10 - total % 10) % 10)


def valid_gtin(gtin: str) -> bool:
    return bool(_DIGITS.fullmatch(gtin)) and len(gtin) in GTIN_LENGTHS and check_digit(gtin[:-1]) == gtin[-1]


@dataclass(frozen=True)
class DigitalLink:
    gtin: str  # 14 digits
    qualifiers: tuple[tuple[str, str], ...] = ()  # (AI, value) in the standard's order
    attributes: tuple[tuple[str, str], ...] = ()  # data attributes (query), in the given order

    def qualifier(self, ai: str) -> str | None:
        return dict(self.qualifiers).get(ai)

    @property
    def lot(self) -> str | None:
        return self.qualifier("10")

    @property
    def serial(self) -> str | None:
        return self.qualifier("21")

    @property
    def granularity(self) -> str:
        return "Item" if self.serial is not None else "Batch" if self.lot is not None else "Model"

    def path(self) -> str:
        """`/01/<gtin14>` and the key qualifiers, each value percent-encoded as one segment."""
        parts = [PRIMARY, self.gtin]
        for ai, value in self.qualifiers:
            parts += [ai, quote(value, safe=_SEGMENT_SAFE)]
        return "/" + "/".join(parts)

    def uri(self, base: str) -> str:
        """The canonical Digital Link URI under `base` (`https://resolver.example.com`)."""
        query = "&".join(f"{ai}={quote(value, safe=_SEGMENT_SAFE)}" for ai, value in self.attributes)
        return base.rstrip("/") + self.path() + (f"?{query}" if query else "")

    def without(self, *ais: str) -> DigitalLink:
        """The same identification less some qualifiers (item → batch → model fallback)."""
        return DigitalLink(self.gtin, tuple(q for q in self.qualifiers if q[0] not in ais))


def is_digital_link(uri: str) -> bool:
    """Whether `uri` claims to be a GS1 Digital Link URI (http(s) with a `/01/` path segment)."""
    try:
        parts = urlsplit(uri)
    except ValueError:
        return False
    return parts.scheme.lower() in ("http", "https") and bool(parts.netloc) and "/01/" in parts.path + "/"


def parse(uri: str) -> DigitalLink:
    """The identification `uri` carries; raises InvalidDigitalLink naming the first fault."""
    try:
        parts = urlsplit(uri)
    except ValueError as exc:
        raise InvalidDigitalLink(uri, str(exc)) from None
    segments = parts.path.split("/")
    try:
        start = segments.index(PRIMARY)
    except ValueError:
        raise InvalidDigitalLink(uri, "no '/01/<GTIN>' primary key in its path") from None
    keys = segments[start:]
    if len(keys) % 2 or any(segment == "" for segment in keys):
        raise InvalidDigitalLink(uri, "after '/01/' the path must be AI/value pairs")
    return _identification(uri, keys, parts.query)


def parse_path(path: str, query: str = "") -> DigitalLink:
    """The identification of a resolver request path `01/<gtin>[/10/<lot>][/21/<serial>]`."""
    keys = path.strip("/").split("/")
    if len(keys) % 2 or not keys or keys[0] != PRIMARY or any(segment == "" for segment in keys):
        raise InvalidDigitalLink("/" + path.strip("/"), "the path must be /01/<GTIN> then AI/value pairs")
    return _identification("/" + path.strip("/"), keys, query)


def _identification(uri: str, keys: list[str], query: str) -> DigitalLink:
    gtin = keys[1]
    if not _DIGITS.fullmatch(gtin) or len(gtin) not in GTIN_LENGTHS:
        raise InvalidDigitalLink(uri, f"GTIN '{gtin}' must be 8, 12, 13 or 14 digits")
    if check_digit(gtin[:-1]) != gtin[-1]:
        raise InvalidDigitalLink(
            uri, f"GTIN '{gtin}' has check digit {gtin[-1]}, expected {check_digit(gtin[:-1])}"
        )
    qualifiers: list[tuple[str, str]] = []
    for index in range(2, len(keys), 2):
        ai, value = keys[index], unquote(keys[index + 1])
        if ai not in QUALIFIERS:
            raise InvalidDigitalLink(uri, f"AI {ai} is not a key qualifier of a GTIN (22, 10, 21)")
        if qualifiers and QUALIFIERS.index(ai) <= QUALIFIERS.index(qualifiers[-1][0]):
            raise InvalidDigitalLink(uri, "key qualifiers must appear once each, in the order 22, 10, 21")
        _check_value(uri, ai, value)
        qualifiers.append((ai, value))
    attributes = [
        (name, value) for name, value in parse_qsl(query, keep_blank_values=True) if _AI.fullmatch(name)
    ]
    for ai, value in attributes:
        if not value or not _CSET82.fullmatch(value):
            raise InvalidDigitalLink(uri, f"the value of AI {ai} must be characters of GS1 set 82")
    return DigitalLink(gtin.zfill(14), tuple(qualifiers), tuple(attributes))


def _check_value(uri: str, ai: str, value: str) -> None:
    name = QUALIFIER_NAMES[ai]
    if not 1 <= len(value) <= MAX_QUALIFIER_CHARS:
        raise InvalidDigitalLink(uri, f"the {name} (AI {ai}) must be 1-{MAX_QUALIFIER_CHARS} characters")
    if not _CSET82.fullmatch(value):
        raise InvalidDigitalLink(uri, f"the {name} (AI {ai}) holds characters outside GS1 set 82")


def canonical_uri(product_id: str, base: str) -> str | None:
    """The canonical Digital Link URI of a GS1-identified product id on the resolver at `base`
    (a Digital Link URI on any host, or a bare GTIN); None for every other identifier."""
    if is_digital_link(product_id):
        try:
            return parse(product_id).uri(base)
        except InvalidDigitalLink:
            return None
    if valid_gtin(product_id):
        return DigitalLink(product_id.zfill(14)).uri(base)
    return None


def product_key(product_id: str) -> str:
    """The key a product is looked up by: one per GS1 identification whatever form or host it is
    written in (`gs1:/01/<gtin14>[/22/..][/10/..][/21/..]`, data attributes left out), else the
    product id itself."""
    if is_digital_link(product_id):
        try:
            return "gs1:" + parse(product_id).path()
        except InvalidDigitalLink:
            return product_id
    if valid_gtin(product_id):
        return "gs1:" + DigitalLink(product_id.zfill(14)).path()
    return product_id


def link_key(link: DigitalLink) -> str:
    return "gs1:" + link.path()
