"""FastAPI dependencies shared by every domain's routes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request

from grassroots.kernel.platform import Platform
from grassroots.kernel.uow import UnitOfWork

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def get_platform(request: Request) -> Platform:
    platform: Platform = request.app.state.platform
    return platform


async def get_uow(request: Request) -> AsyncIterator[UnitOfWork]:
    """One unit of work per request; committed after the handler returns and before the
    response is sent (``scope="function"``), so a failed commit never becomes a 2xx."""
    platform = get_platform(request)
    async with platform.unit_of_work(write=request.method not in SAFE_METHODS) as uow:
        request.state.uow = uow
        yield uow


UoW = Annotated[UnitOfWork, Depends(get_uow, scope="function")]
PlatformDep = Annotated[Platform, Depends(get_platform)]
