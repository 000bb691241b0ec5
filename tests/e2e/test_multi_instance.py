"""Two ``grassroots serve`` processes against one PostgreSQL and one Redis behave as one
platform: a token issued by one is accepted by the other, time moved on one is moved on
both, and rate limits are counted across both."""

from __future__ import annotations

import time
from pathlib import Path

import httpx

from tests.conftest import PASSWORD
from tests.e2e.conftest import Servers, base_env, grassroots, pg_query


def test_two_instances_share_identity_time_and_limits(
    tmp_path: Path, pg_database: str, e2e_redis_url: str, servers: Servers
) -> None:
    start_server = servers.start
    env = base_env(
        tmp_path / "shared",
        GRASSROOTS_DATABASE_URL=pg_database,
        GRASSROOTS_REDIS_URL=e2e_redis_url,
        GRASSROOTS_LOGIN_IP_LIMIT="5",
    )
    r = grassroots(["migrate"], env)
    assert r.returncode == 0, r.stderr
    # each instance gets its own data dir: nothing may be shared through local files
    a = start_server({**env, "GRASSROOTS_DATA_DIR": str(tmp_path / "a")})
    b = start_server({**env, "GRASSROOTS_DATA_DIR": str(tmp_path / "b")}, workers=2)
    assert httpx.get(a.url + "/healthz").json()["checks"] == {"database": "ok", "redis": "ok"}

    r = grassroots(["create-admin", "--email", "ops@example.com", "--password", PASSWORD], env)
    assert r.returncode == 0, r.stderr
    signup = httpx.post(
        a.url + "/api/v1/auth/signup",
        json={"email": "shared@example.com", "password": PASSWORD, "handle": "shared_user", "role": "creator"},
    )
    assert signup.status_code == 201
    token = httpx.post(b.url + "/api/v1/auth/token", json={"email": "shared@example.com", "password": PASSWORD})
    headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
    for server in (a, b, b):
        me = httpx.get(server.url + "/api/v1/me", headers=headers)
        assert me.status_code == 200 and me.json()["handle"] == "shared_user"

    admin_token = httpx.post(a.url + "/api/v1/auth/token", json={"email": "ops@example.com", "password": PASSWORD})
    admin = {"Authorization": f"Bearer {admin_token.json()['access_token']}"}
    moved = httpx.post(a.url + "/api/v1/admin/test-clock", json={"advance_seconds": 3 * 86400}, headers=admin)
    assert moved.status_code == 200
    assert httpx.get(b.url + "/api/v1/admin/test-clock", headers=admin).json()["offset_seconds"] == 3 * 86400

    # 2 logins so far from this address; the shared limit is 5 per window across both instances
    codes = [
        httpx.post(s.url + "/api/v1/auth/token", json={"email": "x@example.com", "password": "wrong-pass"}).status_code
        for s in (a, b, a, b)
    ]
    assert codes == [401, 401, 401, 429]

    metrics = httpx.get(b.url + "/metrics").text
    assert 'route="/api/v1/me"' in metrics

    # Events committed by the app processes are relayed by a `grassroots worker` process.
    database = pg_database.rsplit("/", 1)[1]
    pending = "SELECT count(*) FROM outbox_events WHERE dispatched_at IS NULL"
    assert pg_query(database, pending) >= 2  # two sign-ups, no in-process worker with Redis
    servers.start_worker(env)
    deadline = time.monotonic() + 20
    while pg_query(database, pending) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert pg_query(database, pending) == 0
