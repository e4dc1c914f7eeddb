"""QR codes: rendering member cards and coupons, and reading QR photos staff send."""

from __future__ import annotations

import io

import qrcode
import zxingcpp
from PIL import Image, ImageDraw
from qrcode.constants import ERROR_CORRECT_M


def render_png(data: str, *, box_size: int = 10) -> bytes:
    """Render ``data`` as a QR PNG large enough for a phone camera across a counter."""
    code = qrcode.QRCode(error_correction=ERROR_CORRECT_M, box_size=box_size, border=4)
    code.add_data(data)
    code.make(fit=True)
    buffer = io.BytesIO()
    code.make_image(fill_color="black", back_color="white").save(buffer, format="PNG")
    return buffer.getvalue()


def decode(image_bytes: bytes) -> list[str]:
    """Every QR text found in an image (empty when there is none or it is not an image)."""
    try:
        image = Image.open(io.BytesIO(image_bytes))
        image.load()
    except (OSError, ValueError):
        return []
    results = zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)  # type: ignore[arg-type]
    return [result.text for result in results if result.valid]


def render_void_png(data: str, *, box_size: int = 10) -> bytes:
    """The same QR, faded and struck through: what a used or expired coupon shows, so no
    live-looking code stays in the chat."""
    image = Image.open(io.BytesIO(render_png(data, box_size=box_size))).convert("RGB")
    faded = Image.blend(image, Image.new("RGB", image.size, "white"), 0.8)
    draw = ImageDraw.Draw(faded)
    width, height = faded.size
    stroke = max(6, width // 40)
    draw.line((0, 0, width, height), fill=(200, 30, 30), width=stroke)
    draw.line((0, height, width, 0), fill=(200, 30, 30), width=stroke)
    buffer = io.BytesIO()
    faded.save(buffer, format="PNG")
    return buffer.getvalue()
