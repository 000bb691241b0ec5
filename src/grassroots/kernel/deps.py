"""FastAPI dependencies shared by every domain's routes."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Request

from grassroots.kernel.platform import Platform
from grassroots.kernel.uow import UnitOfWork

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
READ_ONLY = "__grassroots_read_only__"

F = TypeVar("F", bound=Callable[..., Any])


def read_only(endpoint: F) -> F:
    """Mark a non-GET endpoint whose unit of work only reads (a login): on SQLite it then
    does not take the writer lock. Anything it does write is still committed."""
    setattr(endpoint, READ_ONLY, True)
    return endpoint


def get_platform(request: Request) -> Platform:
    platform: Platform = request.app.state.platform
    return platform


async def get_uow(request: Request) -> AsyncIterator[UnitOfWork]:
    """One unit of work per request; committed after the handler returns and before the
    response is sent (``scope="function"``), so a failed commit never becomes a 2xx."""
    platform = get_platform(request)
    endpoint = getattr(request.scope.get("route"), "endpoint", None)
    write = request.method not in SAFE_METHODS and not getattr(endpoint, READ_ONLY, False)
    async with platform.unit_of_work(write=write) as uow:
        request.state.uow = uow
        yield uow


UoW = Annotated[UnitOfWork, Depends(get_uow, scope="function")]
PlatformDep = Annotated[Platform, Depends(get_platform)]
