"""QR codes and posters: the QR in the PNG, the SVG and the poster decodes back to the invite link (zxing-cpp reads
them as a phone would); the poster sets Chinese in the CJK font (real glyphs, not tofu boxes); posters are cached
and drawn again when the campaign's banner or slogan changes."""

from __future__ import annotations

import io
from pathlib import Path
from xml.etree import ElementTree

import pytest
import zxingcpp
from django.core.files.base import ContentFile
from django.utils import timezone
from PIL import Image, ImageChops, ImageFont

from accounts.models import User
from campaigns.builders import campaign_live
from campaigns.models import Campaign
from campaigns.services import campaign_save
from config.fonts import BOLD_FONT, REGULAR_FONT
from referrals import poster
from referrals.poster import poster_png, poster_render
from referrals.qr import qr_png, qr_svg

LINK = "https://points.example.com/r/7K3M9P2Q4R/"
CODE = "7K3M9P2Q4R"
SLOGAN = "签到赚积分，好礼抽不停"
CJK = pytest.mark.skipif(not Path(REGULAR_FONT).exists(), reason="fonts-noto-cjk is not installed (make browsers)")


def decoded(data: bytes) -> list[str]:
    return [result.text for result in zxingcpp.read_barcodes(Image.open(io.BytesIO(data)))]


def member(**fields: object) -> User:
    return User(pk=7, display_name="小明", phone="+8613900000007", language="zh-hans", **fields)


def carnival(**fields: object) -> Campaign:
    return Campaign(pk=3, name="双十一积分狂欢节", name_en="Double 11 Points Carnival", theme=SLOGAN,
                    theme_en="Check in, earn points, win prizes", **fields)  # fmt: skip


def test_the_png_qr_decodes_to_the_link() -> None:
    for size in (200, 480, 1000):
        data = qr_png(LINK, size=size)
        assert decoded(data) == [LINK]
        assert abs(Image.open(io.BytesIO(data)).width - size) < size * 0.2


def test_the_svg_qr_renders_and_decodes_to_the_link() -> None:
    svg = qr_svg(LINK).decode()
    assert svg.startswith("<svg")
    assert 'fill="white"' in svg
    assert "<script" not in svg
    assert "style" not in svg
    # Rasterise the SVG's unit squares as a phone's camera would see the code.
    root = ElementTree.fromstring(svg)  # noqa: S314 — our own output
    width = int(float(root.attrib["viewBox"].split()[2]))
    path = next(el for el in root.iter() if el.tag.endswith("path")).attrib["d"]
    image = Image.new("L", (width, width), 255)
    for square in path.split("z"):
        if square.startswith("M"):
            x, y = (int(float(v)) for v in square[1:].split("H")[0].split(","))
            image.putpixel((x, y), 0)
    image = image.resize((width * 10, width * 10), Image.Resampling.NEAREST)
    assert [r.text for r in zxingcpp.read_barcodes(image)] == [LINK]


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_the_poster_qr_decodes_to_the_link(language: str) -> None:
    data = poster_render(user=member(), campaign=carnival(), link=LINK, code=CODE, language=language)
    image = Image.open(io.BytesIO(data))
    assert image.size == (750, 1334)
    assert decoded(data) == [LINK]


@pytest.mark.django_db
def test_the_poster_with_a_banner_and_without_a_campaign_decodes_too(tmp_path, settings) -> None:
    settings.MEDIA_ROOT = str(tmp_path)
    campaign = campaign_live(now=timezone.now())
    banner = io.BytesIO()
    Image.new("RGB", (1600, 600), (20, 90, 200)).save(banner, format="JPEG")
    campaign.banner.save("banner.jpg", ContentFile(banner.getvalue()), save=True)
    data = poster_render(user=member(), campaign=campaign, link=LINK, code=CODE, language="zh-hans")
    image = Image.open(io.BytesIO(data)).convert("RGB")
    assert image.getpixel((375, 200)) == pytest.approx((20, 90, 200), abs=8)  # the banner fills the top
    assert decoded(data) == [LINK]
    assert decoded(poster_render(user=member(), campaign=None, link=LINK, code=CODE, language="en")) == [LINK]
    (tmp_path / campaign.banner.name).write_bytes(b"not an image")  # a broken banner: drawn without it
    assert decoded(poster_render(user=member(), campaign=campaign, link=LINK, code=CODE, language="en")) == [LINK]


