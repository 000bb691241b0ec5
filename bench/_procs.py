"""What the benchmarks share: waiting for a started server, stopping its processes, and
measuring where the CPU went."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

PG_ADMIN = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def host_speed_ms(rounds: int = 3) -> float:
    """Milliseconds one core takes for a fixed pure-Python loop (best of ``rounds``): how fast
    this host is, so figures from different machines (or one noisy host) can be compared."""
    best = float("inf")
    for _ in range(rounds):
        t0 = time.process_time()
        total = 0
        for i in range(2_000_000):
            total += i
        best = min(best, time.process_time() - t0)
    return round(best * 1000, 1)


def pct(values: Sequence[float], p: float) -> float:
    """The p-th percentile (nearest rank); 0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


async def wait_healthy(url: str, log: Path, seconds: float) -> None:
    """Return once ``url``/healthz answers 200; fail after ``seconds`` pointing at ``log``."""
    deadline = time.monotonic() + seconds
    async with httpx.AsyncClient() as c:
        while time.monotonic() < deadline:
            try:
                if (await c.get(url + "/healthz")).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.2)
    raise RuntimeError(f"server did not start; see {log}")


def stop(procs: list[subprocess.Popen[bytes]]) -> None:
    """Terminate every process, then kill the ones still running after 15 s."""
    for p in procs:
        p.terminate()
    for p in procs:
        try:
            p.wait(15)
        except subprocess.TimeoutExpired:
            p.kill()


# ------------------------------------------------------------------ where the CPU went

TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
HAVE_PROC = Path("/proc/stat").exists()


def _proc_cpu(pid: int) -> float:
    """CPU seconds of one process (Linux /proc; 0 when gone or elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICK  # utime, stime


def _tree(root: int) -> list[int]:
    """``root`` and its descendants."""
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rpartition(")")[2].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            parents.setdefault(ppid, []).append(int(entry.name))
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo.extend(parents.get(pid, []))
    return out


def _machine_busy() -> float:
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    return (sum(values) - values[3] - values[4]) / TICK  # all but idle and iowait


class CpuMeter:
    """Cores busy during the measured window: the server's processes (``server_pid`` and its
    children), ``others`` (named process trees, such as a background worker), the PostgreSQL
    backends serving ``database``, this load generator, and everything else on the machine
    (other work there makes a run unreliable; this shows it). Linux only."""

    def __init__(self, server_pid: int, database: str | None, others: dict[str, int] | None = None) -> None:
        self.server_pid = server_pid
        self.database = database
        self.others = others or {}
        self.start: dict[str, float] = {}
        self.t0 = 0.0

    async def _pg_pids(self) -> list[int]:
        if self.database is None:
            return []
        engine = create_async_engine(PG_ADMIN)
        try:
            async with engine.connect() as conn:
                rows = await conn.execute(
                    text("SELECT pid FROM pg_stat_activity WHERE datname = :db"), {"db": self.database}
                )
                return [int(r[0]) for r in rows]
        finally:
            await engine.dispose()

    async def sample(self) -> dict[str, float]:
        found = {
            "machine": _machine_busy(),
            "server": sum(_proc_cpu(p) for p in _tree(self.server_pid)),
            "postgres": sum(_proc_cpu(p) for p in await self._pg_pids()),
            "load generator": time.process_time(),
        }
        for name, pid in self.others.items():
            found[name] = sum(_proc_cpu(p) for p in _tree(pid))
        return found

    async def begin(self) -> None:
        if HAVE_PROC:
            self.start = await self.sample()
        self.t0 = time.perf_counter()

    async def end(self) -> dict[str, float]:
        if not self.start:
            return {}
        now = await self.sample()
        window = time.perf_counter() - self.t0
        cores = {k: (now[k] - self.start[k]) / window for k in now}
        cores["other"] = cores["machine"] - sum(v for k, v in cores.items() if k != "machine")
        return {k: round(max(0.0, v), 2) for k, v in cores.items()}
