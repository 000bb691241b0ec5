"""Checking uploads by their content (never their name), and making thumbnails."""

from __future__ import annotations

import io
import struct
from dataclasses import dataclass
from typing import BinaryIO

import filetype
from PIL import Image, UnidentifiedImageError

IMAGE_TYPES = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp", "image/gif": "gif"}
VIDEO_TYPES = {"video/mp4": "mp4", "video/webm": "webm", "video/quicktime": "mov"}
THUMB_EDGE = 720
MAX_PIXELS = 89_478_485  # Pillow's decompression-bomb threshold (a 100 MB raster)


class Unsupported(Exception):
    pass


@dataclass(frozen=True, slots=True)
class Inspected:
    kind: str  # image | video
    content_type: str
    extension: str
    width: int | None = None
    height: int | None = None
    duration_s: float | None = None


def inspect(source: BinaryIO) -> Inspected:
    """What ``source`` really is; raises ``Unsupported`` for anything but the image and
    video formats above (a renamed file, a truncated or bomb-sized image)."""
    source.seek(0)
    head = source.read(8192)
    source.seek(0)
    guess = filetype.guess(head)
    mime = guess.mime if guess else ""
    if mime in IMAGE_TYPES:
        try:
            with Image.open(source) as img:
                img.verify()
            source.seek(0)
            with Image.open(source) as img:
                width, height = img.size
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
            raise Unsupported("not a readable image") from None
        finally:
            source.seek(0)
        if width * height > MAX_PIXELS:
            raise Unsupported(f"an image of {width}×{height} pixels is too large to decode")
        return Inspected("image", mime, IMAGE_TYPES[mime], width, height)
    if mime in VIDEO_TYPES:
        duration = mp4_duration(source) if mime in ("video/mp4", "video/quicktime") else None
        source.seek(0)
        return Inspected("video", mime, VIDEO_TYPES[mime], duration_s=duration)
    raise Unsupported(f"unsupported type {mime or 'unknown'}")


def mp4_duration(source: BinaryIO) -> float | None:
    """Seconds, from the movie header box (``mvhd``), wherever it sits in the file."""
    source.seek(0)
    tail = b""
    while chunk := source.read(1024 * 1024):
        data = tail + chunk
        at = data.find(b"mvhd")
        box = data[at + 4 :] if at >= 0 else b""
        version1 = box[:1] == b"\x01"
        if at >= 0 and len(box) >= (32 if version1 else 20):  # else read on: the header is cut
            if version1:
                timescale, duration = struct.unpack(">IQ", box[20:32])
            else:
                timescale, duration = struct.unpack(">II", box[12:20])
            return round(duration / timescale, 3) if timescale else None
        tail = data[-64:]
    return None


def thumbnail(source: BinaryIO) -> bytes:
    """A JPEG no larger than ``THUMB_EDGE`` on its long side. Decoding the pixels is the
    first full read of the image: a file whose headers passed ``inspect`` but whose data is
    cut short or corrupt raises ``Unsupported`` here."""
    source.seek(0)
    try:
        with Image.open(source) as opened:
            img = opened.convert("RGB")
            img.thumbnail((THUMB_EDGE, THUMB_EDGE))
            out = io.BytesIO()
            img.save(out, "JPEG", quality=82, optimize=True)
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise Unsupported("not a readable image") from None
    finally:
        source.seek(0)
    return out.getvalue()
