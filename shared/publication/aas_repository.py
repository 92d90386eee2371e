"""The read-only AAS repository (IDTA-01002 Part 2 v3.0: the SSP-002 read profiles of the AAS
repository and the submodel repository) and the AAS Discovery lookup, over the passports as
`shared.publication.aas` exports them.

- **Ids.** A shell is `{passport URL}/aas`, a submodel `{passport URL}/submodels/{idShort}`; in
  paths they are base64url (RFC 4648 §5, padding optional). An id decodes back to its passport id
  strictly (this deployment's passport URL, one canonically percent-encoded segment), so every read
  by id is a point read of that passport: 400 for what is no base64url UTF-8, 404 for an id that
  names no passport here.
- **The reader's view.** Everything is built from `PassportService.view`, as the EN 18222 reads
  are: a withheld section has no submodel (and is not listed), a withheld element is not in its
  submodel. Addressing a restricted section or element answers what the EN 18222 element read
  answers (401 without a token, 403 with one, whether it exists or not).
- **Listings** page through the search index's listing partitions (`SearchIndex.listed`): single-
  partition queries of derived data that follows the change feed, so a passport is listed within
  that lag of its creation. Each listed id is re-read (a point read of its head), so a deleted one
  is never listed and what is shown is current.
- **Discovery** by `globalAssetId` (the product id) is the product-id lookup, a point read.
"""

from __future__ import annotations

import binascii
import json
import re
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import unquote

from shared.access.authentication import Principal
from shared.access.authorization import refuse_restricted
from shared.documents.id_shorts import RESERVED_SUBMODELS, id_shorts
from shared.documents.members import sections
from shared.documents.model import validate_identifier
from shared.documents.text import is_multi_language
from shared.passports.records import PassportItem
from shared.passports.service import PassportService, PassportView
from shared.platform.cursors import decode_cursor, encode_cursor
from shared.platform.encoding import b64url, b64url_decode
from shared.platform.errors import BadRequest, DppError, ErrorCode, NotFound
from shared.platform.parameters import bounded_int
from shared.publication import aas
from shared.publication.search import LISTING_TERMS, SearchIndex

if TYPE_CHECKING:
    from basyx.aas import model

T = TypeVar("T")

SSP = "https://admin-shell.io/aas/API/3/0/"
PROFILES = (
    f"{SSP}AssetAdministrationShellRepositoryServiceSpecification/SSP-002",
    f"{SSP}SubmodelRepositoryServiceSpecification/SSP-002",
    f"{SSP}DiscoveryServiceSpecification/SSP-002",
)
DEFAULT_LIMIT, MAX_LIMIT = 100, 100
LEVELS = ("deep", "core")
EXTENTS = ("withoutBlobValue", "withBlobValue")
GLOBAL_ASSET_ID = "globalAssetId"
_BASE64URL = re.compile(r"[A-Za-z0-9_-]+={0,2}")
_ID_SHORT_PATH = re.compile(r"([A-Za-z][A-Za-z0-9_-]*)((?:\[[0-9]{1,9}\])*)")
_INDEX = re.compile(r"\[([0-9]+)\]")
# Collections whose children `level=core` leaves out.
_NESTING = ("SubmodelElementCollection", "SubmodelElementList", "Entity")


def not_found(what: str) -> NotFound:
    return NotFound(f"No {what} found", code=ErrorCode.NOT_FOUND)


def decode_identifier(raw: str, name: str) -> str:
    """The text of a base64url path or query value (IDTA-01002: without padding, which is tolerated)."""
    if not _BASE64URL.fullmatch(raw) or len(raw.rstrip("=")) % 4 == 1:
        raise BadRequest(f"'{name}' is not base64url", code=ErrorCode.INVALID_IDENTIFIER)
    try:
        return b64url_decode(raw.rstrip("=")).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise BadRequest(
            f"'{name}' is not base64url of UTF-8 text", code=ErrorCode.INVALID_IDENTIFIER
        ) from None


def encode_identifier(text: str) -> str:
    return b64url(text.encode("utf-8"))


def parse_limit(raw: str | None) -> int:
    return bounded_int(
        raw, "limit", low=1, high=MAX_LIMIT, default=DEFAULT_LIMIT, code=ErrorCode.INVALID_LIMIT
    )


def parse_choice(raw: str | None, name: str, choices: tuple[str, ...]) -> str:
    """A query parameter of fixed values (`level`, `extent`): the first is the default."""
    if raw is None or raw == "":
        return choices[0]
    if raw not in choices:
        raise BadRequest(f"'{name}' must be one of {', '.join(choices)}", code=ErrorCode.INVALID_PARAMETER)
    return raw


