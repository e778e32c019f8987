"""A member's invite poster: a 750x1334 PNG (a phone screen, what people share in chats) drawn with Pillow — the
campaign's banner (or a drawn background when it has none), the campaign's name and slogan (theme / theme_en), the
member's display name, the QR code of their invite link with the link and code written below it — in the member's
language. Chinese is set in Noto Sans CJK (config/fonts.py); without that font the poster is still drawn, in
Pillow's own font, and says so in the log (Chinese characters would be empty boxes).

Posters are cached (the Django cache) under a key made of the member, the campaign and a digest of everything
drawn — ARTWORK_VERSION (raise it when the drawing changes), the banner file's name (a new upload is a new name),
the campaign's names and slogans, the member's name and language, the link. Changing any of them draws a new poster
on the next request; the old one expires unread."""

from __future__ import annotations

import hashlib
import io
import logging
from dataclasses import dataclass
from pathlib import Path

from django.core.cache import cache
from django.core.files.storage import default_storage
from django.utils import translation
from django.utils.translation import gettext as _
from PIL import Image, ImageDraw, ImageFont, ImageOps, UnidentifiedImageError

from accounts.models import User
from campaigns.models import Campaign
from config.fonts import BOLD_FONT, REGULAR_FONT, Font, font_load, text_lines
from referrals.qr import qr_image

logger = logging.getLogger(__name__)

ARTWORK_VERSION = 1
WIDTH, HEIGHT = 750, 1334
BANNER_HEIGHT = 420
MARGIN = 48
CARD_TOP = 360  # the white card overlaps the banner's foot
QR_SIZE = 420
CACHE_SECONDS = 30 * 24 * 3600
BANNER_MAX_BYTES = 10 * 1024 * 1024

BRAND = (201, 42, 46)
BRAND_DARK = (150, 24, 30)
GOLD = (255, 196, 57)
INK = (33, 33, 33)
MUTED = (97, 97, 97)
WHITE = (255, 255, 255)
Colour = tuple[int, int, int]


@dataclass(frozen=True)
class Texts:
    """What the poster says, in the member's language."""

    title: str
    slogan: str
    invites_you: str
    scan: str
    code_line: str
    link: str


def _texts(*, user: User, campaign: Campaign | None, link: str, code: str) -> Texts:
    """The poster's texts in the active language."""
    name = (user.display_name or "").strip() or user.masked_name
    if campaign is not None:
        title, slogan = campaign.display_name, campaign.display_theme
    else:
        title, slogan = _("Points Mall"), ""
    return Texts(
        title=title,
        slogan=slogan or _("Check in, finish tasks, earn points and redeem gifts."),
        invites_you=_("%(name)s invites you to join") % {"name": name},
        scan=_("Scan the code to sign up: you both get points"),
        code_line=_("Invite code: %(code)s") % {"code": code},
        link=link,
    )


def _font(path: Path | str, size: int) -> Font:
    found = font_load(str(path), size)
    if found is None:
        logger.warning("poster font %s unreadable: Pillow's own font (no Chinese glyphs) is used", path)
        return ImageFont.load_default(size=size)
    return found


def _banner(campaign: Campaign | None) -> Image.Image | None:
    """The campaign's banner, cropped to fill the poster's top, or None (no banner, or a file Pillow cannot read)."""
    if campaign is None or not campaign.banner:
        return None
    try:
        with default_storage.open(str(campaign.banner.name), "rb") as stored:
            data = stored.read(BANNER_MAX_BYTES + 1)
        if len(data) > BANNER_MAX_BYTES:
            raise ValueError("banner over 10 MB")
        with Image.open(io.BytesIO(data)) as opened:
            opened.draft("RGB", (WIDTH * 2, BANNER_HEIGHT * 2))  # JPEG: decode at a reduced size
            image = ImageOps.exif_transpose(opened).convert("RGB")
    except (OSError, ValueError, UnidentifiedImageError, Image.DecompressionBombError):
        logger.warning("campaign %s: banner %s unreadable, poster drawn without it", campaign.pk, campaign.banner.name)
        return None
    return ImageOps.fit(image, (WIDTH, BANNER_HEIGHT), method=Image.Resampling.LANCZOS)


def _background(draw: ImageDraw.ImageDraw) -> None:
    """The drawn background: the brand's red, darker towards the foot, with a few gold and light circles."""
    for y in range(HEIGHT):
        t = y / HEIGHT
        colour = tuple(round(a + (b - a) * t) for a, b in zip(BRAND, BRAND_DARK, strict=True))
        draw.line((0, y, WIDTH, y), fill=colour)
    for x, y, r, fill in (
        (90, 80, 46, GOLD),
        (660, 150, 70, (233, 84, 80)),
        (600, 40, 22, GOLD),
        (170, 260, 30, (233, 84, 80)),
        (40, 1240, 60, (233, 84, 80)),
        (700, 1290, 40, GOLD),
    ):
        draw.ellipse((x - r, y - r, x + r, y + r), fill=fill)


