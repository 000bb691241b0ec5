"""Two ``grassroots serve`` processes against one PostgreSQL and one Redis behave as one
platform: a token issued by one is accepted by the other, time moved on one is moved on
both, rate limits are counted across both, and a ``grassroots worker`` process delivers
the outbox's work (here the sandbox provider's webhook) to them."""

from __future__ import annotations

import time
from pathlib import Path

import httpx

from tests.conftest import ADDRESS, PASSWORD
from tests.e2e.conftest import Server, Servers, base_env, grassroots, pg_query


def token(server: Server, email: str) -> dict[str, str]:
    r = httpx.post(server.url + "/api/v1/auth/token", json={"email": email, "password": PASSWORD})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def signup(server: Server, handle: str, role: str) -> str:
    email = f"{handle}@example.com"
    r = httpx.post(
        server.url + "/api/v1/auth/signup", json={"email": email, "password": PASSWORD, "handle": handle, "role": role}
    )
    assert r.status_code == 201, r.text
    return email


def test_two_instances_behave_as_one_platform(
    tmp_path: Path, pg_database: str, e2e_redis_url: str, servers: Servers
) -> None:
    env = base_env(
        tmp_path / "shared",
        GRASSROOTS_DATABASE_URL=pg_database,
        GRASSROOTS_REDIS_URL=e2e_redis_url,
        GRASSROOTS_LOGIN_IP_LIMIT="7",
    )
    r = grassroots(["migrate"], env)
    assert r.returncode == 0, r.stderr
    # each instance gets its own data dir: nothing may be shared through local files
    a = servers.start({**env, "GRASSROOTS_DATA_DIR": str(tmp_path / "a")})
    # b believes the platform is at an address where nothing listens: the webhooks it sends fail
    dead = "http://127.0.0.1:9"
    b = servers.start({**env, "GRASSROOTS_DATA_DIR": str(tmp_path / "b"), "GRASSROOTS_PUBLIC_URL": dead}, workers=2)
    assert httpx.get(a.url + "/healthz").json()["checks"] == {"database": "ok", "redis": "ok"}

    r = grassroots(["create-admin", "--email", "ops@example.com", "--password", PASSWORD], env)
    assert r.returncode == 0, r.stderr
    creator = token(b, signup(a, "shared_user", "creator"))  # login 1
    for server in (a, b, b):
        me = httpx.get(server.url + "/api/v1/me", headers=creator)
        assert me.status_code == 200 and me.json()["handle"] == "shared_user"

    admin = token(a, "ops@example.com")  # login 2
    moved = httpx.post(a.url + "/api/v1/admin/test-clock", json={"advance_seconds": 3 * 86400}, headers=admin)
    assert moved.status_code == 200
    assert httpx.get(b.url + "/api/v1/admin/test-clock", headers=admin).json()["offset_seconds"] == 3 * 86400

    # A payment through the sandbox. The instance that records the buyer's confirmation sends
    # the webhook itself at once; when that fails, a worker retries it from the outbox.
    supplier = token(b, signup(b, "supplier_x", "supplier"))  # login 3
    buyer = token(a, signup(a, "buyer_x", "consumer"))  # login 4
    product = httpx.post(
        a.url + "/api/v1/products",
        headers=supplier,
        json={
            "title": "Tea",
            "category": "home",
            "commission_bps": 0,
            "skus": [{"name": "tin", "price_minor": 1000, "currency": "CNY", "stock": 3}],
        },
    ).json()
    order = httpx.post(
        b.url + "/api/v1/orders",
        headers={**buyer, "Idempotency-Key": "w1"},
        json={"items": [{"sku_id": product["skus"][0]["id"], "quantity": 1}], "shipping_address": ADDRESS},
    ).json()
    pay = httpx.post(a.url + f"/api/v1/orders/{order['id']}/pay", headers=buyer, json={}).json()
    assert httpx.post(b.url + f"/sandbox/payments/{pay['payment_id']}/confirm").status_code == 200
    database = pg_database.rsplit("/", 1)[1]
    pending = "SELECT count(*) FROM outbox_events WHERE dispatched_at IS NULL"
    webhook = pending + " AND name = 'payments.sandbox_webhook'"
    failed = webhook + " AND attempts = 1 AND last_error LIKE '%deliver_sandbox_webhook%'"
    deadline = time.monotonic() + 10
    while pg_query(database, failed) != 1 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert pg_query(database, failed) == 1  # b tried at once, and failed
    assert httpx.get(a.url + f"/api/v1/orders/{order['id']}", headers=buyer).json()["status"] == "pending_payment"
    servers.start_worker({**env, "GRASSROOTS_PUBLIC_URL": a.url})
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if httpx.get(a.url + f"/api/v1/orders/{order['id']}", headers=buyer).json()["status"] == "paid":
            break
        time.sleep(0.2)
    assert httpx.get(b.url + f"/api/v1/orders/{order['id']}", headers=buyer).json()["status"] == "paid"
    # delivered once, and nothing given up (events stay leased until the relay's next look)
    delivered = (
        "SELECT count(*) FROM event_deliveries d JOIN outbox_events e ON e.id = d.event_id"
        " WHERE e.name = 'payments.sandbox_webhook'"
    )
    assert pg_query(database, delivered) == 1
    assert pg_query(database, "SELECT count(*) FROM outbox_events WHERE failed_at IS NOT NULL") == 0

    # 4 logins so far from this address; the shared limit is 7 per window across both instances
    codes = [
        httpx.post(s.url + "/api/v1/auth/token", json={"email": "x@example.com", "password": "wrong-pass"}).status_code
        for s in (a, b, a, b)
    ]
    assert codes == [401, 401, 401, 429]

    metrics = httpx.get(b.url + "/metrics").text
    assert 'route="/api/v1/me"' in metrics
