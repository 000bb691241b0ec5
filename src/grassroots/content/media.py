"""Checking uploads by their content (never their name), and making thumbnails."""

from __future__ import annotations

import io
import struct
import zlib
from dataclasses import dataclass
from typing import BinaryIO

import filetype
from PIL import Image, ImageOps, UnidentifiedImageError

IMAGE_TYPES = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp", "image/gif": "gif"}
VIDEO_TYPES = {"video/mp4": "mp4", "video/webm": "webm", "video/quicktime": "mov"}
THUMB_EDGE = 720
# Decoding costs memory by pixels, not by bytes: a 10 KB PNG can hold 88 million pixels.
MAX_PIXELS = 50_000_000  # a 48-megapixel phone photo fits
SMALL_PIXELS = 16_000_000  # above this, an image must carry at least a byte per ...
PIXELS_PER_BYTE = 256  # ... this many pixels (real photos carry one per a few)
ORIENTATION = 0x0112  # the EXIF tag that says how to turn the picture to show it


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
                orientation = img.getexif().get(ORIENTATION, 1)
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
            raise Unsupported("not a readable image") from None
        finally:
            source.seek(0)
        pixels = width * height
        size = source.seek(0, io.SEEK_END)
        source.seek(0)
        if pixels > MAX_PIXELS or (pixels > SMALL_PIXELS and size * PIXELS_PER_BYTE < pixels):
            raise Unsupported(f"an image of {width}×{height} pixels is too large to decode")
        if orientation in (5, 6, 7, 8):  # shown turned a quarter: as people see it
            width, height = height, width
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
            opened.draft("RGB", (THUMB_EDGE, THUMB_EDGE))  # a JPEG decodes at a fraction of its size
            img: Image.Image = opened
            if img.mode.startswith("I"):  # 16- or 32-bit grey: scaled to 8 bits, not clipped
                img = img.convert("I").point(lambda v: v * (1 / 256)).convert("L")
            elif _has_alpha(img) and img.mode not in ("RGBA", "LA"):  # a palette or colour key
                img = img.convert("RGBA")
            elif img.mode == "1":
                img = img.convert("L")
            elif img.mode not in ("RGB", "RGBA", "L", "LA"):  # palette, CMYK, YCbCr
                img = img.convert("RGB")
            img.thumbnail((THUMB_EDGE, THUMB_EDGE))  # shrink first: the rest works on few pixels
            img = ImageOps.exif_transpose(img) or img
            if img.mode in ("RGBA", "LA"):  # transparency over white, not black
                background = Image.new("RGB", img.size, (255, 255, 255))
                background.paste(img.convert("RGBA"), mask=img.convert("RGBA").getchannel("A"))
                img = background
            out = io.BytesIO()
            img.convert("RGB").save(out, "JPEG", quality=82, optimize=True)
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise Unsupported("not a readable image") from None
    finally:
        source.seek(0)
    return out.getvalue()


def _has_alpha(img: Image.Image) -> bool:
    return img.mode in ("RGBA", "LA", "PA") or "transparency" in img.info


# ------------------------------------------------------------------ metadata

# JPEG segments that say nothing about how the picture looks but may say where and by whom
# it was taken: APP1 (EXIF with GPS, XMP), APP13 (IPTC), comments.
_JPEG_DROP = {0xE1, 0xED, 0xFE}
_PNG_DROP = {b"eXIf", b"tEXt", b"zTXt", b"iTXt", b"tIME"}
_WEBP_DROP = {b"EXIF", b"XMP "}


def strip_metadata(data: bytes, content_type: str) -> bytes:
    """The image without its metadata (camera, time, GPS position, editing history), pixels
    untouched: published originals are public. The EXIF orientation alone is kept, in a
    fresh block, so the picture still shows upright. A JPEG also loses what follows its
    picture (the other pictures of a multi-picture file, a motion photo's video). Anything
    not parsed as expected is returned as it came."""
    try:
        if content_type == "image/jpeg":
            return _strip_jpeg(data)
        if content_type == "image/png":
            return _strip_png(data)
        if content_type == "image/webp":
            return _strip_webp(data)
    except (IndexError, struct.error, ValueError):
        pass
    return data


def _orientation(block: bytes) -> int:
    exif = Image.Exif()
    try:
        exif.load(block)
    except Exception:  # a damaged EXIF block is dropped like any other
        return 1
    value = exif.get(ORIENTATION, 1)
    return value if isinstance(value, int) and 1 <= value <= 8 else 1


def _orientation_only(orientation: int) -> bytes:
    """An EXIF block (``Exif\\0\\0`` and TIFF) that holds the orientation and nothing else."""
    exif = Image.Exif()
    exif[ORIENTATION] = orientation
    return exif.tobytes()


