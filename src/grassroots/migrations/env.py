"""Alembic environment. Grassroots always hands Alembic a live connection
(``grassroots migrate`` and the tests call ``kernel.migrations.upgrade``); the offline
branch and the URL fallback are for running ``alembic`` by hand."""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy.ext.asyncio import create_async_engine

from grassroots.config import Settings
from grassroots.kernel.migrations import run_sync_migrations
from grassroots.models import metadata

config = context.config


async def _run_with_url(url: str) -> None:
    engine = create_async_engine(url)
    async with engine.begin() as conn:
        await conn.run_sync(run_sync_migrations, metadata)
    await engine.dispose()


connection = config.attributes.get("connection")
if connection is not None:
    run_sync_migrations(connection, metadata)
elif context.is_offline_mode():
    context.configure(url=Settings().effective_database_url, target_metadata=metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
else:
    asyncio.run(_run_with_url(Settings().effective_database_url))
