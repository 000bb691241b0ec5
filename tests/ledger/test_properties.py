"""Property test of the money path: for any sequence of orders (with and without a
promoter and an MCN), payments, receipts, refunds before and after settlement, refund
confirmations and settlement runs, the ledger sums to zero and every party's balance
equals an expectation computed here independently of the ledger code."""

from __future__ import annotations

import asyncio
import secrets
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from fractions import Fraction
from math import floor
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from grassroots.affiliate import service as affiliate
from grassroots.catalog import service as catalog
from grassroots.catalog.schemas import ProductIn, SkuIn
from grassroots.commerce import service as commerce
from grassroots.commerce.schemas import AddressIn, ItemIn, OrderIn, SourceIn
from grassroots.domains import load_tasks
from grassroots.identity import service as identity
from grassroots.kernel.auth import Principal, Role
from grassroots.kernel.clock import FixedClock
from grassroots.kernel.migrations import upgrade
from grassroots.kernel.platform import Platform
from grassroots.ledger import service as ledger
from grassroots.mcn import service as mcn
from grassroots.payments import sandbox
from tests.conftest import make_settings

FEE_BPS = 500
ADDRESS = AddressIn(name="Mei", phone="13800000000", line1="1 Road", city="Hangzhou", country="CN")


def largest_remainder(amount: int, weights: list[int]) -> list[int]:
    """An independent implementation of the rounding rule the ledger promises."""
    total = sum(weights)
    exact = [Fraction(amount * w, total) for w in weights]
    parts = [floor(e) for e in exact]
    for i in sorted(range(len(weights)), key=lambda i: (-(exact[i] - floor(exact[i])), i))[: amount - sum(parts)]:
        parts[i] += 1
    return parts


@dataclass
class ExpectedOrder:
    id: uuid.UUID
    buyer: Principal
    total: int
    fee: int
    promoter: int
    mcn: int
    supplier: int
    promoter_id: uuid.UUID | None
    mcn_id: uuid.UUID | None
    state: str = "paid"  # paid, received, settled, refunded, refund_paid
    received_at: datetime | None = None
    settled: bool = False


@dataclass
class World:
    platform: Platform
    clock: FixedClock
    admin: Principal
    supplier: Principal
    creators: list[Principal]
    mcn: Principal
    share_bps: int
    buyer: Principal
    skus: list[tuple[uuid.UUID, int, int]]  # sku id, price, commission bps
    orders: list[ExpectedOrder] = field(default_factory=list)


async def _user(platform: Platform, role: Role, tag: str) -> Principal:
    async with platform.unit_of_work() as uow:
        user = await identity.signup(
            uow,
            email=f"{tag}@example.com",
            password="long-password-1",
            handle=tag,
            role=role,
            allow_admin=role == Role.admin,
        )
        return identity.principal_of(user)


async def build_world(platform: Platform, clock: FixedClock, prices: list[tuple[int, int]], share: int) -> World:
    n = secrets.token_hex(4)
    admin = await _user(platform, Role.admin, f"a{n}")
    supplier = await _user(platform, Role.supplier, f"s{n}")
    creators = [await _user(platform, Role.creator, f"c{i}{n}") for i in range(2)]
    agency = await _user(platform, Role.mcn, f"m{n}")
    buyer = await _user(platform, Role.consumer, f"b{n}")
    skus = []
    async with platform.unit_of_work() as uow:
        for price, bps in prices:
            product = await catalog.create_product(
                uow,
                supplier,
                ProductIn(
                    title="p",
                    category="home",
                    commission_bps=bps,
                    skus=[SkuIn(name="s", price_minor=price, currency="CNY", stock=10_000)],
                ),
            )
            skus.append((product.skus[0].id, price, bps))
    async with platform.unit_of_work() as uow:
        for sku_id, _, bps in skus:
            if bps:
                for c in creators:
                    sku_product = (await catalog.skus_for_order(uow, [sku_id]))[sku_id][1]
                    await affiliate.add_to_showcase(uow, c, sku_product.id)
        contract = await mcn.offer(uow, agency, creators[0].id, share)
    async with platform.unit_of_work() as uow:
        await mcn.accept(uow, creators[0], contract.id)
    return World(platform, clock, admin, supplier, creators, agency, share, buyer, skus)


