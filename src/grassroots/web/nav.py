"""Role-specific navigation. Each domain registers its entries; the top bar shows the
ones for the signed-in user's role."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from grassroots.config import Settings
from grassroots.kernel.auth import Role
from grassroots.kernel.i18n import N_


@dataclass(frozen=True, slots=True)
class NavItem:
    path: str
    label: str  # msgid, translated when rendered
    roles: frozenset[Role]
    order: int = 100
    enabled: Callable[[Settings], bool] | None = None


_items: list[NavItem] = []


def register(
    path: str,
    label: str,
    roles: tuple[Role, ...] | None = None,
    *,
    order: int = 100,
    enabled: Callable[[Settings], bool] | None = None,
) -> None:
    if any(i.path == path for i in _items):
        return
    _items.append(NavItem(path, label, frozenset(roles or tuple(Role)), order, enabled))


def items_for(role: Role | None, settings: Settings) -> list[NavItem]:
    if role is None:
        return []
    return sorted(
        (i for i in _items if role in i.roles and (i.enabled is None or i.enabled(settings))),
        key=lambda i: (i.order, i.path),
    )


register("/home", N_("Home"), order=0)
register("/account", N_("Account"), order=900)


ROLE_LABELS: dict[str, str] = {
    Role.consumer: N_("Shopper"),
    Role.creator: N_("Creator"),
    Role.supplier: N_("Supplier"),
    Role.mcn: N_("MCN agency"),
    Role.admin: N_("Operator"),
}

ROLE_PITCH: dict[str, str] = {
    Role.consumer: N_("Discover notes and videos, buy what they recommend, and earn by sharing products you love."),
    Role.creator: N_("Plant desire with notes and short videos; sell from your showcase and earn commission."),
    Role.supplier: N_(
        "List goods, set the commission creators earn in the affiliate pool, ship orders and handle returns."
    ),
    Role.mcn: N_("Sign creators and receive your share of the commission on what they sell, automatically."),
}