def parse_asset_ids(raw: str | None) -> list[tuple[str, str]]:
    """`assetIds`: base64url SpecificAssetId objects (`{"name", "value"}`), comma-separated when
    several (a comma is no base64url character)."""
    found = []
    for part in (raw or "").split(","):
        if not part:
            continue
        try:
            asset = json.loads(decode_identifier(part, "assetIds"))
        except ValueError:
            asset = None
        if not isinstance(asset, dict) or not all(isinstance(asset.get(k), str) for k in ("name", "value")):
            raise BadRequest(
                '\'assetIds\' must be base64url SpecificAssetId objects {"name", "value"}',
                code=ErrorCode.INVALID_PARAMETER,
            )
        found.append((asset["name"], asset["value"]))
    return found


def parse_id_short_path(raw: str) -> tuple[str | int, ...]:
    """`Materials[1].name` → ('Materials', 1, 'name'): idShorts and list indexes (IDTA-01002)."""
    steps: list[str | int] = []
    for part in raw.split("."):
        found = _ID_SHORT_PATH.fullmatch(part)
        if found is None:
            raise BadRequest(f"'{raw[:200]}' is no idShortPath", code=ErrorCode.INVALID_ELEMENT_PATH)
        steps.append(found.group(1))
        steps.extend(int(index) for index in _INDEX.findall(found.group(2)))
    return tuple(steps)


def serialised(obj: Any) -> Any:
    """A BaSyx object as AAS JSON (BaSyx's own encoder), as plain JSON values."""
    from basyx.aas.adapter.json import AASToJsonEncoder

    return json.loads(json.dumps(obj, cls=AASToJsonEncoder))


def reference_of(referable: Any) -> Any:
    from basyx.aas import model

    return serialised(model.ModelReference.from_referable(referable))


def value_only(element: Any) -> Any:
    """The ValueOnly serialisation of an element (IDTA-01002 §11.4.3)."""
    from basyx.aas import model
    from basyx.aas.model import datatypes

    if isinstance(element, model.Property):
        value = element.value
        # JSON's own types where the XSD type has one; every other value in its XSD form.
        plain = value is None or isinstance(value, bool | int | float)
        return value if plain else datatypes.xsd_repr(value)
    if isinstance(element, model.MultiLanguageProperty):
        return [{language: text} for language, text in (element.value or {}).items()]
    if isinstance(element, model.SubmodelElementCollection):
        return {child.id_short: value_only(child) for child in element.value}
    if isinstance(element, model.SubmodelElementList):
        return [value_only(child) for child in element.value]
    if isinstance(element, model.File):
        return {"contentType": element.content_type, "value": element.value}
    return None


def _children(element: Any) -> Sequence[Any]:
    from basyx.aas import model

    if isinstance(element, model.Submodel):
        return list(element.submodel_element)
    if isinstance(element, model.SubmodelElementCollection | model.SubmodelElementList):
        return list(element.value)
    return []


def id_short_paths(element: Any, path: str, deep: bool) -> list[str]:
    """The idShortPaths below an element (a submodel's start at its elements), deep or one level."""
    from basyx.aas import model

    found = []
    for index, child in enumerate(_children(element)):
        if isinstance(element, model.SubmodelElementList):
            child_path = f"{path}[{index}]"
        else:
            child_path = f"{path}.{child.id_short}" if path else str(child.id_short)
        found.append(child_path)
        if deep:
            found.extend(id_short_paths(child, child_path, deep))
    return found


def metadata(encoded: dict[str, Any]) -> dict[str, Any]:
    """The Metadata modifier: the object without its values (or, for a submodel, its elements)."""
    return {key: value for key, value in encoded.items() if key not in ("value", "submodelElements")}


def core(encoded: dict[str, Any]) -> dict[str, Any]:
    """`level=core`: the object and its direct children, without their children."""

    def shallow(child: Any) -> Any:
        if isinstance(child, dict) and child.get("modelType") in _NESTING:
            return {key: value for key, value in child.items() if key not in ("value", "statements")}
        return child

    for key in ("submodelElements", "value", "statements"):
        if isinstance(encoded.get(key), list):
            encoded = {**encoded, key: [shallow(child) for child in encoded[key]]}
    return encoded


