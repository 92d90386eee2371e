"""Data carriers with offline core data: QR codes and DataMatrix symbols decoded by an independent
decoder (zxing-cpp's reader on images Pillow or Chromium produce), NDEF messages checked byte by
byte against the NFC Forum URI record and with ndeflib, the decoded URI followed to the resolver,
and its core token verified with nothing but the published keys."""

from __future__ import annotations

import io
import json
import uuid
from typing import Any

import ndef
import pytest
import zxingcpp
from jwcrypto import jwk, jws
from PIL import Image

from tests.support.browser import artifact_path
from tests.support.documents import enc, gtin14, make_passport
from tests.support.presentations import b64json
from tests.support.results import assert_result


def decode_png(data: bytes) -> tuple[str, str]:
    (found,) = zxingcpp.read_barcodes(Image.open(io.BytesIO(data)))
    return found.text, found.format.name


def core_claims(content: str, keys: dict[str, Any]) -> dict[str, Any]:
    """Verify the carrier's core token offline: only the JWKS, fetched once, is needed."""
    token = content.split("#core=", 1)[1]
    verified = jws.JWS()
    verified.deserialize(token)
    (key,) = [k for k in keys["keys"] if k["kid"] == verified.jose_header["kid"]]
    verified.verify(jwk.JWK(**key))
    assert verified.jose_header["typ"] == "dpp-core+jwt"
    return json.loads(verified.payload)


@pytest.fixture(scope="module")
def keys(api: str, http: Any) -> dict[str, Any]:
    return http.get(f"{api}/v1/keys").json()


@pytest.fixture(scope="module")
def seeded(seed_copy: Any) -> dict[str, Any]:
    """A copy of `make run`'s seed passport (a URN product id), under its own ids."""
    return seed_copy()


@pytest.fixture(scope="module")
def gs1_passport(api: str, http: Any, auth: dict[str, str]) -> dict[str, Any]:
    gtin = gtin14("09506" + str(uuid.uuid4().int)[:8])
    document = make_passport(
        uniqueProductIdentifier=f"https://id.gs1.org/01/{gtin}/21/SN-42",
        nameplate={"ProductName": [{"value": "Trail shoe", "language": "en"}]},
        composition={"upper": "recycled polyester 80%", "sole": "natural rubber"},
        sustainability={"carbonFootprintKgCO2e": 7.4},
        supplychain={"tier1": "restricted-factory-name"},
    )
    assert http.post(f"{api}/v1/dpps", json=document, headers=auth).status_code == 201
    return {**document, "gtin": gtin}


def carrier(http: Any, api: str, dpp_id: str, **params: str) -> Any:
    return http.get(f"{api}/v1/dpps/{enc(dpp_id)}/carrier", params=params)


@pytest.mark.parametrize("symbology", ["qr", "datamatrix"])
def test_png_carriers_decode_to_the_resolver_uri_with_verifiable_core_data(
    symbology: str, api: str, http: Any, gs1_passport: dict[str, Any], keys: dict[str, Any], root: Any
):
    response = carrier(http, api, gs1_passport["digitalProductPassportId"], symbology=symbology, format="png")
    assert response.status_code == 200 and response.headers["Content-Type"] == "image/png"
    content, symbol = decode_png(response.content)
    assert symbol == ("QRCode" if symbology == "qr" else "DataMatrix")
    uri = content.split("#", 1)[0]
    assert uri == f"{root.settings.public_url}/01/{gs1_passport['gtin']}/21/SN-42"
    claims = core_claims(content, keys)
    assert claims["u"] == uri and "id" not in claims  # the Digital Link URI is the identification
    assert (claims["n"], claims["s"], claims["l"]) == ("Trail shoe", "Valid", "v1")
    assert claims["f"] == {
        "composition": "upper recycled polyester 80%, sole natural rubber",
        "carbonFootprint": "7.4",
    }
    assert "restricted-factory-name" not in json.dumps(claims)  # only what anonymous readers see
    # The decoded URI is the resolver's: followed on this host, it reaches the passport.
    local = content.replace(root.settings.public_url, api.rsplit("/api", 1)[0])
    followed = http.get(local.split("#", 1)[0], headers={"Accept": "application/json"})
    assert followed.json()["digitalProductPassportId"] == gs1_passport["digitalProductPassportId"]


