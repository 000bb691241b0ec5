"""The ``grassroots`` command."""

from __future__ import annotations

import asyncio
import os
import shutil
import sys
import tempfile
from collections.abc import Coroutine
from contextlib import closing
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn
from rich.table import Table

from grassroots import __version__
from grassroots.config import SECRET_FILE, SQLITE_FILE, Settings

app = typer.Typer(
    help="Grassroots: content social e-commerce you can run yourself.", no_args_is_help=True, add_completion=False
)
console = Console()
err = Console(stderr=True)
T = TypeVar("T")


def _fail(message: str, code: int = 1) -> None:
    err.print(f"[bold red]error:[/] {message}")
    raise typer.Exit(code)


def _settings() -> Settings:
    """The settings from the environment, or one line per bad variable and exit 1."""
    from pydantic import ValidationError

    # A misspelt variable would otherwise be ignored: GRASSROOTS_DATABSE_URL quietly means SQLite.
    known = {f"GRASSROOTS_{name.upper()}" for name in Settings.model_fields}
    for name in sorted(os.environ):
        upper = name.upper()  # settings are read whatever the case of their names
        if upper.startswith("GRASSROOTS_") and upper not in known and not upper.startswith("GRASSROOTS_TEST_"):
            err.print(f"[yellow]warning:[/] {name} is not a Grassroots setting; it is ignored.")
    try:
        return Settings()
    except ValidationError as exc:
        lines = [
            f"GRASSROOTS_{str(e['loc'][0]).upper() if e['loc'] else '?'}: {e['msg']}"
            + (f" (got {e['input']!r})" if isinstance(e.get("input"), str | int | float) else "")
            for e in exc.errors()
        ]
        _fail("invalid settings:\n  " + "\n  ".join(lines))
        raise  # unreachable: _fail exits


def _why(exc: BaseException) -> str:
    """An exception as a reason to print: its message, else its kind (a timeout has none)."""
    return str(exc) or type(exc).__name__


def _need_shared_key(settings: Settings, command: str) -> None:
    if settings.is_production and not settings.secret_key:
        kept = settings.data_dir / SECRET_FILE
        keep = (
            f" To keep today's sessions and webhooks valid, set it to the contents of {kept}." if kept.is_file() else ""
        )
        _fail(
            f"`grassroots {command}` in production needs GRASSROOTS_SECRET_KEY, the same on every "
            "process and host: a key generated per data folder would not verify the others' "
            "tokens, sessions or webhooks." + keep
        )


async def _schema_problem(settings: Settings) -> str | None:
    from grassroots.kernel.db import Database
    from grassroots.kernel.migrations import schema_status

    db = Database(settings.effective_database_url)
    try:
        status = await schema_status(db)
    except Exception as exc:  # unreachable or unusable database: say so, no traceback
        return f"Cannot open the database at {_redact(settings.effective_database_url)}: {_why(exc)}"
    finally:
        await db.dispose()
    if status.up_to_date:
        return None
    if status.ahead:
        return f"{status.describe()} Run the release that wrote it (or a newer one)."
    return f"{status.describe()} Run `grassroots migrate` first."


def _redact(url: str) -> str:
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        creds, host = rest.rsplit("@", 1)
        user = creds.split(":", 1)[0]
        return f"{scheme}://{user}:***@{host}" if ":" in creds else url
    return url


def _check_schema(settings: Settings) -> None:
    problem = asyncio.run(_schema_problem(settings))
    if problem:
        _fail(problem)


async def _redis_problem(url: str) -> str | None:
    from redis.asyncio import Redis

    client = Redis.from_url(url, socket_connect_timeout=5, socket_timeout=5)
    try:
        await client.ping()
    except Exception as exc:  # unreachable, refused, wrong password: say so, no traceback
        return f"Redis at {_redact(url)} does not answer: {_why(exc)}"
    finally:
        await client.aclose()
    return None


def _check_redis(settings: Settings) -> None:
    """Rate limits, feed snapshots and background work live in Redis when it is configured: refuse
    to start without it rather than serve errors (a supervisor restarts us once it is up)."""
    if settings.redis_url:
        problem = asyncio.run(_redis_problem(settings.redis_url))
        if problem:
            _fail(problem)


@app.command()
def version() -> None:
    """Print the version."""
    console.print(__version__)


@app.command()
def migrate() -> None:
    """Bring the configured database to the latest schema."""
    from grassroots.kernel.db import Database
    from grassroots.kernel.migrations import head_revision, schema_status, upgrade

    settings = _settings()
    if settings.is_sqlite:
        _data_dir(settings)

    async def run() -> tuple[str | None, str | None]:
        db = Database(settings.effective_database_url)
        try:
            before = (await schema_status(db)).current
            await upgrade(db)
            return before, head_revision()
        finally:
            await db.dispose()

    try:
        before, after = asyncio.run(run())
    except Exception as exc:
        _fail(f"migration failed on {_redact(settings.effective_database_url)}: {_why(exc)}")
        return
    where = _redact(settings.effective_database_url)
    if before == after:
        console.print(f"Database already at the latest schema ({after}): {where}")
    else:
        console.print(f"Database migrated: {before or 'empty'} → {after}: {where}")
    if before in ("0001", "0002"):  # data from before search existed: index it once
        _reindex(settings)