def _strip_jpeg(data: bytes) -> bytes:
    if data[:2] != b"\xff\xd8":
        return data
    out = [data[:2]]
    orientation = 1
    at = 2
    while at + 4 <= len(data):
        if data[at] != 0xFF:
            return data
        marker = data[at + 1]
        if marker == 0xFF:  # fill byte
            at += 1
            continue
        if marker == 0xDA or marker == 0xD9:  # start of scan: picture data from here
            break
        if 0xD0 <= marker <= 0xD7 or marker == 0x01:  # markers without a length
            out.append(data[at : at + 2])
            at += 2
            continue
        (length,) = struct.unpack(">H", data[at + 2 : at + 4])
        segment = data[at : at + 2 + length]
        if marker == 0xE1 and segment[4:10] == b"Exif\x00\x00":
            orientation = _orientation(segment[4:])
        # APP2 carries the colour profile (kept) or a multi-picture index (not: the other
        # pictures go).
        if marker not in _JPEG_DROP and not (marker == 0xE2 and segment[4:8] == b"MPF\x00"):
            out.append(segment)
        at += 2 + length
    if orientation != 1:
        block = _orientation_only(orientation)
        out.insert(1, b"\xff\xe1" + struct.pack(">H", len(block) + 2) + block)
    out.append(data[at : _jpeg_end(data, at)])
    return b"".join(out)


def _jpeg_end(data: bytes, at: int) -> int:
    """Where the picture that starts scanning at ``at`` ends (after its EOI marker), walking
    its scans and the segments between them (a progressive JPEG has many); the end of the
    data when it has no EOI."""
    n = len(data)
    while at + 2 <= n and data[at] == 0xFF:
        marker = data[at + 1]
        if marker == 0xD9:
            return at + 2
        if marker == 0xFF:
            at += 1
            continue
        (length,) = struct.unpack(">H", data[at + 2 : at + 4])
        at += 2 + length
        if marker != 0xDA:
            continue
        while True:  # entropy-coded data: FF is stuffed (FF 00) or a restart, or a marker
            found = data.find(b"\xff", at)
            if found < 0 or found + 1 >= n:
                return n
            follow = data[found + 1]
            if follow == 0x00 or 0xD0 <= follow <= 0xD7:
                at = found + 2
            elif follow == 0xFF:
                at = found + 1
            else:
                at = found
                break
    return n


def _strip_png(data: bytes) -> bytes:
    signature = b"\x89PNG\r\n\x1a\n"
    if data[:8] != signature:
        return data
    out = [signature]
    at = 8
    while at + 8 <= len(data):
        (length,) = struct.unpack(">I", data[at : at + 4])
        kind = data[at + 4 : at + 8]
        end = at + 12 + length
        if end > len(data):
            return data
        if kind == b"eXIf" and (orientation := _orientation(data[at + 8 : end - 4])) != 1:
            tiff = _orientation_only(orientation)[6:]  # the chunk holds TIFF alone
            out.append(struct.pack(">I", len(tiff)) + kind + tiff + struct.pack(">I", zlib.crc32(kind + tiff)))
        elif kind not in _PNG_DROP:
            out.append(data[at:end])
        at = end
        if kind == b"IEND":
            break
    return b"".join(out)


def _strip_webp(data: bytes) -> bytes:
    if data[:4] != b"RIFF" or data[8:12] != b"WEBP":
        return data
    chunks: list[bytes] = []
    header = -1  # which of the chunks is VP8X, whose flags say which chunks follow
    kept_exif = False
    at = 12
    while at + 8 <= len(data):
        kind = data[at : at + 4]
        (length,) = struct.unpack("<I", data[at + 4 : at + 8])
        end = at + 8 + length + (length & 1)  # chunks are padded to an even size
        if end > len(data):
            return data
        payload = data[at + 8 : at + 8 + length]
        if kind == b"VP8X":
            header = len(chunks)
            chunks.append(data[at:end])
        elif kind == b"EXIF" and (orientation := _orientation(payload)) != 1:
            block = _orientation_only(orientation)
            block = block if payload.startswith(b"Exif\x00\x00") else block[6:]  # as the file wrote it
            chunks.append(kind + struct.pack("<I", len(block)) + block + b"\x00" * (len(block) & 1))
            kept_exif = True
        elif kind not in _WEBP_DROP:
            chunks.append(data[at:end])
        at = end
    if header >= 0:
        vp8x = chunks[header]
        flags = (vp8x[8] & ~0x0C) | (0x08 if kept_exif else 0)  # EXIF 0x08, XMP 0x04
        chunks[header] = vp8x[:8] + bytes([flags]) + vp8x[9:]
    body = b"WEBP" + b"".join(chunks)
    return b"RIFF" + struct.pack("<I", len(body)) + body