def test_svg_carriers_decode_once_a_browser_draws_them(api, http, gs1_passport, browser, pages):
    for symbology in ("qr", "datamatrix"):
        response = carrier(
            http, api, gs1_passport["digitalProductPassportId"], symbology=symbology, format="svg", scale="3"
        )
        assert response.headers["Content-Type"].startswith("image/svg+xml")
        browser.get(pages.origin("other") + "/")
        browser.execute_script(
            "document.body.style.margin = '40px'; document.body.innerHTML = arguments[0];", response.text
        )
        shot = browser.get_screenshot_as_png()
        artifact_path(f"carrier-{symbology}.png").write_bytes(shot)
        content, _ = decode_png(shot)
        assert content.startswith("http") and "#core=" in content


def test_the_ndef_message_is_one_uri_record(api, http, gs1_passport, keys):
    response = carrier(http, api, gs1_passport["digitalProductPassportId"], format="ndef")
    assert response.headers["Content-Type"] == "application/octet-stream"
    message = response.content
    # NFC Forum NDEF: one record (MB and ME set), TNF 1 (well-known), type length 1, type "U"; a
    # payload of 256 bytes or more takes a 4-byte length (SR clear); then the URI identifier code
    # (0x03 "http://", 0x04 "https://") and the rest of the URI.
    flags, type_length = message[0], message[1]
    assert flags & 0xC0 == 0xC0 and flags & 0x07 == 1 and not flags & 0x08 and type_length == 1
    short = bool(flags & 0x10)
    length = message[2] if short else int.from_bytes(message[2:6], "big")
    start = 3 if short else 6
    assert message[start : start + 1] == b"U" and length == len(message) - start - 1
    assert message[start + 1] in (0x03, 0x04)
    (record,) = list(ndef.message_decoder(message))
    assert isinstance(record, ndef.UriRecord)
    assert core_claims(record.iri, keys)["s"] == "Valid"


def test_the_seed_and_a_long_named_passport_stay_printable(api, http, auth, seeded):
    seed = carrier(http, api, seeded["digitalProductPassportId"], ec="M")
    assert int(seed.headers["DPP-Carrier-Symbol"]) <= 20
    assert (
        decode_png(seed.content)[0].split("#", 1)[0].endswith(f"/p/{enc(seeded['digitalProductPassportId'])}")
    )
    long_name = make_passport(
        nameplate={"ProductName": [{"value": "An extraordinarily long product name " * 8, "language": "en"}]},
        composition={"fibres": "organic cotton 95 percent, elastane 5 percent " * 6},
    )
    assert http.post(f"{api}/v1/dpps", json=long_name, headers=auth).status_code == 201
    long = carrier(http, api, long_name["digitalProductPassportId"], ec="M")
    assert int(long.headers["DPP-Carrier-Symbol"]) <= 20
    assert int(long.headers["DPP-Carrier-Bytes"]) <= 666
    content, _ = decode_png(long.content)
    token = content.split("#core=", 1)[1]
    payload = b64json(token.split(".")[1])
    assert payload["n"].endswith("…") and len(payload["n"]) <= 48  # shortened, signature kept
    assert len(token.split(".")) == 3


def test_the_core_token_is_kept_while_its_claims_hold_and_reissued_when_they_change(api, http, auth):
    document = make_passport(supplychain={"tier1": "first"})
    assert http.post(f"{api}/v1/dpps", json=document, headers=auth).status_code == 201
    dpp_id = document["digitalProductPassportId"]
    url = f"{api}/v1/dpps/{enc(dpp_id)}"

    def current() -> str:
        return decode_png(carrier(http, api, dpp_id).content)[0]

    before = current()
    assert http.patch(url, json={"supplychain": {"tier1": "another"}}, headers=auth).status_code == 200
    assert current() == before  # no core claim changed: no second signature
    assert http.post(f"{url}/revoke", json={"reason": "Recall 7"}, headers=auth).status_code == 200
    after = current()
    assert after != before and b64json(after.split("#core=")[1].split(".")[1])["s"] == "Revoked"


def test_bad_carrier_requests_are_400(api, http, gs1_passport):
    dpp_id = gs1_passport["digitalProductPassportId"]
    for params in ({"format": "gif"}, {"symbology": "aztec"}, {"scale": "0"}, {"scale": "x"}, {"ec": "Z"}):
        assert_result(carrier(http, api, dpp_id, **params), 400, "InvalidParameter")
    assert_result(carrier(http, api, "urn:nothing"), 404, "PassportNotFound")