def _reindex(settings: Settings) -> None:
    from grassroots.domains import load_tasks
    from grassroots.flow import service as flow
    from grassroots.kernel.platform import Platform

    load_tasks()

    async def run() -> dict[str, int]:
        platform = Platform(settings)
        await platform.start(in_process_worker=False)
        try:
            with Progress(console=console, transient=True) as bar:
                task = bar.add_task("Indexing for search", total=None)
                return await flow.reindex(
                    platform, lambda kind, n: bar.update(task, description=f"Indexing {kind}: {n}")
                )
        finally:
            await platform.close()

    counts = asyncio.run(run())
    console.print("Search index rebuilt: " + ", ".join(f"{n} {kind}" for kind, n in counts.items()) + ".")


@app.command()
def reindex() -> None:
    """Rebuild the keyword-search index (products, posts, accounts) from the database."""
    settings = _settings()
    if settings.is_sqlite:
        _data_dir(settings)
    _check_schema(settings)
    _reindex(settings)


@app.command("create-admin")
def create_admin(
    email: Annotated[str, typer.Option(help="Email of the operator account")],
    password: Annotated[str, typer.Option(help="At least 8 characters", prompt=True, hide_input=True)],
    handle: Annotated[str | None, typer.Option(help="Handle (default: from the email)")] = None,
) -> None:
    """Create an operator (admin) account."""
    from grassroots.identity import service as identity
    from grassroots.kernel.errors import DomainError
    from grassroots.kernel.platform import Platform

    settings = _settings()
    if settings.is_sqlite and not (settings.data_dir / SQLITE_FILE).exists():
        _fail(f"No platform in {settings.data_dir} yet. Run `grassroots migrate` first.")
    _check_schema(settings)

    async def run() -> str:
        platform = Platform(settings)
        try:
            async with platform.unit_of_work() as uow:
                user = await identity.create_admin(uow, email=email, password=password, handle=handle)
                return user.handle
        finally:
            await platform.close()

    try:
        made = asyncio.run(run())
    except DomainError as exc:
        _fail(f"{exc.message} ({exc.code})")
        return
    console.print(f"Admin @{made} created for {email}.")


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port")] = 8000,
    workers: Annotated[int, typer.Option(min=1, help="Worker processes (more than 1 needs Redis)")] = 1,
) -> None:
    """Run the platform with the configured storage."""
    import uvicorn

    from grassroots.kernel.logs import configure_logging

    settings = _settings()
    if workers > 1 and not settings.redis_url:
        _fail("More than one worker process needs shared state: set GRASSROOTS_REDIS_URL.")
    if not settings.redis_url and settings.run_in_process_worker is False:
        _fail(
            "GRASSROOTS_RUN_IN_PROCESS_WORKER=false without GRASSROOTS_REDIS_URL leaves nobody to run "
            "background work (`grassroots worker` needs Redis)."
        )
    _need_shared_key(settings, "serve")
    if settings.is_sqlite:
        _data_dir(settings)
    _check_schema(settings)
    _check_redis(settings)
    settings.resolved_secret_key()  # create it once, before workers race for it
    configure_logging()
    metrics_dir = None
    if workers > 1:
        metrics_dir = Path(tempfile.mkdtemp(prefix="grassroots-metrics-"))
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(metrics_dir)
    console.print(
        f"Grassroots {__version__} on http://{host}:{port}  ({settings.env.value}, "
        f"{'SQLite' if settings.is_sqlite else 'PostgreSQL'}, "
        f"{'Redis' if settings.redis_url else 'in-process state'}, {workers} worker(s))"
    )
    try:
        uvicorn.run(
            "grassroots.app:create_app",
            timeout_keep_alive=settings.keep_alive_seconds,
            factory=True,
            host=host,
            port=port,
            workers=workers,
            log_config=None,
            access_log=False,
            proxy_headers=True,
        )
    finally:
        if metrics_dir is not None:  # the workers' metric files die with them
            shutil.rmtree(metrics_dir, ignore_errors=True)


@app.command()
def worker() -> None:
    """Run background work (event deliveries, periodic jobs) in production mode."""
    from arq.worker import Worker

    from grassroots.kernel.logs import configure_logging
    from grassroots.kernel.worker import worker_settings

    settings = _settings()
    if not settings.redis_url:
        _fail("`grassroots worker` needs GRASSROOTS_REDIS_URL; without Redis, `grassroots serve` runs jobs itself.")
    _need_shared_key(settings, "worker")
    _check_schema(settings)
    _check_redis(settings)
    configure_logging()
    console.print("Grassroots worker starting (arq).")
    Worker(**worker_settings(settings)).run()


