"""The operator registry: which product identifiers each economic operator may issue passports for.

An authority assigns each operator namespaces: `productIdPrefixes` (URN and URL prefixes such as
`urn:pierriecardin:` or `https://id.example.com/acme/`) and `gs1CompanyPrefixes` (for GTIN-based
identifiers, see `shared.documents.identifiers`). A passport may only be created for a product id
inside its operator's namespaces; no two operators' namespaces overlap.

All assignments are one item (`namespaces`) in the `operators` container, replaced with If-Match,
so an overlap check and the write it guards are atomic. Creates read it through a short
per-instance cache: a changed assignment holds on every instance within CACHE_SECONDS.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from typing import Any, TypedDict, cast

from shared.access.authentication import Principal
from shared.access.authorization import Action, authorize
from shared.documents.identifiers import trade_item
from shared.platform.clock import now_ts
from shared.platform.errors import (
    BadRequest,
    Conflict,
    ErrorCode,
    Forbidden,
    NotFound,
    ServiceUnavailable,
)
from shared.storage.cosmos import OPERATORS, ItemChanged, ItemExists, Store, without_system

REGISTRY_ID = "namespaces"
CACHE_SECONDS = 30.0
MAX_NAMESPACES = 100
MAX_PREFIX_CHARS = 512
WRITE_ATTEMPTS = 5
# A URN prefix names at least its namespace (`urn:nid:`); a URL prefix at least its host and a `/`.
_URN_PREFIX = re.compile(r"^urn:[A-Za-z0-9][A-Za-z0-9-]{0,31}:", re.IGNORECASE)
_URL_PREFIX = re.compile(r"^https?://[^/?#\s]+/", re.IGNORECASE)
_COMPANY_PREFIX = re.compile(r"^[0-9]{4,12}$")


class Assignment(TypedDict):
    operatorId: str
    productIdPrefixes: list[str]
    gs1CompanyPrefixes: list[str]
    updatedAt: str
    updatedBy: str


def require_authority(principal: Principal) -> None:
    """The registry is the authorities' alone, to read and to change (401, 403)."""
    authorize(Action.MANAGE_OPERATORS, principal, None)


def parse_namespaces(body: Any) -> tuple[list[str], list[str]]:
    """`(productIdPrefixes, gs1CompanyPrefixes)` of an assignment request, or a 400 naming the fault."""
    if not isinstance(body, dict) or set(body) - {"productIdPrefixes", "gs1CompanyPrefixes"}:
        raise _invalid('Send {"productIdPrefixes": [...], "gs1CompanyPrefixes": [...]}')
    prefixes = _strings(body.get("productIdPrefixes", []), "productIdPrefixes")
    companies = _strings(body.get("gs1CompanyPrefixes", []), "gs1CompanyPrefixes")
    for prefix in prefixes:
        if len(prefix) > MAX_PREFIX_CHARS or any(ord(ch) < 0x21 for ch in prefix):
            raise _invalid(f"'productIdPrefixes' entry {prefix[:80]!r} is too long or holds blanks")
        if not (_URN_PREFIX.match(prefix) or _URL_PREFIX.match(prefix)):
            raise _invalid(
                f"'productIdPrefixes' entry {prefix[:80]!r} must be a URN prefix naming its namespace "
                "('urn:<nid>:...') or a URL prefix naming its host ('https://<host>/...')"
            )
    for company in companies:
        if not _COMPANY_PREFIX.match(company):
            raise _invalid(f"'gs1CompanyPrefixes' entry {company[:80]!r} must be 4 to 12 digits")
    return list(dict.fromkeys(prefixes)), list(dict.fromkeys(companies))


def _strings(value: Any, name: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(item, str) and item for item in value):
        raise _invalid(f"'{name}' must be a list of non-empty strings")
    if len(value) > MAX_NAMESPACES:
        raise _invalid(f"'{name}' may hold at most {MAX_NAMESPACES} entries")
    return value


def _invalid(text: str) -> BadRequest:
    return BadRequest(text, code=ErrorCode.INVALID_NAMESPACES)


def _overlap(a: str, b: str) -> bool:
    return a.startswith(b) or b.startswith(a)


def _clash(
    assignments: dict[str, Assignment], operator_id: str, prefixes: list[str], companies: list[str]
) -> str | None:
    """What an assignment would share with another operator's, described; None when nothing."""
    for other, theirs in assignments.items():
        if other == operator_id:
            continue
        for mine in prefixes:
            for held in theirs["productIdPrefixes"]:
                if _overlap(mine, held):
                    return f"product id prefix {mine!r} overlaps {held!r} of operator '{other}'"
        for mine in companies:
            for held in theirs["gs1CompanyPrefixes"]:
                if _overlap(mine, held):
                    return f"GS1 company prefix {mine} overlaps {held} of operator '{other}'"
    return None


