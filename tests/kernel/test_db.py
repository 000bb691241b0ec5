from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta, timezone

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import select, text

from grassroots.kernel import db as db_module
from grassroots.kernel.db import Database, insert_if_absent
from grassroots.kernel.ids import new_id, parse_id
from grassroots.kernel.migrations import head_revision, include_object, schema_status, upgrade
from grassroots.kernel.models import OutboxEvent
from grassroots.kernel.platform import Platform
from grassroots.models import metadata
from grassroots.payments.models import WebhookReceipt
from tests.conftest import pg_admin


async def test_migrations_match_the_models(platform: Platform) -> None:
    """A model change without a migration fails here, on both backends."""

    def diff(conn):  # type: ignore[no-untyped-def]
        return compare_metadata(
            MigrationContext.configure(conn, opts={"compare_type": True, "include_object": include_object}), metadata
        )

    async with platform.db.engine.connect() as conn:
        assert await conn.run_sync(diff) == []


async def test_0005_ends_all_but_the_newest_of_duplicate_offers(client, platform: Platform) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy import insert

    from grassroots.mcn.models import Contract
    from tests.conftest import actor, drain

    mcn, creator = await actor(client, "mcn"), await actor(client, "creator")
    await drain(client)  # their sign-up events, before the migration takes the database
    await downgrade_to(platform, "0004")
    try:
        # What an older release let through, written as it was then (today's models
        # describe today's schema, not 0004's).
        async with platform.db.engine.begin() as conn:
            for i, share in enumerate((1000, 2000, 3000)):
                await conn.execute(
                    insert(Contract.__table__).values(
                        id=new_id(),
                        mcn_id=uuid.UUID(mcn.id),
                        creator_id=uuid.UUID(creator.id),
                        share_bps=share,
                        status="pending",
                        created_at=datetime(2026, 1, 1, tzinfo=UTC) + timedelta(minutes=i),
                    )
                )
    finally:
        await upgrade(platform.db)
    contracts = (await client.get("/api/v1/mcn/contracts", headers=creator.headers)).json()["items"]
    assert sorted((c["share_bps"], c["status"]) for c in contracts) == [
        (1000, "terminated"),
        (2000, "terminated"),
        (3000, "pending"),
    ]


async def test_schema_status_reports_behind_and_current(tmp_path) -> None:  # type: ignore[no-untyped-def]
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'x.db'}")
    try:
        status = await schema_status(db)
        assert not status.up_to_date and status.current is None
        assert "no Grassroots schema" in status.describe()
        await upgrade(db)
        status = await schema_status(db)
        assert status.up_to_date and status.current == head_revision()
    finally:
        await db.dispose()


async def test_datetimes_come_back_aware_utc(platform: Platform) -> None:
    at = datetime(2026, 11, 11, 20, 0, tzinfo=timezone(timedelta(hours=8)))
    async with platform.unit_of_work() as uow:
        uow.session.add(OutboxEvent(id=new_id(), name="t", payload={"k": "值"}, created_at=at, attempts=0))
    async with platform.unit_of_work(write=False) as uow:
        row = (await uow.session.scalars(select(OutboxEvent))).one()
    assert row.created_at == at
    assert row.created_at.tzinfo is not None and row.created_at.utcoffset() == timedelta(0)
    assert row.payload == {"k": "值"}


async def test_naive_datetimes_are_refused(platform: Platform) -> None:
    with pytest.raises(Exception, match="naive"):
        async with platform.unit_of_work() as uow:
            uow.session.add(OutboxEvent(id=new_id(), name="t", payload={}, created_at=datetime(2026, 1, 1), attempts=0))
            await uow.session.flush()