@dataclass(frozen=True)
class Page:
    """One page of a listing: its items and the cursor of the next page, if any."""

    result: list[Any]
    cursor: str | None

    def body(self) -> dict[str, Any]:
        paging = {"cursor": self.cursor} if self.cursor else {}
        return {"paging_metadata": paging, "result": self.result}


@dataclass(frozen=True)
class Passport:
    """A passport as one reader sees it, as AAS: its head, the view, the shell and submodels."""

    head: PassportItem
    view: PassportView
    shell: model.AssetAdministrationShell
    submodels: list[model.Submodel]

    def submodel(self, identifier: str) -> model.Submodel | None:
        return next((found for found in self.submodels if found.id == identifier), None)


class AasIds:
    """Shell and submodel ids of this deployment, and their strict decoding to a passport id."""

    def __init__(self, links: aas.AasLinks):
        self.links = links
        self.prefix = links.passport("")

    def passport_id(self, identifier: str, suffix: str) -> str | None:
        """The passport id of `{prefix}{one encoded segment}{suffix…}`, or None."""
        if not identifier.startswith(self.prefix):
            return None
        segment, slash, rest = identifier[len(self.prefix) :].partition("/")
        if not slash or not rest.startswith(suffix):
            return None
        try:
            dpp_id = unquote(segment, errors="strict")
        except UnicodeDecodeError:
            return None
        if not dpp_id:
            return None
        try:
            return validate_identifier(dpp_id, "id")
        except DppError:
            return None

    # One id per passport: only the spelling the export writes (its percent-encoding too) is its id.

    def shell(self, identifier: str) -> str:
        dpp_id = self.passport_id(identifier, "aas")
        if dpp_id is None or identifier != aas.shell_id(self.links, dpp_id):
            raise not_found("shell with this id")
        return dpp_id

    def submodel(self, identifier: str) -> tuple[str, str]:
        dpp_id = self.passport_id(identifier, "submodels/")
        short = identifier.rpartition("/")[2]
        if dpp_id is None or identifier != aas.submodel_id(self.links, dpp_id, short):
            raise not_found("submodel with this id")
        return dpp_id, short