def covers(assignment: Assignment | None, product_id: str) -> bool:
    """Whether `product_id` lies inside the namespaces of `assignment`."""
    if assignment is None:
        return False
    item = trade_item(product_id)
    if item is not None:
        return any(item.has_company_prefix(prefix) for prefix in assignment["gs1CompanyPrefixes"])
    return any(product_id.startswith(prefix) for prefix in assignment["productIdPrefixes"])


class OperatorRegistry:
    def __init__(self, store: Store, *, clock: Callable[[], float] = time.monotonic):
        self.store = store
        self._clock = clock
        self._lock = threading.Lock()
        self._cached: tuple[dict[str, Assignment], float] | None = None

    # -- the authority's operations --------------------------------------------------------------

    def assign(self, operator_id: str, body: Any, principal: Principal) -> Assignment:
        """Replace the operator's namespaces; refused (409) when they overlap another operator's."""
        require_authority(principal)
        prefixes, companies = parse_namespaces(body)
        for _ in range(WRITE_ATTEMPTS):
            stored, assignments = self._load()
            clash = _clash(assignments, operator_id, prefixes, companies)
            if clash is not None:
                raise Conflict(f"Namespaces overlap: {clash}", code=ErrorCode.NAMESPACE_OVERLAP)
            assignment: Assignment = {
                "operatorId": operator_id,
                "productIdPrefixes": prefixes,
                "gs1CompanyPrefixes": companies,
                "updatedAt": now_ts(),
                "updatedBy": principal.subject,
            }
            item = {
                "id": REGISTRY_ID,
                "registry": REGISTRY_ID,
                "operators": {**assignments, operator_id: assignment},
            }
            try:
                if stored is None:
                    self.store.create(OPERATORS, item)
                else:
                    self.store.replace(OPERATORS, {**without_system(stored), **item}, stored["_etag"])
            except (ItemExists, ItemChanged):
                continue  # another assignment got in first: check against it
            with self._lock:
                self._cached = (cast(dict[str, Assignment], item["operators"]), self._clock())
            return assignment
        raise ServiceUnavailable(
            "The operator registry kept changing; retry",
            code=ErrorCode.WRITE_CONTENTION,
            headers={"Retry-After": "1"},
        )

    def read(self, operator_id: str, principal: Principal) -> Assignment:
        require_authority(principal)
        assignment = self._assignments(fresh=True).get(operator_id)
        if assignment is None:
            raise NotFound(
                f"No namespaces are assigned to operator '{operator_id}'", code=ErrorCode.OPERATOR_NOT_FOUND
            )
        return assignment

    # -- the rule every create follows --------------------------------------------------------------

    def known(self, operator_id: str) -> bool:
        """Whether the registry assigns `operator_id` any namespace (the service issues for it)."""
        return operator_id in self._assignments()

    def check_product_id(self, operator_id: str, product_id: str) -> None:
        """Refuse (403) a passport for a product id outside its operator's namespaces."""
        assignment = self._assignments().get(operator_id)
        if covers(assignment, product_id):
            return
        if assignment is None:
            detail = "no namespaces are assigned to it"
        else:
            detail = (
                f"its namespaces are productIdPrefixes {assignment['productIdPrefixes']} and "
                f"gs1CompanyPrefixes {assignment['gs1CompanyPrefixes']}"
            )
        raise Forbidden(
            f"Operator '{operator_id}' may not issue a passport for product '{product_id}': "
            f"{detail} (an authority assigns them with the operator registry)",
            code=ErrorCode.PRODUCT_ID_NOT_ASSIGNED,
        )

    def _assignments(self, *, fresh: bool = False) -> dict[str, Assignment]:
        with self._lock:
            cached = self._cached
            if not fresh and cached is not None and self._clock() - cached[1] < CACHE_SECONDS:
                return cached[0]
        _, assignments = self._load()
        with self._lock:
            self._cached = (assignments, self._clock())
        return assignments

    def _load(self) -> tuple[dict[str, Any] | None, dict[str, Assignment]]:
        """The stored registry item (None before the first assignment) and its assignments."""
        stored = self.store.read(OPERATORS, REGISTRY_ID, REGISTRY_ID)
        return stored, cast(dict[str, Assignment], (stored or {}).get("operators", {}))