async def test_datetime_cursors_are_type_checked(platform: Platform) -> None:
    from grassroots.kernel.errors import BadRequest
    from grassroots.kernel.pagination import PageParams, encode_cursor, paginate

    keys = [OutboxEvent.created_at, OutboxEvent.id]
    async with platform.unit_of_work(write=False) as uow:
        for forged in ([5, new_id()], ["2026-01-01", new_id()]):
            with pytest.raises(BadRequest):
                await paginate(uow.session, select(OutboxEvent), PageParams(encode_cursor(forged), 10), keys)
        good = encode_cursor([datetime(2026, 1, 1, tzinfo=UTC), new_id()])
        assert await paginate(uow.session, select(OutboxEvent), PageParams(good, 10), keys) == ([], None)


def test_ids_are_time_ordered_and_parse_safely() -> None:
    ids = [new_id() for _ in range(100)]
    assert ids == sorted(ids)
    assert ids[0].version == 7
    assert parse_id(str(ids[0])) == ids[0]
    assert parse_id("not-a-uuid") is None
    assert parse_id("") is None


def test_utc_now_is_aware() -> None:
    from grassroots.kernel.clock import SystemClock

    assert SystemClock().now().tzinfo == UTC


async def downgrade_to(platform: Platform, revision: str) -> None:
    from alembic import command

    from grassroots.kernel.migrations import alembic_config

    def downgrade(conn) -> None:  # type: ignore[no-untyped-def]
        cfg = alembic_config()
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, revision)

    async with platform.db.engine.begin() as conn:
        await conn.run_sync(downgrade)


async def test_downgrading_0003_keeps_orders_and_their_items(client, platform: Platform) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy import text

    from tests.conftest import actor, make_product, pay_order, place_order

    supplier, buyer = await actor(client, "supplier"), await actor(client, "consumer")
    product = await make_product(client, supplier)
    order = await place_order(client, buyer, product["skus"][0]["id"])
    await pay_order(client, buyer, order["id"])

    await downgrade_to(platform, "0002")
    try:
        async with platform.db.engine.connect() as conn:
            assert (await conn.execute(text("SELECT count(*) FROM order_items"))).scalar() == 1
            assert (await conn.execute(text("SELECT count(*) FROM orders"))).scalar() == 1
    finally:
        await upgrade(platform.db)
    async with platform.db.engine.connect() as conn:
        assert (await conn.execute(text("SELECT attributed_by FROM orders"))).scalar() == "none"


