"""The domain packages, and loading their background tasks (event handlers and
periodic jobs register themselves when their ``tasks`` module is imported)."""

from __future__ import annotations

import importlib
import importlib.util
import pkgutil

import grassroots


def load_tasks() -> list[str]:
    loaded = []
    for mod in pkgutil.iter_modules(grassroots.__path__):
        if not mod.ispkg:
            continue
        name = f"grassroots.{mod.name}.tasks"
        if importlib.util.find_spec(name) is not None:
            importlib.import_module(name)
            loaded.append(name)
    return loaded
