"""The demo platform, filled through the services (never raw SQL), deterministic for a
given seed.

One account per role with printed logins; the supplier's products in the affiliate pool;
the creator's showcase and MCN contract; and the shopper's orders in every state (paid,
shipped, received, settled, refunded, cancelled, awaiting payment) so every page has
real content. Money moves through the sandbox provider and the ledger like any order's.
Seeding runs on its own clock starting two weeks ago, so settled orders really did wait
out their return window.
"""

from __future__ import annotations

import random
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from grassroots.affiliate import service as affiliate
from grassroots.catalog import service as catalog
from grassroots.catalog.models import Product
from grassroots.catalog.schemas import ProductIn, SkuIn
from grassroots.commerce import service as commerce
from grassroots.commerce.schemas import AddressIn, ItemIn, OrderIn, SourceIn
from grassroots.identity import service as identity
from grassroots.kernel.auth import Principal, Role
from grassroots.kernel.clock import FixedClock, utcnow
from grassroots.kernel.platform import Platform
from grassroots.mcn import service as mcn
from grassroots.payments import sandbox

DEMO_PASSWORD = "grassroots-demo"  # noqa: S105 - printed for demo logins


@dataclass(frozen=True, slots=True)
class DemoAccount:
    role: Role
    email: str
    handle: str
    password: str = DEMO_PASSWORD


DEMO_ACCOUNTS = (
    DemoAccount(Role.consumer, "shopper@example.com", "mei_shops"),
    DemoAccount(Role.creator, "creator@example.com", "lin_creates"),
    DemoAccount(Role.supplier, "supplier@example.com", "greenleaf_tea"),
    DemoAccount(Role.mcn, "mcn@example.com", "starlight_mcn"),
    DemoAccount(Role.admin, "admin@example.com", "ops_desk"),
)

# title, category, price (yuan), commission %, SKU names
CATALOG = (
    ("西湖龙井 Longjing green tea", "food", 168.00, 20, ("250 g tin", "500 g gift box")),
    ("龙泉青瓷杯 Celadon tea cup", "home", 88.00, 15, ("pale green", "plum blue")),
    ("苏绣丝巾 Suzhou silk scarf", "fashion", 399.00, 25, ("peony", "lotus")),
    ("补水精华 Hydrating essence 30 ml", "beauty", 229.00, 30, ("30 ml",)),
    ("竹制砧板 Bamboo cutting board", "home", 59.90, 10, ("medium", "large")),
    ("无线耳机 Wireless earbuds", "electronics", 299.00, 8, ("white", "black")),
    ("儿童绘本 Picture book: The Little Tea Farmer", "books", 45.00, 12, ("hardcover",)),
    ("瑜伽垫 Yoga mat 6 mm", "sports", 129.00, 18, ("sage", "sand")),
)
ADDRESS = AddressIn(name="林美", phone="+86 138 0000 0000", line1="文三路 90 号", city="杭州", country="CN")

Progress = Callable[[str, int, int], None]


async def _signup(platform: Platform, account: DemoAccount) -> Principal:
    async with platform.unit_of_work() as uow:
        user = await identity.signup(
            uow,
            email=account.email,
            password=account.password,
            handle=account.handle,
            role=account.role,
            allow_admin=account.role == Role.admin,
        )
        return identity.principal_of(user)