class AasRepository:
    def __init__(self, service: PassportService, index: SearchIndex, lookups: Executor, public_url: str):
        self.service = service
        self.index = index
        self.lookups = lookups
        self.public_url = public_url

    # -- one passport --------------------------------------------------------------------------

    def _passport(self, head: PassportItem, principal: Principal, links: aas.AasLinks) -> Passport:
        view = self.service.view(head, principal)
        shell, submodels = aas.shell_and_submodels(view, links, self.public_url)
        return Passport(head, view, shell, submodels)

    def passport(self, dpp_id: str, principal: Principal, links: aas.AasLinks) -> Passport:
        try:
            head = self.service.read(dpp_id)
        except NotFound:
            raise not_found("shell with this id") from None
        return self._passport(head, principal, links)

    def shell(self, raw_id: str, principal: Principal, links: aas.AasLinks) -> Passport:
        """The passport of a base64url shell id."""
        dpp_id = AasIds(links).shell(decode_identifier(raw_id, "aasIdentifier"))
        return self.passport(dpp_id, principal, links)

    def submodel(
        self, raw_id: str, principal: Principal, links: aas.AasLinks, shell: Passport | None = None
    ) -> tuple[Passport, model.Submodel]:
        """The submodel of a base64url submodel id (of `shell`'s passport, when given): a
        restricted section is refused as the EN 18222 element read refuses it."""
        identifier = decode_identifier(raw_id, "submodelIdentifier")
        dpp_id, short = AasIds(links).submodel(identifier)
        if shell is not None and dpp_id != shell.head["dppId"]:
            raise not_found("submodel with this id in this shell")
        found = shell or self.passport(dpp_id, principal, links)
        key = _section_key(found.head["document"], short)
        # A section the passport lacks is refused as its element read refuses it: by the rules alone.
        ruled = key if key is not None or short in RESERVED_SUBMODELS else short
        if ruled is not None:
            self.service.access.refuse_unreadable(principal, found.head, (ruled,))
        submodel = found.submodel(identifier)
        if submodel is None:
            if key is not None:
                refuse_restricted(principal)  # the section exists: withheld as a whole
            raise not_found("submodel with this id")
        return found, submodel

    def element(
        self, passport: Passport, submodel: model.Submodel, raw_path: str, principal: Principal
    ) -> tuple[Any, str]:
        """The element at an idShortPath of a submodel, and its idShortPath as written."""
        steps = parse_id_short_path(raw_path)
        key = _section_key(passport.head["document"], str(submodel.id_short))
        if key is not None:
            segments, exists = _document_segments(passport.head["document"][key], steps)
            self.service.access.refuse_unreadable(principal, passport.head, (key, *segments))
        else:
            exists = False
        element = _find(submodel, steps)
        if element is None:
            if exists:
                refuse_restricted(principal)  # there, but inside what the reader is not shown
            raise not_found(f"submodel element '{raw_path[:200]}'")
        return element, raw_path

    # -- listings ------------------------------------------------------------------------------

    def shells(
        self,
        principal: Principal,
        links: aas.AasLinks,
        *,
        limit: int,
        cursor: str | None,
        id_short: str | None,
        asset_ids: list[tuple[str, str]],
    ) -> tuple[list[Passport], str | None]:
        """Shells, filtered by idShort and asset ids as GetAllAssetAdministrationShells says."""
        if id_short not in (None, "", aas.SHELL_ID_SHORT):
            decode_cursor(cursor, ["aas-shells-none"], "this listing")
            return [], None
        if asset_ids:
            decode_cursor(cursor, ["aas-shells-by-asset"], "this listing")
            found = self._by_asset_ids(asset_ids, principal, links)
            return ([found] if found else []), None

        def expand(heads: list[PassportItem]) -> list[list[Passport]]:
            return [[self._passport(head, principal, links)] for head in heads]

        return self._walk(["aas-shells", str(limit)], cursor, limit, expand)

    def submodels(
        self, principal: Principal, links: aas.AasLinks, *, limit: int, cursor: str | None
    ) -> tuple[list[model.Submodel], str | None]:
        def expand(heads: list[PassportItem]) -> list[list[model.Submodel]]:
            return [self._passport(head, principal, links).submodels for head in heads]

        return self._walk(["aas-submodels", str(limit)], cursor, limit, expand)

    def _walk(
        self,
        query: list[str],
        cursor: str | None,
        limit: int,
        expand: Callable[[list[PassportItem]], list[list[T]]],
    ) -> tuple[list[T], str | None]:
        """Up to `limit` items of the passports in the listing partitions, in their order. The
        cursor is (partition, the store's continuation of the index page, items of it already
        sent), so a passport with several items (submodels) may span pages."""
        bucket, continuation, skip = _listing_position(decode_cursor(cursor, query, "this listing"))
        items: list[T] = []
        while bucket < len(LISTING_TERMS) and len(items) < limit:
            ids, token = self.index.listed(LISTING_TERMS[bucket], continuation, limit)
            found = self.lookups.map(self.service.passports.head, ids)
            heads = [head for head in found if head is not None and not head["deleted"]]
            page = [item for group in expand(heads) for item in group][skip:]
            wanted = limit - len(items)
            if len(page) > wanted:
                items.extend(page[:wanted])
                return items, encode_cursor([bucket, continuation, skip + wanted], query)
            items.extend(page)
            skip = 0
            bucket, continuation = (bucket, token) if token else (bucket + 1, None)
        if bucket >= len(LISTING_TERMS):
            return items, None
        return items, encode_cursor([bucket, continuation, 0], query)

    # -- serialization -------------------------------------------------------------------------

    def serialization(
        self, aas_ids: str | None, submodel_ids: str | None, principal: Principal, links: aas.AasLinks
    ) -> model.DictIdentifiableStore[model.Identifiable]:
        """GenerateSerializationByIds: the shells and submodels named (comma-separated base64url
        ids); with none named, the first page of the listing, each shell with its submodels."""
        from basyx.aas import model

        objects: list[model.Identifiable] = []
        for raw in _split(aas_ids):
            objects.append(self.shell(raw, principal, links).shell)
        for raw in _split(submodel_ids):
            objects.append(self.submodel(raw, principal, links)[1])
        if not aas_ids and not submodel_ids:
            found, _ = self.shells(
                principal, links, limit=DEFAULT_LIMIT, cursor=None, id_short=None, asset_ids=[]
            )
            for passport in found:
                objects.extend([passport.shell, *passport.submodels])
        unique = {obj.id: obj for obj in objects}
        return model.DictIdentifiableStore(unique.values())

    # -- discovery -----------------------------------------------------------------------------

    def _by_asset_ids(
        self, asset_ids: list[tuple[str, str]], principal: Principal, links: aas.AasLinks
    ) -> Passport | None:
        """The shell whose asset has every one of `asset_ids`: found by its globalAssetId (the
        product id: the product-id lookup, a point read); without one, none (no scan)."""
        products = {value for name, value in asset_ids if name == GLOBAL_ASSET_ID}
        if len(products) != 1:
            return None
        head = self.service.passports.live_head_for_product(products.pop())
        if head is None:
            return None
        found = self._passport(head, principal, links)
        links_held = set(asset_links(found.view.document, self.public_url))
        return found if all(pair in links_held for pair in asset_ids) else None

    def lookup_shells(
        self, raw_asset_ids: str | None, principal: Principal, links: aas.AasLinks, *, cursor: str | None
    ) -> list[str]:
        """GetAllAssetAdministrationShellIdsByAssetLink: the ids of the shells with these asset ids."""
        asset_ids = parse_asset_ids(raw_asset_ids)
        decode_cursor(cursor, ["aas-lookup"], "this lookup")
        found = self._by_asset_ids(asset_ids, principal, links) if asset_ids else None
        return [found.shell.id] if found else []

    def asset_links(self, raw_id: str, principal: Principal, links: aas.AasLinks) -> list[dict[str, str]]:
        """GetAllAssetLinksById: the asset ids of a shell."""
        found = self.shell(raw_id, principal, links)
        held = asset_links(found.view.document, self.public_url)
        return [{"name": name, "value": value} for name, value in held]


