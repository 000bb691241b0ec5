"""What the benchmarks share: waiting for a started server and stopping its processes."""

from __future__ import annotations

import asyncio
import subprocess
import time
from pathlib import Path

import httpx


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
