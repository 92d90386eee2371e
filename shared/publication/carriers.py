"""Data carriers (EN 18220): a passport's carrier URI as a QR code or a DataMatrix (PNG or SVG),
or as an NFC NDEF message holding one URI record.

QR codes come from `segno`, DataMatrix symbols from `zxing-cpp`'s writer, NDEF messages from
`ndeflib`: maintained libraries, imported on first use so a cold start that renders nothing does
not load them. The DataMatrix carries the Digital Link URI as its text (GS1 allows a Digital Link
URI in a Data Matrix); its PNG is written by `png_gray` below, eight-bit grayscale, because
zxing-cpp hands back pixels, not files.
"""

from __future__ import annotations

import io
import struct
import zlib
from dataclasses import dataclass
from typing import Any

from shared.passports import core_data
from shared.passports.records import PassportItem
from shared.platform.errors import BadRequest, ErrorCode
from shared.platform.parameters import bounded_int

FORMATS = ("png", "svg", "ndef")
SYMBOLOGIES = ("qr", "datamatrix")
ERROR_LEVELS = ("L", "M", "Q", "H")
MEDIA_TYPES = {"png": "image/png", "svg": "image/svg+xml", "ndef": "application/octet-stream"}
MAX_SCALE, MAX_BORDER = 40, 16
DEFAULTS = {"scale": 8, "border": 4, "ec": "M"}


@dataclass(frozen=True)
class CarrierRequest:
    format: str = "png"
    symbology: str = "qr"
    scale: int = 8
    border: int = 4  # quiet zone, in modules (QR: 4 by ISO/IEC 18004; DataMatrix: at least 1)
    ec: str = "M"  # QR error correction level


@dataclass(frozen=True)
class Carrier:
    data: bytes
    media_type: str
    symbol_version: str | None  # the QR version, or the DataMatrix size
    encoded: str


def _choice(value: str | None, allowed: tuple[str, ...], name: str, default: str) -> str:
    chosen = (value or default).strip()
    if chosen.lower() not in {option.lower() for option in allowed}:
        raise BadRequest(f"'{name}' must be one of {', '.join(allowed)}", code=ErrorCode.INVALID_PARAMETER)
    return next(option for option in allowed if option.lower() == chosen.lower())


def _number(value: str | None, name: str, default: int, low: int, high: int) -> int:
    return bounded_int(value, name, low=low, high=high, default=default)


def parse_request(params: dict[str, str | None]) -> CarrierRequest:
    return CarrierRequest(
        format=_choice(params.get("format"), FORMATS, "format", "png"),
        symbology=_choice(params.get("symbology"), SYMBOLOGIES, "symbology", "qr"),
        scale=_number(params.get("scale"), "scale", 8, 1, MAX_SCALE),
        border=_number(params.get("border"), "border", 4, 1, MAX_BORDER),
        ec=_choice(params.get("ec"), ERROR_LEVELS, "ec", "M"),
    )


def render(content: str, request: CarrierRequest) -> Carrier:
    if request.format == "ndef":
        return Carrier(ndef_message(content), MEDIA_TYPES["ndef"], None, content)
    if request.symbology == "qr":
        return _qr(content, request)
    return _datamatrix(content, request)


def _qr(content: str, request: CarrierRequest) -> Carrier:
    import segno

    code = segno.make(content, error=request.ec.lower(), micro=False, boost_error=False)
    if request.format == "png":
        # segno's own PNG writer is pure Python per pixel (~100 ms here); its matrix is all we need.
        rows = [bytes(0 if dark else 255 for dark in row) for row in code.matrix]
        data = png_gray(_scaled(rows, request.scale, request.border))
    else:
        out = io.BytesIO()
        code.save(out, kind="svg", scale=request.scale, border=request.border)
        data = out.getvalue()
    return Carrier(data, MEDIA_TYPES[request.format], str(code.version), content)


def _datamatrix(content: str, request: CarrierRequest) -> Carrier:
    import zxingcpp

    symbol = zxingcpp.create_barcode(content, zxingcpp.BarcodeFormat.DataMatrix)
    rows = _modules(symbol)
    if request.format == "svg":
        # zxing-cpp's own quiet zone for vectors; `border` sizes the PNG's.
        data = symbol.to_svg(scale=request.scale, add_quiet_zones=True).encode("utf-8")
    else:
        data = png_gray(_scaled(rows, request.scale, request.border))
    return Carrier(data, MEDIA_TYPES[request.format], f"{len(rows[0])}x{len(rows)}", content)


def _modules(symbol: Any) -> list[bytes]:
    """The symbol's modules, one byte each (0 dark, 255 light), row by row."""
    image = memoryview(symbol.to_image(scale=1, add_quiet_zones=False))
    height, width = image.shape or (0, 0)
    pixels = image.tobytes()
    return [pixels[row * width : (row + 1) * width] for row in range(height)]


def _scaled(rows: list[bytes], scale: int, border: int) -> list[bytes]:
    """Pixels per module `scale`, and `border` white modules round the symbol (its quiet zone)."""
    width = (len(rows[0]) + 2 * border) * scale
    blank = b"\xff" * width
    margin = b"\xff" * (border * scale)
    dark, light = b"\x00" * scale, b"\xff" * scale
    out = [blank] * (border * scale)
    for row in rows:
        line = margin + b"".join(dark if pixel < 128 else light for pixel in row) + margin
        out.extend([line] * scale)
    out.extend([blank] * (border * scale))
    return out


def png_gray(rows: list[bytes]) -> bytes:
    """An 8-bit grayscale PNG (RFC 2083) of `rows` (equal lengths, 0 black, 255 white)."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body))
            + kind
            + body
            + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)
        )

    header = struct.pack(">IIBBBBB", len(rows[0]), len(rows), 8, 0, 0, 0, 0)
    raw = b"".join(b"\x00" + row for row in rows)  # filter type 0 (None) per scanline
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw, 9))
        + chunk(b"IEND", b"")
    )


def ndef_message(uri: str) -> bytes:
    """An NDEF message (NFC Forum) of one URI record."""
    import ndef

    return b"".join(ndef.message_encoder([ndef.UriRecord(uri)]))


def carrier_content(head: PassportItem, base: str) -> str:
    """What a passport's carrier encodes: its carrier URI, with its core data token when it has one."""
    return core_data.carrier_text(
        core_data.carrier_uri(head["productId"], head["dppId"], base), head.get("coreToken")
    )