def asset_links(document: dict[str, Any], public_url: str) -> list[tuple[str, str]]:
    """The asset ids of a passport's shell: its globalAssetId, and its Digital Link URI if any."""
    from shared.documents.digital_link import canonical_uri

    product_id = str(document["uniqueProductIdentifier"])
    link = canonical_uri(product_id, public_url)
    return [(GLOBAL_ASSET_ID, product_id), *([(aas.DIGITAL_LINK_ASSET_ID, link)] if link else [])]


def _split(raw: str | None) -> list[str]:
    return [part for part in (raw or "").split(",") if part]


def _listing_position(position: Any) -> tuple[int, str | None, int]:
    if position is None:
        return 0, None, 0
    valid = (
        isinstance(position, list)
        and len(position) == 3
        and isinstance(position[0], int)
        and 0 <= position[0] < len(LISTING_TERMS)
        and (position[1] is None or (isinstance(position[1], str) and position[1]))
        and isinstance(position[2], int)
        and 0 <= position[2] <= MAX_LIMIT * 64
    )
    if not valid:
        raise BadRequest("'cursor' is not a cursor this service issued", code=ErrorCode.INVALID_CURSOR)
    return position[0], position[1], position[2]


def _section_key(document: dict[str, Any], short: str) -> str | None:
    """The content section a submodel idShort stands for (None: DppMetadata, Artifacts, none)."""
    return id_shorts(sections(document), RESERVED_SUBMODELS).get(short)


def _document_segments(value: Any, steps: Iterable[str | int]) -> tuple[tuple[str | int, ...], bool]:
    """The document path of an idShortPath inside a section (the keys its idShorts stand for, as far
    as the document has them), and whether the whole path is there."""
    segments: list[str | int] = []
    for step in steps:
        if isinstance(step, str) and isinstance(value, dict):
            key = id_shorts(value).get(step, step)
            segments.append(key)
            if key not in value:
                return tuple(segments), False
            value = value[key]
        elif isinstance(step, int) and isinstance(value, list) and not is_multi_language(value):
            segments.append(step)
            if step >= len(value):
                return tuple(segments), False
            value = value[step]
        else:
            # Past the document's members (a scalar's `value` wrapper, inside texts): rules name
            # members only, so the path so far is what the policy decides on.
            return tuple(segments), False
    return tuple(segments), True


def _find(submodel: Any, steps: tuple[str | int, ...]) -> Any:
    from basyx.aas import model

    current: Any = submodel
    for step in steps:
        if isinstance(step, int):
            if not isinstance(current, model.SubmodelElementList) or step >= len(current.value):
                return None
            current = list(current.value)[step]
            continue
        children = _children(current) if not isinstance(current, model.SubmodelElementList) else []
        current = next((child for child in children if child.id_short == step), None)
        if current is None:
            return None
    return current if current is not submodel else None


@dataclass(frozen=True)
class Reply:
    """What a read of the submodel interface answers: a JSON body, or a redirect to a file."""

    body: Any = None
    location: str | None = None


MODIFIERS = ("$metadata", "$value", "$reference", "$path")


