"""Media uploads over HTTP: the type comes from the bytes, limits leave nothing on disk,
images get a thumbnail, files are served with ranges."""

from __future__ import annotations

import io
import random
import struct
import zlib
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image

from tests.conftest import Actor, Stack, actor


def png(width: int = 64, height: int = 48, color: tuple[int, int, int] = (200, 30, 30)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), color).save(out, "PNG")
    return out.getvalue()


def jpeg(width: int = 64, height: int = 48) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (10, 120, 40)).save(out, "JPEG")
    return out.getvalue()


def _box(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", 8 + len(payload)) + kind + payload


def mp4(duration: int = 12_345, timescale: int = 1000, *, version: int = 0, brand: bytes = b"isom") -> bytes:
    """The smallest file a player would call an MP4: ``ftyp``, then ``moov`` holding a
    movie header (``mvhd``) with the timescale and duration, then some ``mdat``."""
    compatible = brand + (b"mp41" if brand != b"qt  " else b"")
    ftyp = _box(b"ftyp", brand + struct.pack(">I", 512) + compatible)
    if version == 1:
        times = struct.pack(">QQIQ", 0, 0, timescale, duration)
    else:
        times = struct.pack(">IIII", 0, 0, timescale, duration)
    rest = struct.pack(">IH10x", 0x00010000, 0x0100) + struct.pack(
        ">9I", 0x10000, 0, 0, 0, 0x10000, 0, 0, 0, 0x40000000
    )
    mvhd = _box(b"mvhd", bytes([version, 0, 0, 0]) + times + rest + bytes(24) + struct.pack(">I", 2))
    return ftyp + _box(b"moov", mvhd) + _box(b"mdat", bytes(range(256)) * 8)


async def upload(
    client: httpx.AsyncClient,
    who: Actor,
    data: bytes,
    name: str = "photo.png",
    content_type: str = "image/png",
    *,
    cover: bytes | None = None,
    expect: int | None = 201,
) -> httpx.Response:
    files: dict[str, Any] = {"file": (name, data, content_type)}
    if cover is not None:
        files["cover"] = ("cover.png", cover, "image/png")
    r = await client.post("/api/v1/media", headers=who.headers, files=files)
    if expect is not None:
        assert r.status_code == expect, r.text
    return r


async def upload_image(client: httpx.AsyncClient, who: Actor, **kw: Any) -> dict[str, Any]:
    return (await upload(client, who, png(**kw))).json()


async def upload_video(client: httpx.AsyncClient, who: Actor, **kw: Any) -> dict[str, Any]:
    return (await upload(client, who, mp4(**kw), "clip.mp4", "video/mp4")).json()


def media_files(stack: Stack) -> set[Path]:
    root = stack.settings.data_dir / "media"
    return {p for p in root.rglob("*") if p.is_file()} if root.exists() else set()


def error_code(r: httpx.Response) -> str:
    return str(r.json()["error"]["code"])


# ------------------------------------------------------------------ images


async def test_an_image_is_stored_with_its_size_and_a_thumbnail(client: httpx.AsyncClient, stack: Stack) -> None:
    creator = await actor(client, "creator")
    data = png(1440, 600)
    r = await upload(client, creator, data)
    m = r.json()
    assert m["kind"] == "image" and m["content_type"] == "image/png"
    assert (m["width"], m["height"], m["duration_s"]) == (1440, 600, None)
    assert m["url"].startswith("/media/") and m["url"].endswith(".png")
    assert m["thumb_url"] and m["thumb_url"] != m["url"]

    served = await client.get(m["url"])
    assert served.status_code == 200 and served.content == data
    assert served.headers["content-type"] == "image/png"
    thumb = await client.get(m["thumb_url"])
    assert thumb.status_code == 200
    with Image.open(io.BytesIO(thumb.content)) as img:
        assert img.format == "JPEG" and img.size == (720, 300)
    # a small image is not blown up
    small = (await upload(client, creator, jpeg(40, 30), "p.jpg", "image/jpeg")).json()
    assert small["kind"] == "image" and small["content_type"] == "image/jpeg"
    with Image.open(io.BytesIO((await client.get(small["thumb_url"])).content)) as img:
        assert img.size == (40, 30)
    assert len(media_files(stack)) >= 4


async def test_the_type_comes_from_the_bytes_not_the_name(client: httpx.AsyncClient, stack: Stack) -> None:
    creator = await actor(client, "creator")
    disguised = (await upload(client, creator, png(), "x.mp4", "video/mp4")).json()
    assert disguised["kind"] == "image" and disguised["content_type"] == "image/png"
    assert disguised["url"].endswith(".png")
    video_named_png = (await upload(client, creator, mp4(), "x.png", "image/png")).json()
    assert video_named_png["kind"] == "video" and video_named_png["url"].endswith(".mp4")

    before = media_files(stack)
    refused = [
        (b"hello, I am only text\n" * 20, "x.png", "image/png"),
        (b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>", "x.svg", "image/svg+xml"),
        (b"%PDF-1.4\n" + bytes(200), "x.jpg", "image/jpeg"),
        (b"", "empty.png", "image/png"),
        (png()[:40], "truncated.png", "image/png"),  # the header of a PNG and nothing more
        (b"\x89PNG\r\n\x1a\n" + bytes(300), "garbage.png", "image/png"),
        (b"\xff\xd8\xff\xe0" + bytes(300), "garbage.jpg", "image/jpeg"),
    ]
    for data, name, ctype in refused:
        r = await upload(client, creator, data, name, ctype, expect=None)
        assert r.status_code == 415, (name, r.text)
        assert error_code(r) == "unsupported_media"
    assert media_files(stack) == before


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")
async def test_a_corrupt_image_that_passes_the_header_check_is_refused(client: httpx.AsyncClient, stack: Stack) -> None:
    """Headers that parse but pixels that do not: refused, never a 500."""
    creator = await actor(client, "creator")
    before = media_files(stack)
    whole = jpeg(300, 200)
    cut_jpeg = whole[: len(whole) // 2]

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    # valid chunks and CRCs, but the pixel data is far too short for the declared size
    short_png = (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", 4000, 3000, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(bytes(100)))
        + chunk(b"IEND", b"")
    )
    # a declared size far beyond any photo (a decompression bomb)
    bomb = (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", 12_000, 12_000, 8, 0, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(bytes(12_001) * 64))
        + chunk(b"IEND", b"")
    )
    for data, name in ((cut_jpeg, "cut.jpg"), (short_png, "short.png"), (bomb, "bomb.png")):
        r = await upload(client, creator, data, name, expect=None)
        assert r.status_code == 415, (name, r.status_code, r.text)
        assert error_code(r) == "unsupported_media"
    assert media_files(stack) == before


async def test_too_large_is_refused_and_leaves_nothing_on_disk(
    client: httpx.AsyncClient, stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    creator = await actor(client, "creator")
    await upload_image(client, creator)  # the media folder exists
    noisy = io.BytesIO()
    Image.frombytes("RGB", (120, 120), bytes(range(256)) * 168 + bytes(192)).save(noisy, "PNG")
    big_png = noisy.getvalue()
    video = mp4()
    monkeypatch.setattr(stack.settings, "media_max_image_bytes", len(big_png) - 1)
    monkeypatch.setattr(stack.settings, "media_max_video_bytes", len(video) - 1)
    before = media_files(stack)

    r = await upload(client, creator, big_png, expect=None)
    assert r.status_code == 413 and error_code(r) == "too_large"
    r = await upload(client, creator, video, "clip.mp4", "video/mp4", expect=None)
    assert r.status_code == 413 and error_code(r) == "too_large"
    # the limit is per kind: a video may be larger than the image limit
    small = png(8, 8)
    assert len(small) < len(video)
    monkeypatch.setattr(stack.settings, "media_max_image_bytes", len(small) - 1)
    monkeypatch.setattr(stack.settings, "media_max_video_bytes", len(video))
    r = await upload(client, creator, small, expect=None)
    assert r.status_code == 413 and error_code(r) == "too_large"
    r = await upload(client, creator, video, "clip.mp4", "video/mp4", cover=big_png, expect=None)
    assert r.status_code == 413 and error_code(r) == "too_large"
    assert media_files(stack) == before

    ok = await upload(client, creator, video, "clip.mp4", "video/mp4")
    assert ok.json()["kind"] == "video"
    assert len(media_files(stack)) == len(before) + 1


async def test_uploading_needs_an_account(client: httpx.AsyncClient, stack: Stack) -> None:
    before = media_files(stack)
    r = await client.post("/api/v1/media", files={"file": ("a.png", png(), "image/png")})
    assert r.status_code == 401
    assert media_files(stack) == before
    creator = await actor(client, "creator")
    r = await client.post("/api/v1/media", headers=creator.headers, files={"other": ("a.png", png(), "image/png")})
    assert r.status_code == 422


# ------------------------------------------------------------------ videos


async def test_a_video_is_accepted_with_its_duration(client: httpx.AsyncClient) -> None:
    creator = await actor(client, "creator")
    v = await upload_video(client, creator)
    assert v["kind"] == "video" and v["content_type"] == "video/mp4"
    assert v["duration_s"] == pytest.approx(12.345)
    assert v["width"] is None and v["thumb_url"] is None
    v1 = await upload_video(client, creator, duration=90 * 600, timescale=600, version=1)
    assert v1["duration_s"] == pytest.approx(90.0)
    mov = (await upload(client, creator, mp4(3000, 1000, brand=b"qt  "), "clip.mov", "video/quicktime")).json()
    assert mov["content_type"] == "video/quicktime" and mov["url"].endswith(".mov")
    assert mov["duration_s"] == pytest.approx(3.0)
    served = await client.get(v["url"])
    assert served.status_code == 200 and served.content == mp4()
    assert served.headers["content-type"] == "video/mp4"


async def test_a_video_with_a_cut_movie_header_still_uploads(client: httpx.AsyncClient) -> None:
    """A movie header cut short gives no duration, not a 500."""
    creator = await actor(client, "creator")
    whole = mp4(version=1)
    at = whole.index(b"mvhd")
    for end in range(at + 20, at + 37):
        r = await upload(client, creator, whole[:end], "cut.mp4", "video/mp4", expect=None)
        assert r.status_code == 201, (end - at, r.text)
        assert r.json()["kind"] == "video"
    zero = (await upload(client, creator, mp4(timescale=0), "z.mp4", "video/mp4")).json()
    assert zero["duration_s"] is None


async def test_a_video_cover_becomes_its_thumbnail(client: httpx.AsyncClient, stack: Stack) -> None:
    creator = await actor(client, "creator")
    v = (await upload(client, creator, mp4(), "clip.mp4", "video/mp4", cover=png(1280, 720))).json()
    assert v["kind"] == "video" and v["thumb_url"]
    with Image.open(io.BytesIO((await client.get(v["thumb_url"])).content)) as img:
        assert img.format == "JPEG" and img.size == (720, 405)
    before = media_files(stack)
    for cover in (b"not an image at all", mp4()):
        r = await upload(client, creator, mp4(), "clip.mp4", "video/mp4", cover=cover, expect=None)
        assert r.status_code == 415 and error_code(r) == "unsupported_media"
        assert "cover" in r.json()["error"]["fields"]
    assert media_files(stack) == before


# ------------------------------------------------------------------ serving


async def test_files_are_served_with_ranges_and_cached(client: httpx.AsyncClient) -> None:
    creator = await actor(client, "creator")
    data = mp4()
    v = await upload_video(client, creator)
    r = await client.get(v["url"], headers={"Range": "bytes=0-9"})
    assert r.status_code == 206
    assert r.content == data[:10]
    assert r.headers["content-range"] == f"bytes 0-9/{len(data)}"
    r = await client.get(v["url"], headers={"Range": f"bytes={len(data) - 5}-"})
    assert r.status_code == 206 and r.content == data[-5:]
    full = await client.get(v["url"])
    assert full.headers.get("accept-ranges") == "bytes"
    assert "immutable" in full.headers["cache-control"]
    r = await client.get(v["url"], headers={"Range": f"bytes={len(data) + 10}-{len(data) + 20}"})
    assert r.status_code == 416
    for unreadable in ("bytes=abc", "bytes=5-1", "chars=0-1", "nonsense"):  # ignored: the whole file
        r = await client.get(v["url"], headers={"Range": unreadable})
        assert (r.status_code, r.content) == (200, data), unreadable


async def test_unknown_and_escaping_media_paths_are_404(client: httpx.AsyncClient) -> None:
    for path in ("/media/ab/nothing.png", "/media/..%2F..%2Fetc%2Fpasswd", "/media/%2Fetc%2Fpasswd", "/media/"):
        r = await client.get(path)
        assert r.status_code == 404, (path, r.status_code)
    r = await client.get("/media/ab/nothing.png")
    assert r.json()["error"]["code"] == "media_not_found"


@pytest.mark.parametrize("role", ["supplier", "mcn"])
async def test_only_people_who_post_upload(client: httpx.AsyncClient, stack: Stack, role: str) -> None:
    who = await actor(client, role)
    before = media_files(stack)
    r = await client.post("/api/v1/media", headers=who.headers, files={"file": ("a.png", png())})
    assert r.status_code == 403 and media_files(stack) == before


async def test_very_long_or_odd_media_paths_are_404(client: httpx.AsyncClient) -> None:
    for path in ("/media/" + "a" * 5000, "/media/ab/%00.jpg", "/media/../secret_key"):
        assert (await client.get(path)).status_code == 404, path


async def test_uploads_no_post_uses_are_removed_after_a_day(client: httpx.AsyncClient, platform: Any) -> None:
    from grassroots.content import tasks
    from tests.conftest import advance

    creator = await actor(client, "creator")
    used, unused = [
        (await client.post("/api/v1/media", headers=creator.headers, files={"file": ("a.png", png())})).json()
        for _ in range(2)
    ]
    r = await client.post(
        "/api/v1/posts", headers=creator.headers, json={"kind": "note", "title": "t", "media_ids": [used["id"]]}
    )
    assert r.status_code == 201
    assert await tasks.purge_unattached_media(platform) == 0  # a fresh upload waits to be published
    await advance(client, 25 * 3600)
    assert await tasks.purge_unattached_media(platform) == 1
    assert (await client.get(unused["url"])).status_code == 404
    assert (await client.get(used["url"])).status_code == 200


# ------------------------------------------------------------------ what an image carries


def phone_jpeg(orientation: int = 6) -> bytes:
    """A 64×48 sensor image a phone held upright: shown 48×64, with a GPS position, a camera
    model, an XMP packet and a comment."""
    exif = Image.Exif()
    exif[0x0112] = orientation
    exif[0x0110] = "Pixel 9"
    exif[0x8825] = {1: "N", 2: (31.0, 14.0, 0.0), 3: "E", 4: (120.0, 9.0, 0.0)}
    img = Image.new("RGB", (64, 48), (10, 120, 40))
    img.paste((250, 250, 250), (0, 0, 16, 48))  # a light band on the sensor's left
    out = io.BytesIO()
    img.save(out, "JPEG", exif=exif, comment=b"home sweet home")
    data = out.getvalue()
    xmp = b"http://ns.adobe.com/xap/1.0/\x00<x:xmpmeta>lat 31.23</x:xmpmeta>"
    return data[:2] + b"\xff\xe1" + struct.pack(">H", len(xmp) + 2) + xmp + data[2:]


async def test_a_published_photo_keeps_no_gps_position_camera_or_comment(client: httpx.AsyncClient) -> None:
    creator = await actor(client, "creator")
    data = phone_jpeg()
    assert b"Pixel 9" in data and b"lat 31.23" in data and b"home sweet home" in data
    m = (await upload(client, creator, data, "IMG_0001.jpg", "image/jpeg")).json()
    served = (await client.get(m["url"])).content  # what anyone gets
    assert b"Pixel 9" not in served and b"lat 31.23" not in served and b"home sweet home" not in served
    with Image.open(io.BytesIO(served)) as img:
        exif = img.getexif()
        assert exif.get_ifd(0x8825) == {} and dict(exif) == {0x0112: 6}  # only how to turn it
        img.load()
        assert img.size == (64, 48)  # the pixels as the camera took them
    with Image.open(io.BytesIO(data)) as before, Image.open(io.BytesIO(served)) as after:
        assert before.tobytes() == after.tobytes()  # not re-encoded


@pytest.mark.parametrize("fmt", ["PNG", "WEBP"])
async def test_png_and_webp_lose_their_metadata_too(client: httpx.AsyncClient, fmt: str) -> None:
    creator = await actor(client, "creator")
    exif = Image.Exif()
    exif[0x0110] = "Pixel 9"
    exif[0x8825] = {1: "N", 2: (31.0, 14.0, 0.0)}
    out = io.BytesIO()
    img = Image.new("RGB", (64, 48), (10, 120, 40))
    if fmt == "PNG":
        from PIL.PngImagePlugin import PngInfo

        info = PngInfo()
        info.add_text("Location", "31.23N 120.15E")
        img.save(out, "PNG", exif=exif, pnginfo=info)
    else:
        img.save(out, "WEBP", exif=exif, xmp=b"<x:xmpmeta>lat 31.23</x:xmpmeta>", lossless=True)
    data = out.getvalue()
    m = (await upload(client, creator, data, f"p.{fmt.lower()}", f"image/{fmt.lower()}")).json()
    served = (await client.get(m["url"])).content
    assert b"Pixel 9" not in served and b"31.23" not in served
    with Image.open(io.BytesIO(served)) as after, Image.open(io.BytesIO(data)) as before:
        assert after.format == fmt and after.getexif().get_ifd(0x8825) == {}
        assert after.convert("RGB").tobytes() == before.convert("RGB").tobytes()


async def test_a_portrait_phone_photo_is_measured_and_thumbnailed_upright(client: httpx.AsyncClient) -> None:
    creator = await actor(client, "creator")
    m = (await upload(client, creator, phone_jpeg(), "IMG_0002.jpg", "image/jpeg")).json()
    assert (m["width"], m["height"]) == (48, 64)  # as it is shown
    with Image.open(io.BytesIO((await client.get(m["thumb_url"])).content)) as thumb:
        assert thumb.size == (48, 64)
        r, g, b = thumb.convert("RGB").getpixel((24, 4))  # the band is at the top once turned
        assert min(r, g, b) > 200, (r, g, b)


async def test_a_transparent_png_gets_a_white_not_black_thumbnail(client: httpx.AsyncClient) -> None:
    creator = await actor(client, "creator")
    for mode in ("RGBA", "LA"):
        img = Image.new("RGBA", (64, 48), (0, 0, 0, 0))
        img.paste((255, 0, 0, 255), (20, 15, 44, 33))
        out = io.BytesIO()
        img.convert(mode).save(out, "PNG")
        m = (await upload(client, creator, out.getvalue())).json()
        with Image.open(io.BytesIO((await client.get(m["thumb_url"])).content)) as thumb:
            assert thumb.convert("RGB").getpixel((1, 1)) == (255, 255, 255), mode


async def test_a_tiny_file_with_a_huge_picture_is_refused(client: httpx.AsyncClient) -> None:
    creator = await actor(client, "creator")
    out = io.BytesIO()
    Image.new("1", (6000, 6000)).save(out, "PNG", optimize=True)  # 36 Mpx in a few KB
    assert len(out.getvalue()) < 20_000
    r = await upload(client, creator, out.getvalue(), expect=415)
    assert error_code(r) == "unsupported_media"
    from grassroots.content import media

    # Over the cap however it is stored: noise, so the file is large enough for its pixels.
    noise = Image.frombytes("1", (7100, 7100), random.Random(7).randbytes(888 * 7100))
    out = io.BytesIO()
    noise.save(out, "PNG")
    assert len(out.getvalue()) * media.PIXELS_PER_BYTE > 7100 * 7100  # the ratio rule lets it by
    assert error_code(await upload(client, creator, out.getvalue(), expect=415)) == "unsupported_media"


async def test_an_image_takes_no_cover_and_a_file_answers_head(client: httpx.AsyncClient) -> None:
    creator = await actor(client, "creator")
    r = await upload(client, creator, png(), cover=png(color=(0, 0, 255)), expect=422)
    assert error_code(r) == "cover_not_allowed"
    m = (await upload(client, creator, png())).json()
    got, head = await client.get(m["url"]), await client.head(m["url"])
    assert head.status_code == 200 and head.content == b""
    assert head.headers["content-length"] == got.headers["content-length"]


async def test_deleting_a_post_takes_its_files_offline_unless_another_post_shows_them(
    client: httpx.AsyncClient, stack: Stack
) -> None:
    creator = await actor(client, "creator")
    only, shared = await upload_image(client, creator), await upload_image(client, creator, width=10, height=10)

    async def publish(*media: dict[str, Any]) -> dict[str, Any]:
        body = {"kind": "note", "title": "oops", "media_ids": [m["id"] for m in media]}
        r = await client.post("/api/v1/posts", headers=creator.headers, json=body)
        assert r.status_code == 201, r.text
        return r.json()

    first, second = await publish(only, shared), await publish(shared)
    before = len(media_files(stack))
    assert (await client.delete(f"/api/v1/posts/{first['id']}", headers=creator.headers)).status_code == 204
    for url in (only["url"], only["thumb_url"]):
        assert (await client.get(url)).status_code == 404, url
    assert (await client.get(shared["url"])).status_code == 200  # the other post still shows it
    assert len(media_files(stack)) == before - 2
    assert (await client.get(f"/api/v1/posts/{second['id']}")).json()["media"][0]["url"] == shared["url"]
    assert (await client.delete(f"/api/v1/posts/{second['id']}", headers=creator.headers)).status_code == 204
    assert (await client.get(shared["url"])).status_code == 404


def exif_with_gps(orientation: int | None = None) -> Image.Exif:
    exif = Image.Exif()
    if orientation:
        exif[0x0112] = orientation
    exif[0x0110] = "Pixel 9"
    exif[0x8825] = {1: "N", 2: (31.0, 14.0, 0.0)}
    return exif


@pytest.mark.parametrize("fmt", ["PNG", "WEBP"])
async def test_a_turned_png_or_webp_keeps_only_its_orientation(client: httpx.AsyncClient, fmt: str) -> None:
    creator = await actor(client, "creator")
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (10, 120, 40)).save(out, fmt, exif=exif_with_gps(6))
    m = (await upload(client, creator, out.getvalue(), f"p.{fmt.lower()}", f"image/{fmt.lower()}")).json()
    assert (m["width"], m["height"]) == (48, 64)  # measured as shown
    served = (await client.get(m["url"])).content
    assert b"Pixel 9" not in served
    with Image.open(io.BytesIO(served)) as img:
        assert dict(img.getexif()) == {0x0112: 6}  # what a browser turns it by
        img.load()


async def test_the_other_pictures_of_a_multi_picture_jpeg_are_not_published(client: httpx.AsyncClient) -> None:
    creator = await actor(client, "creator")
    out = io.BytesIO()
    first, second = Image.new("RGB", (64, 48), (200, 10, 10)), Image.new("RGB", (64, 48), (10, 200, 10))
    first.save(out, "MPO", save_all=True, append_images=[second], exif=exif_with_gps())
    data = out.getvalue()
    m = (await upload(client, creator, data, "IMG.jpg", "image/jpeg")).json()
    served = (await client.get(m["url"])).content
    assert b"Pixel 9" not in served and len(served) < len(data)
    with Image.open(io.BytesIO(served)) as img, Image.open(io.BytesIO(data)) as before:
        assert getattr(img, "n_frames", 1) == 1 and img.tobytes() == before.tobytes()


@pytest.mark.parametrize("progressive", [False, True])
def test_stripping_leaves_every_jpeg_scan_and_the_colour_profile(progressive: bool) -> None:
    from grassroots.content.media import strip_metadata

    img = Image.effect_noise((200, 150), 40).convert("RGB")
    out = io.BytesIO()
    icc = b"\x00" * 128 + b"a colour profile, kept"
    img.save(out, "JPEG", progressive=progressive, restart_marker_blocks=2, icc_profile=icc, exif=exif_with_gps())
    data = out.getvalue()
    stripped = strip_metadata(data, "image/jpeg")
    assert b"Pixel 9" not in stripped and stripped.endswith(b"\xff\xd9")
    with Image.open(io.BytesIO(stripped)) as after, Image.open(io.BytesIO(data)) as before:
        assert after.info.get("icc_profile") == icc and after.tobytes() == before.tobytes()


async def test_colour_keyed_and_16_bit_pngs_get_faithful_thumbnails(client: httpx.AsyncClient) -> None:
    creator = await actor(client, "creator")
    img = Image.new("RGB", (64, 48), (0, 0, 0))
    img.paste((255, 0, 0), (20, 15, 44, 33))
    out = io.BytesIO()
    img.save(out, "PNG", transparency=(0, 0, 0))  # black is transparent (a tRNS colour key)
    m = (await upload(client, creator, out.getvalue())).json()
    with Image.open(io.BytesIO((await client.get(m["thumb_url"])).content)) as thumb:
        assert thumb.convert("RGB").getpixel((1, 1)) == (255, 255, 255)
    grey = Image.new("I;16", (64, 48), 32768)  # mid-grey in 16 bits
    out = io.BytesIO()
    grey.save(out, "PNG")
    m = (await upload(client, creator, out.getvalue())).json()
    with Image.open(io.BytesIO((await client.get(m["thumb_url"])).content)) as thumb:
        assert 120 <= thumb.convert("L").getpixel((1, 1)) <= 136


async def test_reposting_a_photo_while_its_old_post_is_deleted_keeps_the_photo(client: httpx.AsyncClient) -> None:
    """Two tabs: a new post attaches the old post's photo while the old post is deleted. The
    delete waits for the new post and then sees the photo in use."""
    import asyncio
    import uuid

    from grassroots.content import service as content
    from grassroots.content.schemas import PostIn
    from grassroots.kernel.auth import Principal, Role

    platform = client._transport.app.state.platform  # type: ignore[attr-defined]
    if platform.db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite has one writer at a time: the two cannot interleave")
    creator = await actor(client, "creator")
    photo = await upload_image(client, creator)
    body = {"kind": "note", "title": "old", "media_ids": [photo["id"]]}
    old = (await client.post("/api/v1/posts", headers=creator.headers, json=body)).json()
    me = Principal(uuid.UUID(creator.id), Role.creator, creator.handle, creator.email)
    async with platform.unit_of_work() as uow:
        new = await content.create_post(uow, me, PostIn(kind="note", title="new", media_ids=[uuid.UUID(photo["id"])]))
        deleting = asyncio.create_task(client.delete(f"/api/v1/posts/{old['id']}", headers=creator.headers))
        await asyncio.sleep(0.3)
        assert not deleting.done()  # it waits for the post that attaches the photo
    assert (await deleting).status_code == 204
    shown = (await client.get(f"/api/v1/posts/{new.post.id}")).json()
    assert (await client.get(shown["media"][0]["url"])).status_code == 200
