"""Issue 14's search findings: a limit that is not ASCII digits and a forged cursor were 500s."""

from __future__ import annotations

import pytest

from shared.platform.cursors import encode_cursor
from shared.publication.search import parse_query
from tests.support.results import assert_result


@pytest.mark.parametrize(
    "limit",
    [
        "\N{SUPERSCRIPT TWO}",
        "\N{ARABIC-INDIC DIGIT FIVE}",
        " 5",
        "5 ",
        "+5",
        "-1",
        "0",
        "1e2",
        "99999999999999999999",
    ],
)
def test_a_limit_that_is_not_plain_digits_in_range_is_a_400(api, http, limit):
    response = http.get(f"{api}/v1/dpp/search", params={"keyword": "x", "limit": limit})
    assert_result(response, 400, "InvalidLimit")


@pytest.mark.parametrize("continuation", ["", 42, [1], {"o": 1}])
def test_a_forged_cursor_is_a_400(api, http, continuation):
    query = parse_query(None, None, "polo", None)
    forged = encode_cursor(continuation, query.fingerprint())
    response = http.get(f"{api}/v1/dpp/search", params={"keyword": "polo", "cursor": forged})
    assert_result(response, 400, "InvalidCursor")


@pytest.mark.parametrize("continuation", ["garbage", '{"token":"-RID:~x","range":{"min":"","max":"FF"}}'])
def test_a_made_up_continuation_is_never_a_500(api, http, continuation):
    """Cosmos DB refuses a continuation it did not issue (400, which the store turns into
    InvalidCursor); the local stand-in starts the search again. Neither is a 500."""
    query = parse_query(None, None, "polo", None)
    forged = encode_cursor(continuation, query.fingerprint())
    response = http.get(f"{api}/v1/dpp/search", params={"keyword": "polo", "cursor": forged})
    if response.status_code == 400:
        assert_result(response, 400, "InvalidCursor")
    else:
        assert response.status_code == 200 and isinstance(response.json(), list)


def test_a_continuation_the_store_refuses_is_an_invalid_cursor():
    from azure.cosmos.exceptions import CosmosHttpResponseError

    from shared.platform.errors import BadRequest
    from shared.storage.cosmos import _continuation_checked

    with pytest.raises(BadRequest) as refused, _continuation_checked("made-up"):
        raise CosmosHttpResponseError(status_code=400, message="Invalid continuation token")
    assert refused.value.code == "InvalidCursor"
    with pytest.raises(CosmosHttpResponseError), _continuation_checked(None):  # not a cursor's fault
        raise CosmosHttpResponseError(status_code=400, message="bad query")
