"""Cover images for demo posts: a colourful gradient with a short title, made with
Pillow in a few milliseconds. The same arguments always give the same JPEG bytes."""

from __future__ import annotations

import io
import random
import textwrap
import threading
import unicodedata
from functools import cache

from PIL import Image, ImageDraw, ImageFont

WIDTH, HEIGHT = 480, 640

# (top, bottom) colour pairs: warm, fresh, dusky, bright
PALETTES = (
    ((255, 154, 139), (255, 106, 136)),
    ((255, 210, 128), (242, 112, 89)),
    ((132, 250, 176), (143, 211, 244)),
    ((161, 140, 209), (251, 194, 235)),
    ((250, 208, 196), (255, 209, 255)),
    ((67, 233, 123), (56, 249, 215)),
    ((48, 207, 208), (51, 8, 103)),
    ((255, 8, 68), (255, 177, 153)),
    ((246, 211, 101), (253, 160, 133)),
    ((102, 126, 234), (118, 75, 162)),
    ((240, 147, 251), (245, 87, 108)),
    ((79, 172, 254), (0, 242, 254)),
    ((168, 237, 234), (254, 214, 227)),
    ((210, 153, 194), (254, 249, 215)),
    ((19, 84, 122), (128, 208, 199)),
    ((255, 236, 210), (252, 182, 159)),
)


_fonts = threading.local()  # a FreeType face is not for two threads at once


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    cached: dict[int, ImageFont.FreeTypeFont | ImageFont.ImageFont] = _fonts.__dict__.setdefault("by_size", {})
    if size not in cached:
        cached[size] = ImageFont.load_default(size=size)
    return cached[size]


@cache
def _ramp(height: int) -> Image.Image:
    return Image.linear_gradient("L").resize((1, height))


def _gradient(size: tuple[int, int], top: tuple[int, int, int], bottom: tuple[int, int, int]) -> Image.Image:
    """A vertical gradient: one column coloured channel by channel, then stretched."""
    ramp = _ramp(size[1])
    channels = [ramp.point([a + (b - a) * v // 255 for v in range(256)]) for a, b in zip(top, bottom, strict=True)]
    return Image.merge("RGB", channels).resize(size, Image.Resampling.NEAREST)


def cover(title: str, label: str, rng: random.Random, size: tuple[int, int] = (WIDTH, HEIGHT)) -> bytes:
    """A JPEG: a vertical two-colour gradient, a soft circle, ``label`` (e.g. ``#beauty``)
    at the top and ``title`` (ASCII; the default font has no CJK glyphs) at the bottom."""
    width, height = size
    top, bottom = rng.choice(PALETTES)
    if rng.random() < 0.5:
        top, bottom = bottom, top
    img = _gradient(size, top, bottom)
    draw = ImageDraw.Draw(img, "RGBA")
    r = rng.randint(width // 4, width // 2)
    cx, cy = rng.randint(0, width), rng.randint(height // 6, height // 2)
    draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=(255, 255, 255, 60))
    margin = width // 12
    draw.text((margin, margin), label, font=_font(width // 18), fill=(255, 255, 255, 230))
    lines = textwrap.wrap(title, width=16)[:4] or [" "]
    size_px = width // 11
    y = height - margin - len(lines) * int(size_px * 1.25)
    draw.rectangle((0, y - margin // 2, width, height), fill=(0, 0, 0, 70))
    draw.multiline_text(
        (margin, y), "\n".join(lines), font=_font(size_px), fill=(255, 255, 255, 255), spacing=size_px // 4
    )
    out = io.BytesIO()
    img.save(out, "JPEG", quality=80)
    return out.getvalue()


def ascii_part(text: str) -> str:
    """The English half of a bilingual title (it comes last), in letters the default
    font can draw ("周末咖啡馆打卡 Weekend café find" → "Weekend cafe find")."""
    last_cjk = max((i for i, ch in enumerate(text) if ord(ch) >= 0x2E80), default=-1)
    plain = (ch for ch in unicodedata.normalize("NFKD", text[last_cjk + 1 :]) if not unicodedata.combining(ch))
    kept = "".join(ch if ch.isascii() else " " for ch in plain)
    return " ".join(kept.split())