@CJK
def test_the_poster_sets_chinese_in_the_cjk_font_not_tofu() -> None:
    """Each Chinese character of the slogan is a real glyph of Noto Sans CJK (not its .notdef box), and the poster
    draws it: the same poster drawn with a font that lacks Chinese (Pillow's own) differs where the text is."""
    font = ImageFont.truetype(str(REGULAR_FONT), 32)
    assert "Noto Sans CJK" in " ".join(font.getname())
    notdef = bytes(font.getmask("\U000f0000"))  # a private-use character: no font has it, the .notdef box
    boxes = set()
    for char in "签到赚积分好礼抽不停小明邀请":
        mask = bytes(font.getmask(char))
        assert mask != notdef, char
        boxes.add(mask)
    assert len(boxes) == 14  # fourteen different glyphs, not one box fourteen times
    real = Image.open(io.BytesIO(poster_render(user=member(), campaign=carnival(), link=LINK, code=CODE,
                                               language="zh-hans")))  # fmt: skip
    tofu = Image.open(io.BytesIO(poster_render(user=member(), campaign=carnival(), link=LINK, code=CODE,
                                               language="zh-hans", regular_font="/nonexistent.ttc",
                                               bold_font="/nonexistent.ttc")))  # fmt: skip
    diff = ImageChops.difference(real.convert("RGB"), tofu.convert("RGB")).getbbox()
    assert diff is not None
    assert diff[1] < 600  # the campaign's name and slogan, above the QR code


@CJK
def test_the_poster_uses_the_noto_cjk_files() -> None:
    assert poster.REGULAR_FONT == REGULAR_FONT
    assert poster.BOLD_FONT == BOLD_FONT
    assert Path(BOLD_FONT).exists()


@pytest.mark.django_db
def test_posters_are_cached_and_drawn_again_when_the_artwork_changes(monkeypatch) -> None:
    campaign = campaign_live(now=timezone.now())
    user = member()
    drawn: list[str] = []
    real = poster.poster_render

    def counting(**kwargs: object) -> bytes:
        drawn.append(str(kwargs["language"]))
        return real(**kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(poster, "poster_render", counting)
    first = poster_png(user=user, campaign=campaign, link=LINK, code=CODE)
    assert poster_png(user=user, campaign=campaign, link=LINK, code=CODE) == first
    assert drawn == ["zh-hans"]
    poster_png(user=user, campaign=campaign, link=LINK, code=CODE, language="en")  # another language: another
    assert len(drawn) == 2
    campaign = campaign_save(campaign=campaign, data={"theme": "新的口号"})
    changed = poster_png(user=user, campaign=campaign, link=LINK, code=CODE)
    assert len(drawn) == 3
    assert changed != first
    key = poster.poster_cache_key(user=user, campaign=campaign, link=LINK, code=CODE, language="zh-hans")
    campaign.banner.name = "campaigns/new-banner.png"  # a new upload is a new file name
    with_banner = poster.poster_cache_key(user=user, campaign=campaign, link=LINK, code=CODE, language="zh-hans")
    assert with_banner != key
    monkeypatch.setattr(poster, "ARTWORK_VERSION", poster.ARTWORK_VERSION + 1)  # the drawing changed
    assert poster.poster_cache_key(user=user, campaign=campaign, link=LINK, code=CODE, language="zh-hans") not in (
        key,
        with_banner,
    )
    renamed = member(email="x@example.com")
    renamed.display_name = "小红"
    assert poster.poster_cache_key(user=renamed, campaign=campaign, link=LINK, code=CODE, language="zh-hans") != (
        poster.poster_cache_key(user=user, campaign=campaign, link=LINK, code=CODE, language="zh-hans")
    )