async def deliver_sandbox_webhooks(platform: Platform) -> None:
    await sandbox.deliver_locally(platform)


async def op_order(w: World, sku_index: int, quantity: int, promoter: int | None) -> None:
    sku_id, price, bps = w.skus[sku_index]
    creator = w.creators[promoter] if promoter is not None else None
    source = SourceIn(creator_id=creator.id if creator else None)
    async with w.platform.unit_of_work() as uow:
        order, _ = await commerce.create_order(
            uow,
            w.buyer,
            OrderIn(items=[ItemIn(sku_id=sku_id, quantity=quantity)], shipping_address=ADDRESS, source=source),
            secrets.token_hex(8),
        )
        payment = await commerce.pay(uow, w.buyer, order.id, "sandbox")
        await sandbox.confirm(uow, payment.id)
    await deliver_sandbox_webhooks(w.platform)
    total = price * quantity
    commission_bps = bps if creator else 0
    fee, commission, supplier = largest_remainder(total, [FEE_BPS, commission_bps, 10_000 - FEE_BPS - commission_bps])
    mcn_part = 0
    if promoter == 0 and commission:
        mcn_part = largest_remainder(commission, [w.share_bps, 10_000 - w.share_bps])[0]
    w.orders.append(
        ExpectedOrder(
            order.id,
            w.buyer,
            total,
            fee,
            commission - mcn_part,
            mcn_part,
            supplier,
            creator.id if creator and commission else None,
            w.mcn.id if mcn_part else None,
        )
    )


async def op_receive_order(w: World, index: int) -> None:
    o = w.orders[index]
    async with w.platform.unit_of_work() as uow:
        await commerce.ship(uow, w.supplier, o.id, "SF", "1")
    async with w.platform.unit_of_work() as uow:
        await commerce.receive(uow, w.buyer, o.id)
    o.state, o.received_at = "received", w.clock.now()


async def op_settle(w: World, hours: int) -> None:
    w.clock.advance(timedelta(hours=hours))
    async with w.platform.unit_of_work() as uow:
        await commerce.settle_due(uow)
    for o in w.orders:
        if o.state == "received" and o.received_at and w.clock.now() - o.received_at >= timedelta(days=7):
            o.state, o.settled = "settled", True
            event("settled an order with an MCN share" if o.mcn else "settled an order")


async def op_refund_order(w: World, index: int) -> None:
    o = w.orders[index]
    async with w.platform.unit_of_work() as uow:
        await commerce.refund(uow, w.admin, o.id, "property test")
    event("clawback" if o.settled else "refund before settlement")
    o.state = "refunded"


async def op_confirm_refunds(w: World) -> None:
    await deliver_sandbox_webhooks(w.platform)
    for o in w.orders:
        if o.state == "refunded":
            o.state = "refund_paid"


async def check(w: World) -> None:
    async with w.platform.unit_of_work(write=False) as uow:
        assert await ledger.unbalanced_transactions(uow) == []
        accounts = await ledger.trial_balance(uow)
        assert sum(a.balance for a in accounts) == 0
        live = [o for o in w.orders if o.state in ("paid", "received", "settled")]
        for party, part in (
            (w.supplier.id, "supplier"),
            (w.creators[0].id, "promoter"),
            (w.creators[1].id, "promoter"),
            (w.mcn.id, "mcn"),
        ):
            owner = {
                "supplier": lambda o: w.supplier.id,
                "promoter": lambda o: o.promoter_id,
                "mcn": lambda o: o.mcn_id,
            }[part]
            mine = [o for o in live if owner(o) == party]
            expected_pending = sum(getattr(o, part) for o in mine if not o.settled)
            expected_available = sum(getattr(o, part) for o in mine if o.settled)
            got = (await ledger.balances(uow, party)).get("CNY", ledger.Balance("CNY"))
            assert (got.pending, got.available) == (expected_pending, expected_available), (part, party)
        mine_orders = {o.id for o in w.orders}
        for o in w.orders:
            kinds = await ledger.posted_kinds(uow, o.id)
            assert ("payment" in kinds) and (("settlement" in kinds) == o.settled)
            assert (kinds & {"refund", "clawback"} != set()) == (o.state in ("refunded", "refund_paid"))
        assert all(o.id in mine_orders for o in w.orders)
        # every paid order's split sums exactly to its total
        assert all(o.fee + o.promoter + o.mcn + o.supplier == o.total for o in w.orders)


