"""The ``grassroots`` command as an operator uses it (real processes)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

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


def test_demo_seeds_every_role(tmp_path: Path) -> None:
    r = run(["demo", "--no-serve", "--data-dir", str(tmp_path / "demo")], tmp_path)
    assert r.returncode == 0, r.stderr
    for role in ("consumer", "creator", "supplier", "mcn", "admin"):
        assert role in r.stdout
    assert "grassroots-demo" in r.stdout
    assert (tmp_path / "demo" / "grassroots.db").exists()
    # running it again starts fresh instead of failing on existing accounts
    again = run(["demo", "--no-serve", "--data-dir", str(tmp_path / "demo")], tmp_path)
    assert again.returncode == 0, again.stderr


@pytest.mark.parametrize("cmd", [["--help"], ["version"]])
def test_help_and_version(tmp_path: Path, cmd: list[str]) -> None:
    r = run(cmd, tmp_path)
    assert r.returncode == 0
