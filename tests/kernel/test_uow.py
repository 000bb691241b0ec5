"""Unit of work: services never commit; the boundary commits once or rolls back."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import func, select

import grassroots
from grassroots.identity import service as identity
from grassroots.identity.models import User
from grassroots.kernel.auth import Role
from grassroots.kernel.platform import Platform

SRC = Path(grassroots.__file__).parent


def test_services_and_repositories_never_commit() -> None:
    offenders = []
    for path in [*SRC.glob("*/service.py"), *SRC.glob("*/repository.py")]:
        for n, line in enumerate(path.read_text().splitlines(), 1):
            if re.search(r"\.(commit|rollback)\(", line):
                offenders.append(f"{path.relative_to(SRC)}:{n}")
    assert offenders == []


def test_services_do_not_import_http_layers() -> None:
    offenders = []
    for path in SRC.glob("*/service.py"):
        text = path.read_text()
        if re.search(r"^from grassroots\.\w+\.(api|pages) import|^from fastapi", text, re.M):
            offenders.append(str(path.relative_to(SRC)))
    assert offenders == []


async def _users(platform: Platform) -> int:
    async with platform.unit_of_work(write=False) as uow:
        return int(await uow.session.scalar(select(func.count()).select_from(User)) or 0)


async def test_boundary_commits_on_success_and_rolls_back_on_error(platform: Platform) -> None:
    async with platform.unit_of_work() as uow:
        await identity.signup(uow, email="a@example.com", password="long-enough-pw", handle="aaa", role=Role.consumer)
    assert await _users(platform) == 1
    with pytest.raises(ZeroDivisionError):
        async with platform.unit_of_work() as uow:
            await identity.signup(
                uow, email="b@example.com", password="long-enough-pw", handle="bbb", role=Role.consumer
            )
            _ = 1 / 0
    assert await _users(platform) == 1


async def test_after_commit_hooks_run_only_after_commit(platform: Platform) -> None:
    ran: list[int] = []

    async def hook() -> None:
        ran.append(await _users(platform))

    async with platform.unit_of_work() as uow:
        uow.after_commit(hook)
        await identity.signup(uow, email="c@example.com", password="long-enough-pw", handle="ccc", role=Role.creator)
    assert ran == [1]
    with pytest.raises(KeyError):
        async with platform.unit_of_work() as uow:
            uow.after_commit(hook)
            raise KeyError
    assert ran == [1]


async def test_a_failed_attempt_runs_the_undo_hooks_it_registered(platform: Platform) -> None:
    undone: list[str] = []

    async def undo(name: str) -> None:
        undone.append(name)

    async with platform.unit_of_work() as uow:
        uow.on_rollback(lambda: undo("outer"))
        with pytest.raises(RuntimeError):
            async with uow.attempt():
                uow.on_rollback(lambda: undo("inner"))
                raise RuntimeError("the page shows an error and carries on")
        assert undone == ["inner"]
    assert undone == ["inner"]  # the unit of work committed: the outer file stays