FATES = ("paid", "refund_unshipped", "received", "refund_received", "settled", "clawback")
orders = st.lists(
    st.tuples(st.integers(0, 2), st.integers(1, 5), st.sampled_from([None, 0, 0, 1]), st.sampled_from(FATES)),
    min_size=1,
    max_size=8,
)


def schedule(
    plan: list[tuple[int, int, int | None, str]], confirm_early: bool, wait_hours: int
) -> list[tuple[Any, ...]]:
    """Operations that take every order to its fate, interleaved the way time would."""
    ops: list[tuple[Any, ...]] = []
    for i, (sku, qty, promoter, fate) in enumerate(plan):
        ops.append(("order", sku, qty, promoter))
        if fate == "refund_unshipped":
            ops.append(("refund_order", i))
    if confirm_early:
        ops.append(("confirm_refunds",))
    for i, (*_, fate) in enumerate(plan):
        if fate in ("received", "refund_received", "settled", "clawback"):
            ops.append(("receive_order", i))
    ops.append(("settle", wait_hours))  # inside the window: nothing may settle yet
    for i, (*_, fate) in enumerate(plan):
        if fate == "refund_received":
            ops.append(("refund_order", i))
    ops.append(("settle", 7 * 24 + 1))
    for i, (*_, fate) in enumerate(plan):
        if fate == "clawback":
            ops.append(("refund_order", i))
    ops.append(("confirm_refunds",))
    return ops


products = st.tuples(
    st.tuples(st.integers(1, 10**7), st.integers(100, 8000)),  # always one product in the pool
    st.tuples(st.integers(1, 10**7), st.one_of(st.just(0), st.integers(100, 8000))),
    st.tuples(st.integers(1, 10**7), st.one_of(st.just(0), st.integers(100, 8000))),
).map(list)


@dataclass
class Harness:
    runner: asyncio.Runner
    platform: Platform
    clock: FixedClock


@pytest.fixture(scope="module")
def harness(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Harness]:
    """One embedded platform on its own event loop (hypothesis drives it synchronously);
    every example builds its own parties, so examples never see each other's money."""
    load_tasks()  # the webhook's handler, as an app or a worker loads it (this module may run first)
    runner = asyncio.Runner()
    clock = FixedClock(datetime(2026, 11, 11, tzinfo=UTC))
    settings_ = make_settings(tmp_path_factory.mktemp("ledger"), platform_fee_bps=FEE_BPS, run_in_process_worker=False)
    platform = Platform(settings_, clock=clock)
    runner.run(upgrade(platform.db))
    yield Harness(runner, platform, clock)
    runner.run(platform.close())
    runner.close()


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    prices=products,
    share=st.integers(1, 9000),
    plan=orders,
    confirm_early=st.booleans(),
    wait_hours=st.integers(1, 6 * 24),
)
def test_the_ledger_always_balances_and_matches_an_independent_model(
    harness: Harness,
    prices: list[tuple[int, int]],
    share: int,
    plan: list[tuple[int, int, int | None, str]],
    confirm_early: bool,
    wait_hours: int,
) -> None:
    async def scenario() -> None:
        w = await build_world(harness.platform, harness.clock, prices, share)
        for op in schedule(plan, confirm_early, wait_hours):
            name, *args = op
            await {
                "order": op_order,
                "receive_order": op_receive_order,
                "settle": op_settle,
                "refund_order": op_refund_order,
                "confirm_refunds": op_confirm_refunds,
            }[name](w, *args)
            await check(w)

    harness.runner.run(scenario())
