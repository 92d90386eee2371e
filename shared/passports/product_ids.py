"""ReadDPPIdsByProductIds: request body forms, limits and the opaque cursor."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from shared.platform.cursors import decode_cursor, encode_cursor
from shared.platform.errors import BadRequest, ErrorCode
from shared.platform.parameters import bounded_int

MAX_PRODUCT_IDS = 100
DEFAULT_LIMIT = 100
MAX_LIMIT = 1000

ProductId = Annotated[str, StringConstraints(strict=True, min_length=1, max_length=1024, pattern=r"\S")]


class ProductIdsRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    productIds: list[ProductId] = Field(min_length=1, max_length=MAX_PRODUCT_IDS)


def parse_product_ids(body: Any) -> list[str]:
    """Accept `{"productIds": [...]}`, a bare array, or `{"productId": [...]}` (seen in clients)."""
    if isinstance(body, list):
        body = {"productIds": body}
    elif isinstance(body, dict) and "productId" in body and "productIds" not in body:
        body = {"productIds": body["productId"], **{k: v for k, v in body.items() if k != "productId"}}
    if not isinstance(body, dict):
        raise BadRequest(
            "The body must be a JSON object with 'productIds' or a JSON array", code=ErrorCode.INVALID_BODY
        )
    try:
        return ProductIdsRequest.model_validate(body).productIds
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        where = ".".join(str(part) for part in first["loc"])
        raise BadRequest(
            f"Invalid product id list at '{where}': {first['msg']} "
            f"(1 to {MAX_PRODUCT_IDS} non-blank strings under 'productIds', no other fields)",
            code=ErrorCode.INVALID_PRODUCT_IDS,
        ) from None


def parse_limit(raw: str | None) -> int:
    return bounded_int(
        raw, "limit", low=1, high=MAX_LIMIT, default=DEFAULT_LIMIT, code=ErrorCode.INVALID_LIMIT
    )


def encode_offset(offset: int, product_ids: list[str]) -> str:
    return encode_cursor(offset, product_ids)


def decode_offset(cursor: str | None, product_ids: list[str]) -> int:
    """The offset a cursor stands for; a cursor from another query is refused, not misread."""
    offset = decode_cursor(cursor, product_ids, "this list of product ids")
    if offset is None:
        return 0
    if not isinstance(offset, int) or isinstance(offset, bool) or offset < 0:
        raise BadRequest("'cursor' is not a cursor this service issued", code=ErrorCode.INVALID_CURSOR)
    return offset
