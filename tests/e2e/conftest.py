"""End-to-end fixtures: real ``grassroots`` server processes and a real Chromium."""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import IN_CI, PG_HOST, PG_PORT, PG_USER, need

CHROMIUM = os.environ.get("GRASSROOTS_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    url: str
    process: subprocess.Popen[bytes]
    log: Path


def base_env(data_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GRASSROOTS_")}
    env.update(
        {
            "GRASSROOTS_DATA_DIR": str(data_dir),
            "GRASSROOTS_ENV": "test",
            "GRASSROOTS_SECRET_KEY": "e2e-" + "k" * 40,
            "GRASSROOTS_LOGIN_IP_LIMIT": "100000",
            "GRASSROOTS_SIGNUP_IP_LIMIT": "100000",
            **extra,
        }
    )
    return env


def grassroots(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "grassroots", *args], env=env, capture_output=True, text=True, timeout=120, check=False
    )


class Servers:
    """Starts ``grassroots serve`` processes and stops them (asserting they logged no traceback)."""

    def __init__(self, logs: Path) -> None:
        self.logs = logs
        self.started: list[Server] = []

    def start(self, env: dict[str, str], workers: int = 1) -> Server:
        port = free_port()
        log = self.logs / f"server-{port}.log"
        with log.open("wb") as fh:
            proc = subprocess.Popen(
                [sys.executable, "-m", "grassroots", "serve", "--port", str(port), "--workers", str(workers)],
                env=env,
                stdout=fh,
                stderr=subprocess.STDOUT,
            )
        server = Server(f"http://127.0.0.1:{port}", proc, log)
        self.started.append(server)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise RuntimeError(f"server exited early:\n{log.read_text()}")
            try:
                if httpx.get(server.url + "/healthz", timeout=1).status_code == 200:
                    return server
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"server did not become healthy:\n{log.read_text()}")

    def start_worker(self, env: dict[str, str]) -> Server:
        log = self.logs / f"worker-{len(self.started)}.log"
        with log.open("wb") as fh:
            proc = subprocess.Popen(
                [sys.executable, "-m", "grassroots", "worker"], env=env, stdout=fh, stderr=subprocess.STDOUT
            )
        worker = Server("", proc, log)
        self.started.append(worker)
        return worker

    def stop_all(self) -> None:
        for s in self.started:
            s.process.terminate()
            try:
                s.process.wait(10)
            except subprocess.TimeoutExpired:
                s.process.kill()
        for s in self.started:
            text = s.log.read_text(errors="replace")
            assert "Traceback" not in text, f"server {s.url} logged an error:\n{text[-4000:]}"


@pytest.fixture
def servers(tmp_path: Path) -> Iterator[Servers]:
    pool = Servers(tmp_path)
    yield pool
    pool.stop_all()


@pytest.fixture
def start_server(servers: Servers) -> Callable[..., Server]:
    return servers.start


@pytest.fixture(scope="module")
def embedded_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("embedded")


@pytest.fixture(scope="module")
def embedded_server(embedded_data: Path) -> Iterator[Server]:
    """One migrated SQLite platform served for the whole module (tests use distinct accounts)."""
    env = base_env(embedded_data / "data")
    r = grassroots(["migrate"], env)
    assert r.returncode == 0, r.stderr
    servers = Servers(embedded_data)
    yield servers.start(env)
    servers.stop_all()


@pytest.fixture
def e2e_redis_url(redis_url: str) -> str:
    """A Redis db of its own (the unit tests use another), emptied first."""
    import redis

    url = redis_url.rsplit("/", 1)[0] + "/14"
    client = redis.Redis.from_url(url)
    client.flushdb()
    client.close()
    return url


@pytest.fixture
def pg_database() -> Iterator[str]:
    """A fresh PostgreSQL database, as an operator would create one."""
    need(f"PostgreSQL at {PG_HOST}:{PG_PORT}", _open(PG_HOST, PG_PORT))
    name = f"gr_e2e_{secrets.token_hex(4)}"
    _psql(f"CREATE DATABASE {name}")
    yield f"postgresql+asyncpg://{PG_USER}@{PG_HOST}:{PG_PORT}/{name}"
    _psql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def _psql(sql: str) -> None:
    pg_query("postgres", sql, fetch=False)


def pg_query(database: str, sql: str, *, fetch: bool = True) -> Any:
    """Run one statement as the PostgreSQL superuser; the first value of the first row."""
    import asyncio
    import threading

    import asyncpg

    result: list[Any] = []

    async def go() -> None:
        conn = await asyncpg.connect(host=PG_HOST, port=PG_PORT, user=PG_USER, database=database)
        try:
            result.append(await conn.fetchval(sql) if fetch else await conn.execute(sql))
        finally:
            await conn.close()

    # A thread of its own: Playwright's sync API may own this thread's event loop.
    worker = threading.Thread(target=asyncio.run, args=(go(),))
    worker.start()
    worker.join()
    return result[0] if result else None


def _open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


@pytest.fixture(scope="module")
def browser():  # type: ignore[no-untyped-def]
    if not Path(CHROMIUM).exists():
        message = f"Chromium not found at {CHROMIUM} (apt install chromium)"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    # Module scope: Playwright's sync API holds an event loop on this thread until it exits,
    # which async tests elsewhere must not see.

    with sync_playwright() as pw:
        b = pw.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                "--disable-quic",
            ],
        )
        yield b
        b.close()
