"""The ``grassroots`` command as an operator uses it (real processes)."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import subprocess
import sys
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest


def run(args: list[str], tmp: Path, **env: str) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("GRASSROOTS_")}
    full_env.update(
        {"GRASSROOTS_DATA_DIR": str(tmp), "GRASSROOTS_ENV": "test", "NO_COLOR": "1", "COLUMNS": "200", **env}
    )
    return subprocess.run(
        [sys.executable, "-m", "grassroots", *args],
        env=full_env,
        cwd=tmp,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_serve_refuses_a_database_behind_the_code(tmp_path: Path) -> None:
    r = run(["serve", "--port", "1"], tmp_path)
    assert r.returncode == 1
    out = r.stdout + r.stderr
    assert "grassroots migrate" in out and "no Grassroots schema" in out
    assert "Traceback" not in out


def test_serve_refuses_an_unreachable_database(tmp_path: Path) -> None:
    r = run(["serve"], tmp_path, GRASSROOTS_DATABASE_URL="postgresql+asyncpg://nobody:pw@127.0.0.1:1/none")
    assert r.returncode == 1
    assert "Cannot open the database" in r.stderr and "Traceback" not in r.stderr + r.stdout
    assert "pw@" not in r.stderr  # the password is redacted


def test_migrate_then_create_admin(tmp_path: Path) -> None:
    r = run(["migrate"], tmp_path)
    assert r.returncode == 0, r.stderr
    assert "migrated: empty" in r.stdout
    assert "already at the latest" in run(["migrate"], tmp_path).stdout
    r = run(["create-admin", "--email", "root@example.com", "--password", "a-long-admin-pw"], tmp_path)
    assert r.returncode == 0, r.stderr
    assert "Admin @root_2 created" in r.stdout  # "root" is reserved, so a suffix is added
    r = run(["create-admin", "--email", "root@example.com", "--password", "a-long-admin-pw"], tmp_path)
    assert r.returncode == 1 and "email_taken" in r.stderr
    r = run(["create-admin", "--email", "x@example.com", "--password", "short"], tmp_path)
    assert r.returncode == 1 and "weak_password" in r.stderr


def test_more_than_one_worker_needs_redis(tmp_path: Path) -> None:
    run(["migrate"], tmp_path)
    r = run(["serve", "--workers", "2"], tmp_path)
    assert r.returncode == 1 and "GRASSROOTS_REDIS_URL" in r.stderr


def test_worker_needs_redis(tmp_path: Path) -> None:
    r = run(["worker"], tmp_path)
    assert r.returncode == 1 and "GRASSROOTS_REDIS_URL" in r.stderr


def _world(db: Path) -> dict[str, Any]:
    """What a demo database holds, read with the stdlib driver."""
    with closing(sqlite3.connect(db)) as con:

        def rows(sql: str) -> dict[str, int]:
            return {str(k): int(v) for k, v in con.execute(sql)}

        def count(table: str) -> int:
            return int(con.execute(f"SELECT count(*) FROM {table}").fetchone()[0])

        return {
            "roles": rows("SELECT role, count(*) FROM users GROUP BY role"),
            "products": rows("SELECT category, count(*) FROM products WHERE commission_bps > 0 GROUP BY category"),
            "contracts": rows("SELECT status, count(*) FROM mcn_contracts GROUP BY status"),
            "posts": rows("SELECT kind, count(*) FROM posts GROUP BY kind"),
            "titles": [t for (t,) in con.execute("SELECT title FROM posts ORDER BY created_at, title")],
            "tagged_posts": count("(SELECT DISTINCT post_id FROM post_products)"),
            "media": rows("SELECT kind, count(*) FROM media GROUP BY kind"),
            "followers": rows(
                "SELECT u.handle, count(*) FROM follows f JOIN users u ON u.id = f.followee_id GROUP BY u.handle"
            ),
            "follows": rows(
                "SELECT a.role || '>' || b.role, count(*) FROM follows f JOIN users a ON a.id = f.follower_id"
                " JOIN users b ON b.id = f.followee_id GROUP BY 1"
            ),
            "likes": count("post_likes"),
            "favorites": count("post_favorites"),
            "comments": count("comments"),
            "replies": count("comments WHERE parent_id IS NOT NULL"),
            "share_links": count("share_links"),
            "clicks": count("share_clicks"),
            "orders": rows("SELECT status, count(*) FROM orders GROUP BY status"),
            "attribution": rows("SELECT scene, count(*) FROM orders WHERE promoter_id IS NOT NULL GROUP BY scene"),
            "shopper_orders": rows(
                "SELECT o.status, count(*) FROM orders o JOIN users u ON u.id = o.buyer_id"
                " WHERE u.handle = 'mei_shops' GROUP BY o.status"
            ),
            "returns": rows("SELECT status, count(*) FROM return_requests GROUP BY status"),
            "notifications": rows("SELECT kind, count(*) FROM notifications GROUP BY kind"),
            "index": rows("SELECT kind, count(*) FROM search_docs GROUP BY kind"),
            "popular": rows("SELECT kind, count(*) FROM search_docs WHERE popularity > 0 GROUP BY kind"),
            "undelivered": count("outbox_events WHERE dispatched_at IS NULL"),
        }


async def _read_through_services(data_dir: Path) -> dict[str, list[str]]:
    """Search and the feeds, asked the way the API asks them."""
    from grassroots.config import Env, Settings
    from grassroots.flow import service as flow
    from grassroots.identity import service as identity
    from grassroots.kernel.pagination import PageParams
    from grassroots.kernel.platform import Platform

    settings = Settings(env=Env.test, data_dir=data_dir, database_url=None, redis_url=None)
    platform = Platform(settings)
    try:
        async with platform.unit_of_work(write=False) as uow:
            page = PageParams(cursor=None, limit=20)
            masks = await flow.search(uow, "面膜", "products", page)
            serum = await flow.search(uow, "玻尿酸", "products", page)
            tea_posts = await flow.search(uow, "龙井", "posts", page)
            people = await flow.search(uow, "lin_creates", "users", page)
            shopper = identity.principal_of(await identity.find_by_handle(uow, "mei_shops"))
            following, _ = await flow.following_feed(uow, shopper, page)
            discover = await flow.discover_slice(uow, page)
        return {
            "masks": [p.title for p in masks.products],
            "serum": [p.title for p in serum.products],
            "tea_posts": [v.post.title for v in tea_posts.posts],
            "people": [u.handle for u in people.users],
            "following": [v.author_handle for v in following],
            "discover": [str(i) for i in discover.ids],
        }
    finally:
        await platform.close()


def test_demo_builds_a_small_platform(tmp_path: Path) -> None:
    demo = tmp_path / "demo"
    r = run(["demo", "--no-serve", "--data-dir", str(demo)], tmp_path)
    assert r.returncode == 0, r.stderr
    for role in ("consumer", "creator", "supplier", "mcn", "admin"):
        assert role in r.stdout
    for handle in ("mei_shops", "lin_creates", "greenleaf_tea", "starlight_mcn", "ops_desk"):
        assert f"@{handle}" in r.stdout
    assert "grassroots-demo" in r.stdout
    for stage in ("accounts", "products", "follows", "posts", "likes & comments", "share links", "orders"):
        assert f"Seeding {stage}" in r.stdout
    world = _world(demo / "grassroots.db")

    assert world["roles"] == {"admin": 1, "supplier": 6, "mcn": 2, "creator": 12, "consumer": 200}
    assert sum(world["products"].values()) == 60 and len(world["products"]) >= 6  # all in the affiliate pool
    assert world["contracts"] == {"active": 12}
    assert 270 <= sum(world["posts"].values()) <= 330
    assert world["posts"]["video"] >= 10 and world["media"]["video"] == world["posts"]["video"]
    assert world["tagged_posts"] >= 200  # creators tag products from their showcases
    assert world["media"]["image"] >= sum(world["posts"].values()) - world["posts"]["video"]
    assert len(list((demo / "media").rglob("*-thumb.jpg"))) == sum(world["media"].values())
    # creators have many followers; shoppers follow a few creators and some other shoppers
    assert min(world["followers"][c] for c in ("lin_creates", "xiaoyu_beauty", "zhou_techtalk")) >= 20
    assert world["follows"]["consumer>creator"] >= 300 and world["follows"]["consumer>consumer"] >= 50
    assert world["likes"] >= 800 and world["favorites"] >= 150
    assert world["comments"] >= 150 and world["replies"] >= 10
    assert world["share_links"] >= 30 and world["clicks"] >= 50
    # orders in every state, attributed to posts, share links and showcases
    assert set(world["orders"]) == {
        "pending_payment",
        "paid",
        "shipped",
        "received",
        "completed",
        "refunded",
        "cancelled",
    }
    assert world["orders"]["completed"] >= 10 and world["orders"]["refunded"] >= 3
    assert {"note", "share", "showcase"} <= set(world["attribution"])
    assert set(world["shopper_orders"]) == set(world["orders"])  # the printed shopper sees every state
    assert world["returns"].get("approved", 0) >= 1 and world["returns"].get("requested", 0) >= 1
    # events were delivered: the search index, notifications and counters are up to date
    assert world["undelivered"] == 0
    assert world["index"] == {"product": 60, "post": sum(world["posts"].values()), "user": 220}  # not the operator
    assert world["popular"]["product"] >= 10 and world["popular"]["post"] >= 100  # ranked by sales and engagement
    assert {"new_follower", "comment", "commission_earned", "commission_settled"} <= set(world["notifications"])

    found = asyncio.run(_read_through_services(demo))
    assert "玻尿酸补水面膜 Hyaluronic sheet mask, 10 pcs" in found["masks"]
    assert found["serum"] and found["tea_posts"] and found["people"] == ["lin_creates"]
    assert "lin_creates" in found["following"]
    assert len(found["discover"]) == 20

    # Running it again starts afresh, and the same seed builds the same world.
    again = run(["demo", "--no-serve", "--data-dir", str(demo)], tmp_path)
    assert again.returncode == 0, again.stderr
    rebuilt = _world(demo / "grassroots.db")
    assert rebuilt["titles"] == world["titles"]
    for key in ("roles", "posts", "media", "followers", "likes", "favorites", "comments", "orders"):
        assert rebuilt[key] == world[key], key


def test_demo_media_are_what_uploads_accept() -> None:
    """Covers are JPEGs and clips are MP4s that the upload checks take, the same bytes for
    the same seed."""
    import io
    import random

    from grassroots.content import media
    from grassroots.simulation import covers, video

    title = covers.ascii_part("玻尿酸补水面膜开箱 Unboxing the Hyaluronic sheet mask")
    assert title == "Unboxing the Hyaluronic sheet mask"
    jpeg = covers.cover(title, "#skincare", random.Random(7))
    assert jpeg == covers.cover(title, "#skincare", random.Random(7))
    found = media.inspect(io.BytesIO(jpeg))
    assert (found.kind, found.content_type, found.width, found.height) == ("image", "image/jpeg", 480, 640)
    clip = video.pan_clip(jpeg)
    assert clip == video.pan_clip(jpeg)
    found = media.inspect(io.BytesIO(clip))
    assert (found.kind, found.content_type, found.duration_s) == ("video", "video/mp4", float(video.SECONDS))
    assert len(clip) < 200_000


@pytest.mark.parametrize("cmd", [["--help"], ["version"]])
def test_help_and_version(tmp_path: Path, cmd: list[str]) -> None:
    r = run(cmd, tmp_path)
    assert r.returncode == 0


@pytest.mark.parametrize(
    ("variable", "value", "says"),
    [
        ("GRASSROOTS_ACCESS_TOKEN_TTL_SECONDS", "-1", "GRASSROOTS_ACCESS_TOKEN_TTL_SECONDS"),
        ("GRASSROOTS_MAX_BODY_SIZE", "-1", "GRASSROOTS_MAX_BODY_SIZE"),
        ("GRASSROOTS_DISPLAY_TIMEZONE", "Mars/Olympus", "time zone"),
        ("GRASSROOTS_REDIS_URL", "notaurl", "redis://"),
        ("GRASSROOTS_ENV", "prod", "GRASSROOTS_ENV"),
    ],
)
def test_a_bad_setting_stops_the_start_with_its_name(tmp_path: Path, variable: str, value: str, says: str) -> None:
    r = run(["serve", "--port", "8", "--workers", "2"], tmp_path, **{variable: value})
    assert r.returncode == 1 and says in r.stderr and "invalid settings" in r.stderr, r.stderr
    assert "Traceback" not in r.stdout + r.stderr


def test_production_needs_a_shared_secret_key(tmp_path: Path) -> None:
    assert run(["migrate"], tmp_path).returncode == 0
    r = run(["serve", "--port", "8"], tmp_path, GRASSROOTS_ENV="production")
    assert r.returncode == 1 and "GRASSROOTS_SECRET_KEY" in r.stderr
    r = run(["worker"], tmp_path, GRASSROOTS_ENV="production", GRASSROOTS_REDIS_URL="redis://127.0.0.1:1/0")
    assert r.returncode == 1 and "GRASSROOTS_SECRET_KEY" in r.stderr


def test_nobody_to_run_background_work_is_refused(tmp_path: Path) -> None:
    assert run(["migrate"], tmp_path).returncode == 0
    r = run(["serve", "--port", "8"], tmp_path, GRASSROOTS_RUN_IN_PROCESS_WORKER="false")
    assert r.returncode == 1 and "background work" in r.stderr


def test_a_port_out_of_range_is_refused(tmp_path: Path) -> None:
    r = run(["serve", "--port", "70000"], tmp_path)
    assert r.returncode == 2 and "65535" in r.stdout + r.stderr


def test_the_demo_never_erases_a_folder_that_is_not_a_demo(tmp_path: Path) -> None:
    platform = tmp_path / "platform"
    platform.mkdir()
    (platform / "grassroots.db").write_bytes(b"someone's data")
    r = run(["demo", "--no-serve", "--data-dir", str(platform)], tmp_path)
    assert r.returncode == 1 and "Pick an empty or new folder" in r.stderr
    assert (platform / "grassroots.db").read_bytes() == b"someone's data"


def test_the_demo_checks_its_port_before_touching_the_folder(tmp_path: Path) -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        r = run(["demo", "--data-dir", str(tmp_path / "d"), "--port", str(port)], tmp_path)
    assert r.returncode == 1 and "Choose another with --port" in r.stderr
    assert not (tmp_path / "d" / "grassroots.db").exists()


def test_create_admin_before_migrate_says_so(tmp_path: Path) -> None:
    args = ["create-admin", "--email", "root@example.com", "--password", "a-long-admin-pw"]
    r = run(args, tmp_path, GRASSROOTS_DATA_DIR=str(tmp_path / "new"))
    assert r.returncode == 1 and "grassroots migrate" in r.stderr and "Traceback" not in r.stderr


def test_a_misspelt_setting_is_pointed_out_and_migrate_names_its_database(tmp_path: Path) -> None:
    r = run(["migrate"], tmp_path, GRASSROOTS_DATABSE_URL="postgresql+asyncpg://x@127.0.0.1:1/x")
    assert r.returncode == 0, r.stderr
    assert "GRASSROOTS_DATABSE_URL is not a Grassroots setting" in r.stderr
    assert "grassroots.db" in r.stdout  # which database it migrated: the embedded default


def test_the_demo_listens_on_ipv6_too(tmp_path: Path) -> None:
    import socket

    from grassroots.cli import _port_free

    if not socket.has_ipv6:
        pytest.skip("no IPv6 on this host")
    try:
        with socket.socket(socket.AF_INET6) as s:
            s.bind(("::1", 0))
    except OSError:
        pytest.skip("no IPv6 loopback on this host")
    _port_free("::1", 0)  # would fail for an IPv4-only probe


def test_serve_and_worker_refuse_an_unreachable_redis(tmp_path: Path) -> None:
    assert run(["migrate"], tmp_path).returncode == 0
    gone = "redis://:hunter2@127.0.0.1:1/0"
    for args in (["serve", "--port", "8"], ["worker"]):
        r = run(args, tmp_path, GRASSROOTS_REDIS_URL=gone)
        out = r.stdout + r.stderr
        assert r.returncode == 1 and "Redis at redis://:***@127.0.0.1:1/0 does not answer" in r.stderr, out
        assert "Traceback" not in out and "hunter2" not in out
