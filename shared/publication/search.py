"""Passport search: an index of normalised keywords and issuers, one partition per term.

Each live passport has one small entry per term it can be found by (`kw:<keyword>` for every
keyword of its public content, `issuer:<economicOperatorId>`), in the `searchIndex` container
partitioned by term. A search therefore reads ONE partition: the first keyword's (further
keywords are `ARRAY_CONTAINS` filters on the stored keyword list), or the issuer's. No search
scans documents, and none crosses partitions.

Every live passport also has one entry in one of sixteen listing partitions (`list:0` to `list:f`,
by the first digit of its entry id), so a listing of all passports (the AAS repository's `/shells`
and `/submodels`) pages through sixteen single-partition queries, never a scan; as derived data it
trails writes by the change feed's lag.

Keywords come only from what anonymous readers may see (the public view under the access
policy), so a search never reveals restricted data by what it matches. The index follows the
passports' change feed, off the write path (`shared.publication.derived`), written as a diff
against the entries of the version indexed before, and hits are re-checked against the current
passport when read.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from shared.access.disclosure import Shown
from shared.documents.lifecycle import REVOKED, SUPERSEDED, VALID
from shared.documents.members import sections
from shared.passports.records import PassportItem
from shared.platform.cursors import decode_cursor, encode_cursor
from shared.platform.errors import BadRequest, ErrorCode
from shared.platform.parameters import bounded_int
from shared.storage.cosmos import SEARCH_INDEX, Store

MAX_KEYWORDS = 48
MIN_KEYWORD, MAX_KEYWORD = 2, 40
MAX_QUERY_KEYWORDS = 5
DEFAULT_LIMIT, MAX_LIMIT = 20, 100
STATUSES = (VALID, REVOKED, SUPERSEDED)
# Words that would put most passports into one partition and find nothing in particular.
STOPWORDS = frozenset(
    [
        "and",
        "the",
        "for",
        "with",
        "from",
        "of",
        "to",
        "in",
        "on",
        "by",
        "an",
        "or",
        "at",
        "as",
        "is",
        "it",
        "its",
        "this",
        "that",
        "are",
        "be",
        "und",
        "der",
        "die",
        "das",
        "mit",
        "von",
        "fur",
        "im",
        "am",
        "ein",
        "eine",
        "ist",
        "le",
        "la",
        "les",
        "des",
        "du",
        "et",
        "en",
        "un",
        "une",
    ]
)
_SPLIT = re.compile(r"[\W_]+", re.UNICODE)

PublicView = Callable[[PassportItem], Shown]


def normalise(text: str) -> list[str]:
    """Lower-case, accent-free word tokens of `text` (`Grüne Baumwolle` -> `grune`, `baumwolle`)."""
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(char for char in decomposed if not unicodedata.combining(char)).casefold()
    return [token for token in _SPLIT.split(plain) if token]


def _strings(value: Any) -> Iterable[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for member in value.values():
            yield from _strings(member)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def keywords(public_document: dict[str, Any]) -> list[str]:
    """The keywords a passport is found by: words of its public content sections, first seen first."""
    found: dict[str, None] = {}
    for value in sections(public_document).values():
        for text in _strings(value):
            for token in normalise(text):
                if (
                    MIN_KEYWORD <= len(token) <= MAX_KEYWORD
                    and not token.isdigit()
                    and token not in STOPWORDS
                ):
                    found.setdefault(token, None)
                    if len(found) >= MAX_KEYWORDS:
                        return list(found)
    return list(found)


def entry_id(dpp_id: str) -> str:
    # Item ids may not hold `/ \\ ? #`, which passport ids may.
    return hashlib.sha256(dpp_id.encode("utf-8")).hexdigest()


LISTING_TERMS = tuple(f"list:{digit}" for digit in "0123456789abcdef")


def listing_term(dpp_id: str) -> str:
    return f"list:{entry_id(dpp_id)[0]}"


def entries(head: PassportItem | None, public_view: PublicView) -> dict[str, dict[str, Any]]:
    """The index entries of a stored version item (a head), by term; none for a deleted passport."""
    if head is None or head.get("deleted"):
        return {}
    document = head["document"]
    words = keywords(public_view(head).document)
    issuer = document["economicOperatorId"]
    body = {
        "id": entry_id(head["dppId"]),
        "dppId": head["dppId"],
        "productId": document["uniqueProductIdentifier"],
        "issuer": issuer,
        "status": head["lifecycle"]["status"],
        "keywords": words,
    }
    terms = [f"issuer:{issuer}", listing_term(head["dppId"]), *(f"kw:{word}" for word in words)]
    return {term: {**body, "term": term} for term in terms}


@dataclass(frozen=True)
class SearchQuery:
    issuer: str | None
    status: str | None
    words: tuple[str, ...]
    limit: int

    def fingerprint(self) -> list[str]:
        return [self.issuer or "", self.status or "", *self.words, str(self.limit)]


def parse_query(
    issuer: str | None, status: str | None, keyword: str | None, limit: str | None
) -> SearchQuery:
    issuer = issuer.strip() if issuer and issuer.strip() else None
    words = tuple(dict.fromkeys(normalise(keyword or "")))
    if not words and (keyword or "").strip():
        raise BadRequest("'keyword' has no letters or digits to search for", code=ErrorCode.INVALID_KEYWORD)
    if len(words) > MAX_QUERY_KEYWORDS:
        raise BadRequest(f"At most {MAX_QUERY_KEYWORDS} keywords per search", code=ErrorCode.INVALID_KEYWORD)
    if not words and issuer is None:
        raise BadRequest(
            "Search needs 'keyword' or 'issuer' (searches are index lookups, never scans)",
            code=ErrorCode.MISSING_SEARCH_TERM,
        )
    if status is not None and status not in STATUSES:
        raise BadRequest(f"'status' must be one of {', '.join(STATUSES)}", code=ErrorCode.INVALID_STATUS)
    return SearchQuery(issuer, status, words, _limit(limit))


def _limit(raw: str | None) -> int:
    return bounded_int(
        raw, "limit", low=1, high=MAX_LIMIT, default=DEFAULT_LIMIT, code=ErrorCode.INVALID_LIMIT
    )


class SearchIndex:
    def __init__(self, store: Store, public_view: PublicView):
        self.store = store
        self.public_view = public_view

    def apply(self, before: PassportItem | None, after: PassportItem) -> None:
        """Move the index from `before`'s entries to `after`'s; idempotent, so safe to repeat."""
        old = entries(before, self.public_view)
        new = entries(after, self.public_view)
        for term, entry in new.items():
            if old.get(term) != entry:
                self.store.upsert(SEARCH_INDEX, entry)
        for term in old.keys() - new.keys():
            self.store.remove(SEARCH_INDEX, old[term]["id"], term)

    def find(self, query: SearchQuery, cursor: str | None) -> tuple[list[dict[str, Any]], str | None]:
        """One page of matching index entries and the cursor of the next page."""
        continuation = decode_cursor(cursor, query.fingerprint(), "this search")
        if continuation is not None and (not isinstance(continuation, str) or not continuation):
            raise BadRequest("'cursor' is not a cursor this service issued", code=ErrorCode.INVALID_CURSOR)
        term = f"kw:{query.words[0]}" if query.words else f"issuer:{query.issuer}"
        # The term predicate repeats the partition key, which the local stand-in ignores.
        clauses = ["c.term = @term"]
        parameters: dict[str, Any] = {"@term": term}
        if query.words and query.issuer:
            clauses.append("c.issuer = @issuer")
            parameters["@issuer"] = query.issuer
        if query.status in (VALID, REVOKED):
            clauses.append("c.status = @status")
            parameters["@status"] = query.status
        elif query.status == SUPERSEDED:
            # Only current versions are indexed; a superseded label is never a search hit.
            return [], None
        for number, word in enumerate(query.words[1:]):
            clauses.append(f"ARRAY_CONTAINS(c.keywords, @k{number})")
            parameters[f"@k{number}"] = word
        # Clauses are fixed text; every value is a bound parameter.
        sql = "SELECT c.dppId, c.issuer, c.status, c.keywords FROM c WHERE " + " AND ".join(clauses)  # noqa: S608
        rows, token = self.store.query_page(
            SEARCH_INDEX,
            sql,
            parameters,
            term,
            page_size=query.limit,
            continuation=continuation,
        )
        return rows, encode_cursor(token, query.fingerprint()) if token else None

    def listed(self, term: str, continuation: str | None, page_size: int) -> tuple[list[str], str | None]:
        """One page of the passport ids in listing partition `term` (one of LISTING_TERMS), and
        the store's continuation of it."""
        rows, token = self.store.query_page(
            SEARCH_INDEX,
            "SELECT c.dppId FROM c WHERE c.term = @term",
            {"@term": term},
            term,
            page_size=page_size,
            continuation=continuation,
        )
        return [row["dppId"] for row in rows], token

    @staticmethod
    def still_matches(query: SearchQuery, head: PassportItem, public_document: dict[str, Any]) -> bool:
        """Whether the current passport (a live head, and its public view) still answers the query:
        the index may trail a write."""
        document = head["document"]
        if query.issuer and document["economicOperatorId"] != query.issuer:
            return False
        if query.status and head["lifecycle"]["status"] != query.status:
            return False
        words = set(keywords(public_document))
        return all(word in words for word in query.words)
