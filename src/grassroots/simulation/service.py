"""The demo platform, filled through the services (never raw SQL).

For now: one account per role, so a person can log in as each. Deterministic for a
given seed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from grassroots.identity import service as identity
from grassroots.kernel.auth import Role
from grassroots.kernel.platform import Platform

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

Progress = Callable[[str, int, int], None]


async def seed_demo(platform: Platform, seed: int = 42, progress: Progress | None = None) -> list[DemoAccount]:
    """Create the demo accounts. ``seed`` fixes every random choice of the demo world;
    the accounts themselves are always the same so their logins can be printed."""
    total = len(DEMO_ACCOUNTS)
    for i, account in enumerate(DEMO_ACCOUNTS, start=1):
        async with platform.unit_of_work() as uow:
            await identity.signup(
                uow,
                email=account.email,
                password=account.password,
                handle=account.handle,
                role=account.role,
                allow_admin=account.role == Role.admin,
            )
        if progress:
            progress("accounts", i, total)
    return list(DEMO_ACCOUNTS)