async def seed_demo(platform: Platform, seed: int = 42, progress: Progress | None = None) -> list[DemoAccount]:
    """Build the demo. ``platform`` must run on a ``FixedClock``: seeding moves it through the
    last two weeks and leaves it at the real time."""
    rng = random.Random(seed)  # noqa: S311 - demo data, not secrets
    clock = platform.clock
    assert isinstance(clock, FixedClock), "seed the demo on a FixedClock"
    report = progress or (lambda stage, done, total: None)
    now = utcnow()
    clock.set(now - timedelta(days=14))

    people: dict[Role, Principal] = {}
    for i, account in enumerate(DEMO_ACCOUNTS, start=1):
        people[account.role] = await _signup(platform, account)
        report("accounts", i, len(DEMO_ACCOUNTS))
    supplier, creator, shopper, agency = (
        people[Role.supplier],
        people[Role.creator],
        people[Role.consumer],
        people[Role.mcn],
    )

    products: list[Product] = []
    for i, (title, category, price, pct, sku_names) in enumerate(CATALOG, start=1):
        async with platform.unit_of_work() as uow:
            product = await catalog.create_product(
                uow,
                supplier,
                ProductIn(
                    title=title,
                    description=f"{title}. Shipped from Hangzhou within 48 hours.",
                    category=category,
                    commission_bps=pct * 100,
                    skus=[
                        SkuIn(
                            name=name,
                            price_minor=round(price * 100) + j * 2000,
                            currency="CNY",
                            stock=rng.randint(20, 120),
                        )
                        for j, name in enumerate(sku_names)
                    ],
                ),
            )
            products.append(product)
        report("products", i, len(CATALOG))

    async with platform.unit_of_work() as uow:
        for product in rng.sample(products, 5):
            await affiliate.add_to_showcase(uow, creator, product.id)
        contract = await mcn.offer(uow, agency, creator.id, 3000)
    async with platform.unit_of_work() as uow:
        await mcn.accept(uow, creator, contract.id)
        showcased = sorted(await affiliate.showcased_product_ids(uow, creator.id))

    # Orders, oldest first; each line: (days ago, product, via the creator?, what happens to it)
    plan = [
        (13, showcased[0], True, "settled"),
        (12, products[4].id, False, "settled"),
        (9, showcased[1], True, "received"),
        (8, showcased[2], True, "refunded"),
        (3, showcased[3], True, "shipped"),
        (2, showcased[0], True, "paid"),
        (1, products[5].id, False, "cancelled"),
        (0, showcased[4], True, "unpaid"),
    ]
    by_id = {p.id: p for p in products}
    for i, (days_ago, product_id, via_creator, fate) in enumerate(plan, start=1):
        clock.set(now - timedelta(days=days_ago, hours=rng.randint(1, 5)))
        await _order(platform, clock, shopper, supplier, creator if via_creator else None, by_id[product_id], fate, rng)
        report("orders", i, len(plan))
    clock.set(now)
    return list(DEMO_ACCOUNTS)


async def _order(
    platform: Platform,
    clock: FixedClock,
    shopper: Principal,
    supplier: Principal,
    creator: Principal | None,
    product: Product,
    fate: str,
    rng: random.Random,
) -> None:
    sku = product.skus[0]
    async with platform.unit_of_work() as uow:
        order, _ = await commerce.create_order(
            uow,
            shopper,
            OrderIn(
                items=[ItemIn(sku_id=sku.id, quantity=rng.randint(1, 2))],
                shipping_address=ADDRESS,
                source=SourceIn(creator_id=creator.id if creator else None),
            ),
            secrets.token_hex(8),
        )
        if fate == "cancelled":
            await commerce.cancel(uow, shopper, order.id)
            return
        if fate == "unpaid":
            return
        payment = await commerce.pay(uow, shopper, order.id, sandbox.SANDBOX.name)
        await sandbox.confirm(uow, payment.id)
    await sandbox.deliver_locally(platform)
    if fate == "paid":
        return
    clock.advance(timedelta(hours=20))
    async with platform.unit_of_work() as uow:
        await commerce.ship(uow, supplier, order.id, "SF Express", f"SF{rng.randint(10**9, 10**10 - 1)}")
    if fate == "shipped":
        return
    clock.advance(timedelta(days=2))
    async with platform.unit_of_work() as uow:
        await commerce.receive(uow, shopper, order.id)
        if fate in ("settled", "received"):
            await commerce.review(
                uow,
                shopper,
                order.id,
                rng.choice([4, 5, 5]),
                rng.choice(
                    [
                        "香气很正，回购。Lovely, will buy again.",
                        "Exactly as shown, fast delivery.",
                        "包装很用心 nicely packed.",
                    ]
                ),
            )
    if fate == "refunded":
        async with platform.unit_of_work() as uow:
            ret = await commerce.request_return(uow, shopper, order.id, "颜色和图片不一样 colour differs")
        clock.advance(timedelta(hours=6))
        async with platform.unit_of_work() as uow:
            await commerce.approve_return(uow, supplier, ret.id, restock=True)
        await sandbox.deliver_locally(platform)
    if fate == "settled":
        clock.advance(timedelta(days=8))
        async with platform.unit_of_work() as uow:
            await commerce.settle_due(uow)