async def test_a_dead_pooled_connection_is_replaced_before_use(
    platform: Platform, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A connection that sat idle is checked before use: one the server dropped meanwhile
    is replaced, and the request never sees the error."""
    if platform.db.dialect != "postgresql":
        pytest.skip("SQLite has no server to drop connections")
    monkeypatch.setattr(db_module, "IDLE_PING_SECONDS", 0.0)
    pool = platform.db.engine.pool
    async with platform.unit_of_work(write=False) as uow:
        pids = [await uow.session.scalar(text("SELECT pg_backend_pid()"))]
    # every idle connection in the pool dies, as when the server restarts
    async with platform.db.engine.connect() as conn:
        pids.append(await conn.scalar(text("SELECT pg_backend_pid()")))
    for pid in set(pids):
        await pg_admin(f"SELECT pg_terminate_backend({int(pid)})")
    for _ in range(pool.checkedin() + 2):  # whichever pooled connection comes next works
        async with platform.unit_of_work(write=False) as uow:
            assert await uow.session.scalar(text("SELECT 1")) == 1


async def test_insert_if_absent_inserts_once_and_refuses_unknown_columns(platform: Platform) -> None:
    async with platform.unit_of_work() as uow:
        row = {"provider": "sandbox", "event_id": "evt_1", "type": "payment.succeeded", "received_at": uow.now()}
        assert await insert_if_absent(uow.session, WebhookReceipt, **row)
        assert not await insert_if_absent(uow.session, WebhookReceipt, **row)
        with pytest.raises(ValueError, match="typo"):
            await insert_if_absent(uow.session, WebhookReceipt, **{**row, "event_id": "evt_2", "typo": 1})


@pytest.mark.parametrize("size", [1, 3])
async def test_in_param_matches_any_number_of_values_with_one_statement(platform: Platform, size: int) -> None:
    from sqlalchemy import event

    from grassroots.kernel.db import in_param

    ids = [new_id() for _ in range(4)]
    async with platform.unit_of_work() as uow:
        for i in ids:
            uow.session.add(OutboxEvent(id=i, name="t", payload={}, created_at=uow.now(), attempts=0))
    seen: list[str] = []

    def record(conn, cursor, statement, params, context, executemany):  # type: ignore[no-untyped-def]
        if statement.startswith("SELECT outbox_events.id \nFROM"):  # not the worker's polls
            seen.append(statement)

    event.listen(platform.db.engine.sync_engine, "before_cursor_execute", record)
    try:
        async with platform.unit_of_work(write=False) as uow:
            stmt = select(OutboxEvent.id).where(in_param(OutboxEvent.id, "ids", platform.db.dialect))
            for wanted in (ids[:size], ids[1:2]):
                found = set(await uow.session.scalars(stmt, {"ids": wanted}))
                assert found == set(wanted)
    finally:
        event.remove(platform.db.engine.sync_engine, "before_cursor_execute", record)
    assert len(seen) == 2
    if platform.db.dialect == "postgresql":
        assert len(set(seen)) == 1, seen  # one prepared statement whatever the batch size


async def test_insert_new_writes_what_was_set_and_the_defaults_of_the_rest(platform: Platform) -> None:
    from sqlalchemy import event, inspect

    from grassroots.kernel.db import insert_new

    at = datetime(2026, 5, 1, tzinfo=UTC)
    new = [OutboxEvent(id=new_id(), name=f"t{i}", payload={"i": i, "值": "✓"}, created_at=at) for i in range(3)]
    seen: list[str] = []

    def record(conn, cursor, statement, params, context, executemany):  # type: ignore[no-untyped-def]
        if statement.startswith("INSERT INTO outbox_events"):  # not the background worker's
            seen.append(statement)

    event.listen(platform.db.engine.sync_engine, "before_cursor_execute", record)
    try:
        async with platform.unit_of_work() as uow:
            await insert_new(uow.session, *new)
            assert all(inspect(e).transient for e in new)  # written, not tracked
    finally:
        event.remove(platform.db.engine.sync_engine, "before_cursor_execute", record)
    assert len(seen) == 1  # one table, the same attributes set: one statement
    async with platform.unit_of_work(write=False) as uow:
        rows = (await uow.session.scalars(select(OutboxEvent).order_by(OutboxEvent.name))).all()
    assert [(r.id, r.name, r.payload, r.created_at) for r in rows] == [(e.id, e.name, e.payload, at) for e in new]
    assert all(r.attempts == 0 and r.dispatched_at is None for r in rows)  # the columns' defaults


async def test_insert_new_keeps_the_given_order_and_gives_none_the_default(platform: Platform) -> None:
    from sqlalchemy import event

    from grassroots.kernel.db import insert_new

    at = datetime(2026, 5, 1, tzinfo=UTC)
    first = OutboxEvent(id=new_id(), name="a", payload={}, created_at=at)
    other = OutboxEvent(id=new_id(), name="b", payload={}, created_at=at, attempts=None, last_error="x")
    last = OutboxEvent(id=new_id(), name="c", payload={}, created_at=at)
    seen: list[str] = []

    def record(conn, cursor, statement, params, context, executemany):  # type: ignore[no-untyped-def]
        if statement.startswith("INSERT INTO outbox_events"):
            seen.append(params)

    event.listen(platform.db.engine.sync_engine, "before_cursor_execute", record)
    try:
        async with platform.unit_of_work() as uow:
            await insert_new(uow.session, first, other, last)
    finally:
        event.remove(platform.db.engine.sync_engine, "before_cursor_execute", record)
    assert len(seen) == 3  # a, b, c in turn: the two alike are not pulled together past b
    async with platform.unit_of_work(write=False) as uow:
        row = await uow.session.get(OutboxEvent, other.id)
    assert row is not None and (row.attempts, row.last_error) == (0, "x")  # None took the default


async def test_0007_fills_in_the_promoter_part_of_orders_paid_before(client, platform: Platform) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy import text

    from tests.conftest import actor, make_product, pay_order, place_order

    supplier, creator, buyer = (
        await actor(client, "supplier"),
        await actor(client, "creator"),
        await actor(client, "consumer"),
    )
    product = await make_product(client, supplier, price=10_000, commission_bps=2000)
    r = await client.post("/api/v1/showcase", headers=creator.headers, json={"product_id": product["id"]})
    assert r.status_code == 201
    promoted = await place_order(client, buyer, product["skus"][0]["id"], source={"creator_id": creator.id})
    await pay_order(client, buyer, promoted["id"])
    direct = await place_order(client, buyer, product["skus"][0]["id"])
    await pay_order(client, buyer, direct["id"])
    unpaid = await place_order(client, buyer, product["skus"][0]["id"])

    await downgrade_to(platform, "0006")
    await upgrade(platform.db)
    async with platform.db.engine.connect() as conn:
        rows = await conn.execute(text("SELECT id, promoter_minor FROM orders"))
        parts = {str(uuid.UUID(str(i))): part for i, part in rows}
    # 20% of ¥100 is ¥20, less nothing: no MCN
    assert parts == {promoted["id"]: 2000, direct["id"]: 0, unpaid["id"]: None}


async def test_0009_lets_the_purge_remove_media_of_posts_deleted_before(client, platform: Platform) -> None:  # type: ignore[no-untyped-def]
    from tests.conftest import actor, advance, drain
    from tests.content.test_media import upload_image

    creator = await actor(client, "creator")
    gone, shared = await upload_image(client, creator), await upload_image(client, creator, width=10, height=10)
    posts = []
    for media in ([gone, shared], [shared]):
        body = {"kind": "note", "title": "old", "media_ids": [m["id"] for m in media]}
        r = await client.post("/api/v1/posts", headers=creator.headers, json=body)
        assert r.status_code == 201, r.text
        posts.append(r.json())
    await drain(client)
    from sqlalchemy import update

    from grassroots.content.models import Post

    async with platform.db.engine.begin() as conn:  # deleted as an older release did: media kept
        stmt = update(Post.__table__).where(Post.__table__.c.id == parse_id(posts[0]["id"]))
        await conn.execute(stmt.values(deleted_at=datetime.now(UTC)))
    await downgrade_to(platform, "0008")
    await upgrade(platform.db)
    await advance(client, 2 * 86400)  # past the grace the purge gives fresh uploads
    from grassroots.content import service as content

    async with platform.unit_of_work() as uow:
        assert await content.purge_unattached_media(uow) == 1
    assert (await client.get(gone["url"])).status_code == 404
    assert (await client.get(shared["url"])).status_code == 200  # the live post still shows it


async def test_0012_takes_operators_out_of_people_search(client, platform: Platform) -> None:  # type: ignore[no-untyped-def]
    from grassroots.flow.repository import upsert_doc
    from tests.conftest import actor, drain, make_admin
    from tests.flow.test_search import search

    admin, person = await make_admin(client), await actor(client, "consumer")
    await drain(client)
    async with platform.unit_of_work() as uow:  # indexed as an older release did
        await upsert_doc(uow.session, "user", parse_id(admin["id"]), admin["handle"], admin["handle"], 0, uow.now())
    assert [u["id"] for u in (await search(client, admin["handle"], "users"))["items"]] == [admin["id"]]
    await downgrade_to(platform, "0011")
    await upgrade(platform.db)
    assert (await search(client, admin["handle"], "users"))["items"] == []
    assert [u["id"] for u in (await search(client, person.handle, "users"))["items"]] == [person.id]