def submodel_read(submodel: model.Submodel, tail: list[str], params: dict[str, str | None]) -> Reply:
    """GetSubmodel and its modifiers ([] or one of `MODIFIERS`), GetAllSubmodelElements and its
    modifiers (`submodel-elements[/$…]`), GetSubmodelElementByPath and its modifiers
    (`submodel-elements/{idShortPath}[/$…|/attachment]`); `tail` holds the decoded segments after
    the submodel id, and the element's idShortPath is resolved by the caller (`element_read`)."""
    deep = parse_choice(params.get("level"), "level", LEVELS) == "deep"
    parse_choice(params.get("extent"), "extent", EXTENTS)  # no Blob elements: both extents are one
    if not tail or (len(tail) == 1 and tail[0] in MODIFIERS):
        return Reply(_of_submodel(submodel, tail[0] if tail else "", deep))
    if tail[0] == "submodel-elements" and (len(tail) == 1 or (len(tail) == 2 and tail[1] in MODIFIERS)):
        modifier = tail[1] if len(tail) == 2 else ""
        shown = [
            _of_element(element, str(element.id_short), modifier, deep)
            for element in submodel.submodel_element
        ]
        if modifier == "$path":  # one list of idShortPaths, each element's followed by those below it
            shown = [path for paths in shown for path in paths]
        scope = f"{submodel.id}\nelements{modifier}"
        items, cursor = offset_page(shown, scope, parse_limit(params.get("limit")), params.get("cursor"))
        return Reply(Page(items, cursor).body())
    raise not_found("such operation on a submodel")


def element_read(element: Any, path: str, modifier: str, params: dict[str, str | None]) -> Reply:
    """GetSubmodelElementByPath with `modifier` ('', one of `MODIFIERS`, or 'attachment')."""
    from basyx.aas import model

    deep = parse_choice(params.get("level"), "level", LEVELS) == "deep"
    parse_choice(params.get("extent"), "extent", EXTENTS)
    if modifier == "attachment":
        if not isinstance(element, model.File) or not element.value:
            raise BadRequest(f"'{path[:200]}' is no File with a value", code=ErrorCode.INVALID_ELEMENT_PATH)
        # The artifact is served (and guarded) by its own route: the File's value names it.
        return Reply(location=element.value)
    if modifier == "$path" and not isinstance(
        element, model.SubmodelElementCollection | model.SubmodelElementList
    ):
        raise BadRequest(
            f"'{path[:200]}' has no idShortPaths below it (not a collection or list)",
            code=ErrorCode.INVALID_ELEMENT_PATH,
        )
    if modifier not in ("", *MODIFIERS):
        raise not_found("such operation on a submodel element")
    return Reply(_of_element(element, path, modifier, deep, alone=True))


def _of_submodel(submodel: model.Submodel, modifier: str, deep: bool) -> Any:
    if modifier == "$reference":
        return reference_of(submodel)
    if modifier == "$path":
        return id_short_paths(submodel, "", deep)
    if modifier == "$value":
        return {str(child.id_short): value_only(child) for child in submodel.submodel_element}
    encoded = serialised(submodel)
    if modifier == "$metadata":
        return metadata(encoded)
    return encoded if deep else core(encoded)


def _of_element(element: Any, path: str, modifier: str, deep: bool, alone: bool = False) -> Any:
    if modifier == "$reference":
        return reference_of(element)
    if modifier == "$path":
        below = id_short_paths(element, path, deep)
        return [path, *below] if alone or deep else [path]
    if modifier == "$value":
        value = value_only(element)
        return {str(element.id_short): value} if element.id_short else value
    encoded = serialised(element)
    if modifier == "$metadata":
        return metadata(encoded)
    return encoded if deep else core(encoded)


def offset_page(items: list[T], scope: str, limit: int, cursor: str | None) -> tuple[list[T], str | None]:
    """A page of a list the passport holds itself (a submodel's elements, a shell's references)."""
    query = [scope, str(limit)]
    position = decode_cursor(cursor, query, "this listing")
    offset = 0 if position is None else position
    if not isinstance(offset, int) or isinstance(offset, bool) or not 0 <= offset <= len(items):
        raise BadRequest("'cursor' is not a cursor this service issued", code=ErrorCode.INVALID_CURSOR)
    following = offset + limit
    return items[offset:following], encode_cursor(following, query) if following < len(items) else None


def first_key(reference: dict[str, Any]) -> str:
    """What references are ordered by (a shell holds its submodels' as a set)."""
    return str(reference["keys"][0]["value"])