@app.command()
def demo(
    host: Annotated[str, typer.Option(help="Interface to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port")] = 8000,
    data_dir: Annotated[Path, typer.Option(help="Where the demo platform lives")] = Path("grassroots-demo"),
    seed: Annotated[int, typer.Option(help="Seed for the demo world")] = 42,
    no_serve: Annotated[bool, typer.Option("--no-serve", help="Seed and exit")] = False,
) -> None:
    """Create a fresh embedded (SQLite) platform filled with demo data, and serve it."""
    from grassroots.domains import load_tasks
    from grassroots.kernel.clock import FixedClock, utcnow
    from grassroots.kernel.migrations import upgrade
    from grassroots.kernel.platform import Platform
    from grassroots.simulation.service import DemoAccount, seed_demo

    data_dir = data_dir.expanduser().resolve()
    _fresh_demo_dir(data_dir)
    if not no_serve:
        _port_free(host, port)  # before wiping anything
    for suffix in ("", "-wal", "-shm"):
        (data_dir / f"{SQLITE_FILE}{suffix}").unlink(missing_ok=True)
    shutil.rmtree(data_dir / "media", ignore_errors=True)
    os.environ.update({"GRASSROOTS_DATA_DIR": str(data_dir), "GRASSROOTS_ENV": "development"})
    for var in ("GRASSROOTS_DATABASE_URL", "GRASSROOTS_REDIS_URL", "GRASSROOTS_RUN_IN_PROCESS_WORKER"):
        os.environ.pop(var, None)
    settings = _settings()
    load_tasks()
    (data_dir / DEMO_MARK).write_text("A Grassroots demo: `grassroots demo` rebuilds this folder.\n")

    async def build() -> list[DemoAccount]:
        platform = Platform(settings, clock=FixedClock(utcnow()))
        try:
            await upgrade(platform.db)
            with Progress(
                TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), console=console, transient=False
            ) as bar:
                tasks: dict[str, TaskID] = {}

                def report(stage: str, done: int, total: int) -> None:
                    if stage not in tasks:
                        tasks[stage] = bar.add_task(f"Seeding {stage}", total=total)
                    bar.update(tasks[stage], completed=done)

                accounts = await seed_demo(platform, seed=seed, progress=report)
            await platform.start(in_process_worker=True)
            assert platform.worker is not None
            await platform.worker.drain()
            return accounts
        finally:
            await platform.close()

    accounts = _run_fast(build())
    url = f"http://{host}:{port}"
    table = Table(title="Demo logins (password for all: " + accounts[0].password + ")")
    table.add_column("role")
    table.add_column("email")
    table.add_column("handle")
    for a in accounts:
        table.add_row(a.role.value, a.email, "@" + a.handle)
    console.print(table)
    console.print(f"Demo data in {data_dir}")
    if no_serve:
        return
    console.print(f"[bold green]Grassroots demo on {url}[/]  (Ctrl+C to stop)")
    import uvicorn

    from grassroots.app import create_app
    from grassroots.kernel.logs import configure_logging

    configure_logging()
    uvicorn.run(create_app(settings), host=host, port=port, log_config=None, access_log=False)


DEMO_MARK = ".grassroots-demo"


def _data_dir(settings: Settings) -> Path:
    try:
        return settings.ensure_data_dir()
    except OSError as exc:
        _fail(f"Cannot use {settings.data_dir} as the data folder: {_why(exc)}")
        raise  # unreachable: _fail exits


def _fresh_demo_dir(data_dir: Path) -> None:
    """The demo rebuilds its folder: only an empty one, or an earlier demo's, never a platform."""
    if data_dir.exists() and not data_dir.is_dir():
        _fail(f"{data_dir} is a file, not a folder.")
    if data_dir.is_dir() and any(data_dir.iterdir()) and not _is_demo(data_dir):
        _fail(
            f"{data_dir} holds something other than a Grassroots demo, which `grassroots demo` would "
            "erase. Pick an empty or new folder with --data-dir."
        )
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        _fail(f"Cannot create {data_dir}: {_why(exc)}")


def _is_demo(data_dir: Path) -> bool:
    """Marked as a demo, or one built before the mark existed (its operator's account)."""
    if (data_dir / DEMO_MARK).exists():
        return True
    import sqlite3

    db = data_dir / SQLITE_FILE
    if not db.is_file():
        return False
    try:
        with closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True)) as conn:
            row = conn.execute("SELECT 1 FROM users WHERE email = 'admin@example.com' AND handle = 'ops_desk'")
            return row.fetchone() is not None
    except sqlite3.Error:
        return False


def _port_free(host: str, port: int) -> None:
    import socket

    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    except OSError as exc:
        _fail(f"Cannot listen on {host}: {_why(exc)}.")
        return
    with socket.socket(family, kind, proto) as probe:  # IPv4 or IPv6, as the host is
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as exc:
            _fail(f"Cannot listen on {host}:{port}: {_why(exc)}. Choose another with --port.")


def _run_fast(work: Coroutine[Any, Any, T]) -> T:
    """Run on uvloop when it is installed (``uvicorn[standard]`` brings it): seeding makes
    many small database round trips, and uvloop's thread wake-ups are cheaper."""
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop does not build everywhere (Windows)
        return asyncio.run(work)
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(work)


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()
