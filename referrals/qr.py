"""The invite link as a QR code: PNG (downloads, the poster, the mobile app) and SVG (the page; sharp at any size).
Error correction M (15 %): a printed poster survives a crease or a thumb; the quiet zone is the standard 4 modules,
so any phone camera finds the code on a busy background."""

from __future__ import annotations

import io

import qrcode
import qrcode.constants
import qrcode.image.svg
from PIL import Image

BORDER = 4  # modules of quiet zone around the code


def _qr(text: str, *, box_size: int) -> qrcode.QRCode:
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=box_size, border=BORDER)
    code.add_data(text)
    code.make(fit=True)
    return code


def qr_image(text: str, *, size: int) -> Image.Image:
    """`text` as a black-on-white QR code about `size` pixels square (whole pixels per module, so edges stay sharp)."""
    modules = _qr(text, box_size=1).modules_count + 2 * BORDER
    box = max(2, size // modules)
    image = _qr(text, box_size=box).make_image(fill_color="black", back_color="white")
    return image.get_image().convert("RGB")


def qr_png(text: str, *, size: int = 480) -> bytes:
    out = io.BytesIO()
    qr_image(text, size=size).save(out, format="PNG")
    return out.getvalue()


def qr_svg(text: str) -> bytes:
    """`text` as a standalone SVG document (a white background and one path; no style, no script)."""
    image = _qr(text, box_size=10).make_image(image_factory=qrcode.image.svg.SvgPathFillImage)
    return image.to_string(encoding="utf-8")
