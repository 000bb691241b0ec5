"""Fuzz the API with schemathesis from our own OpenAPI document: no input may cause a
5xx, and every response must match the documented schema (including the error shape)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import checks

from grassroots.app import create_app
from grassroots.identity import service as identity
from grassroots.kernel.migrations import upgrade
from grassroots.kernel.platform import Platform
from tests.conftest import PASSWORD, make_settings

pytestmark = pytest.mark.fuzz

CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_schema_conformance,
    checks.response_headers_conformance,
]


def _build(tmp: Path) -> tuple[object, str]:
    cfg = make_settings(tmp, run_in_process_worker=False)
    platform = Platform(cfg)

    async def setup() -> str:
        await upgrade(platform.db)
        async with platform.unit_of_work() as uow:
            admin = await identity.create_admin(uow, email="fuzz@example.com", password=PASSWORD, handle="fuzz_admin")
            token = identity.issue_token(platform.secret_key, admin, identity.ACCESS, 3600)
        await platform.db.dispose()  # the test client runs its own event loop
        return token

    token = asyncio.run(setup())
    return create_app(cfg, platform=platform), token


_app, _token = _build(Path(__import__("tempfile").mkdtemp(prefix="grassroots-fuzz-")))
schema = schemathesis.openapi.from_asgi("/openapi.json", _app)


@schema.parametrize()
@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_anonymous_calls_never_break_the_api(case: schemathesis.Case) -> None:
    case.call_and_validate(checks=CHECKS)


@schema.parametrize()
@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_authenticated_calls_never_break_the_api(case: schemathesis.Case) -> None:
    case.call_and_validate(headers={"Authorization": f"Bearer {_token}"}, checks=CHECKS)