def _centred(
    draw: ImageDraw.ImageDraw,
    text: str,
    *,
    font: Font,
    top: int,
    fill: Colour,
    width: int,
    max_lines: int,
    gap: int,
    dry: bool = False,
) -> int:
    """Draw `text` centred from `top` in at most `max_lines` lines (the last cut with an ellipsis); the y below.
    `dry`: only measure."""
    lines = text_lines(draw, text, font, width)
    if len(lines) > max_lines:
        last = lines[max_lines - 1]
        while last and draw.textlength(last + "…", font=font) > width:
            last = last[:-1]
        lines = [*lines[: max_lines - 1], last.rstrip() + "…"]
    y = top
    for line in lines:
        left, upper, right, lower = draw.textbbox((0, 0), line, font=font)
        if not dry:
            draw.text(((WIDTH - (right - left)) / 2 - left, y - upper), line, font=font, fill=fill)
        y += round(lower - upper) + gap
    return y


def _card(
    image: Image.Image, draw: ImageDraw.ImageDraw, texts: Texts, *, top: int, fonts: dict[str, Font], dry: bool
) -> int:
    """The white card's content from `top`: the slogan, who invites, the QR code, how to use it. Returns the y
    below it (`dry`: only measure)."""
    inner = WIDTH - 4 * MARGIN
    y = top
    if "title" in fonts:  # the banner shows no campaign name of ours: the card starts with it
        y = _centred(draw, texts.title, font=fonts["title"], top=y, fill=BRAND, width=inner, max_lines=2, gap=10,
                     dry=dry) + 16  # fmt: skip
    y = _centred(draw, texts.slogan, font=fonts["slogan"], top=y, fill=INK, width=inner, max_lines=2, gap=10, dry=dry)
    y = _centred(draw, texts.invites_you, font=fonts["invites"], top=y + 22, fill=BRAND, width=inner, max_lines=2,
                 gap=10, dry=dry)  # fmt: skip
    qr = qr_image(texts.link, size=QR_SIZE)
    if not dry:
        image.paste(qr, ((WIDTH - qr.width) // 2, y + 24))
    y += 24 + qr.height + 18
    y = _centred(draw, texts.scan, font=fonts["scan"], top=y, fill=INK, width=inner, max_lines=2, gap=8, dry=dry)
    y = _centred(draw, texts.code_line, font=fonts["code"], top=y + 10, fill=INK, width=inner, max_lines=1, gap=8,
                 dry=dry)  # fmt: skip
    return _centred(draw, texts.link, font=fonts["link"], top=y + 6, fill=MUTED, width=inner, max_lines=2, gap=6,
                    dry=dry)  # fmt: skip


def poster_render(
    *,
    user: User,
    campaign: Campaign | None,
    link: str,
    code: str,
    language: str,
    regular_font: Path | str = REGULAR_FONT,
    bold_font: Path | str = BOLD_FONT,
) -> bytes:
    """Draw the poster (no cache): see the module docstring."""
    with translation.override(language):
        texts = _texts(user=user, campaign=campaign, link=link, code=code)
    image = Image.new("RGB", (WIDTH, HEIGHT), BRAND)
    draw = ImageDraw.Draw(image)
    _background(draw)
    fonts = {
        "slogan": _font(regular_font, 32),
        "invites": _font(bold_font, 36),
        "scan": _font(regular_font, 28),
        "code": _font(bold_font, 30),
        "link": _font(regular_font, 22),
    }
    banner = _banner(campaign)
    if banner is not None:
        image.paste(banner, (0, 0))
        fonts["title"] = _font(bold_font, 40)
    else:  # the campaign's name on the drawn background, where a banner would be
        _centred(draw, texts.title, font=_font(bold_font, 56), top=130, fill=WHITE, width=WIDTH - 2 * MARGIN,
                 max_lines=2, gap=12)  # fmt: skip
    bottom = HEIGHT - MARGIN
    draw.rounded_rectangle((MARGIN, CARD_TOP, WIDTH - MARGIN, bottom), radius=36, fill=WHITE)
    height = _card(image, draw, texts, top=0, fonts=fonts, dry=True)
    top = CARD_TOP + max(36, (bottom - CARD_TOP - height) // 2)
    _card(image, draw, texts, top=top, fonts=fonts, dry=False)
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()


def poster_cache_key(*, user: User, campaign: Campaign | None, link: str, code: str, language: str) -> str:
    parts = [
        str(ARTWORK_VERSION),
        str(campaign.banner.name) if campaign is not None and campaign.banner else "",
        *(
            (campaign.name, campaign.name_en, campaign.theme, campaign.theme_en)
            if campaign is not None
            else ("", "", "", "")
        ),
        user.display_name or "",
        user.phone or "",
        user.email or "",
        language,
        link,
        code,
    ]
    digest = hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:32]
    return f"referrals:poster:{user.pk}:{campaign.pk if campaign is not None else 0}:{digest}"


def poster_png(*, user: User, campaign: Campaign | None, link: str, code: str, language: str | None = None) -> bytes:
    """The member's poster for `campaign` (None: no campaign is featured) in `language` (default: the member's),
    from the cache when nothing drawn on it has changed."""
    language = language or user.language
    key = poster_cache_key(user=user, campaign=campaign, link=link, code=code, language=language)
    cached = cache.get(key)
    if isinstance(cached, bytes):
        return cached
    data = poster_render(user=user, campaign=campaign, link=link, code=code, language=language)
    cache.set(key, data, CACHE_SECONDS)
    return data
