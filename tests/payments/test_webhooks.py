"""Only a verified, fresh, first delivery of a provider event changes anything."""

from __future__ import annotations

import asyncio
import json
import secrets
import time
import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select, update

from grassroots.kernel.events import MAX_ATTEMPTS
from grassroots.kernel.models import OutboxEvent
from grassroots.kernel.platform import Platform
from grassroots.payments import repository
from grassroots.payments.models import Payment, SandboxRefund
from grassroots.payments.sandbox import WEBHOOK_EVENT, sign
from grassroots.payments.service import webhook_secret
from tests.commerce.test_money import admin_headers
from tests.conftest import Actor, actor, advance, drain, make_admin, make_product, pay_order, place_order

WEBHOOK = "/api/v1/payments/sandbox/webhook"


def body_for(payment_id: str, amount: int, type_: str = "payment.succeeded", event_id: str | None = None) -> bytes:
    return json.dumps(
        {
            "id": event_id or "evt_" + secrets.token_hex(8),
            "type": type_,
            "created": int(time.time()),
            "data": {"payment_id": payment_id, "amount_minor": amount, "currency": "CNY"},
        }
    ).encode()


def signed(platform: Platform, body: bytes, at: int | None = None, secret: str | None = None) -> dict[str, str]:
    key = secret or webhook_secret(platform.secret_key, "sandbox")
    return {"content-type": "application/json", "sandbox-signature": sign(key, body, at or int(time.time()))}


async def started_payment(client: httpx.AsyncClient) -> tuple[dict, dict, object]:
    supplier, buyer = await actor(client, "supplier"), await actor(client, "consumer")
    product = await make_product(client, supplier, price=5000)
    order = await place_order(client, buyer, product["skus"][0]["id"])
    pay = await client.post(f"/api/v1/orders/{order['id']}/pay", headers=buyer.headers, json={"provider": "sandbox"})
    assert pay.status_code == 200 and pay.json()["redirect_url"] == f"/sandbox/payments/{pay.json()['payment_id']}"
    return order, pay.json(), buyer


async def status(client: httpx.AsyncClient, order: dict, buyer: object) -> str:
    return (await client.get(f"/api/v1/orders/{order['id']}", headers=buyer.headers)).json()["status"]  # type: ignore[attr-defined]


async def test_forged_stale_and_malformed_deliveries_change_nothing(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    order, pay, buyer = await started_payment(client)
    body = body_for(pay["payment_id"], 5000)
    cases = [
        signed(platform, body, secret="not-the-secret"),
        signed(platform, body, at=int(time.time()) - 600),
        {"content-type": "application/json"},
        {"content-type": "application/json", "sandbox-signature": "t=abc,v1=00"},
        {"content-type": "application/json", "sandbox-signature": "garbage"},
    ]
    for headers in cases:
        r = await client.post(WEBHOOK, content=body, headers=headers)
        assert (r.status_code, r.json()["error"]["code"]) == (400, "webhook_signature_invalid"), headers
    tampered = body.replace(b"5000", b"1")
    r = await client.post(WEBHOOK, content=tampered, headers=signed(platform, body))
    assert r.json()["error"]["code"] == "webhook_signature_invalid"
    junk = b'{"hello": "world"}'
    r = await client.post(WEBHOOK, content=junk, headers=signed(platform, junk))
    assert (r.status_code, r.json()["error"]["code"]) == (400, "webhook_malformed")
    assert await status(client, order, buyer) == "pending_payment"
    assert (
        await client.post("/api/v1/payments/stripe/webhook", content=body, headers=signed(platform, body))
    ).status_code == 404


async def test_a_verified_delivery_pays_once_and_duplicates_change_nothing(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    order, pay, buyer = await started_payment(client)
    body = body_for(pay["payment_id"], 5000, event_id="evt_once")
    first = await client.post(WEBHOOK, content=body, headers=signed(platform, body))
    assert first.json() == {"status": "processed"}
    assert await status(client, order, buyer) == "paid"
    for _ in range(3):
        again = await client.post(WEBHOOK, content=body, headers=signed(platform, body))
        assert again.json() == {"status": "duplicate"}
    other = body_for(pay["payment_id"], 5000)  # a new event id for the same payment
    assert (await client.post(WEBHOOK, content=other, headers=signed(platform, other))).json() == {
        "status": "processed"
    }
    admin = await make_admin(client)
    tok = (
        await client.post("/api/v1/auth/token", json={"email": admin["email"], "password": admin["password"]})
    ).json()
    tb = (
        await client.get(
            "/api/v1/admin/ledger/trial-balance", headers={"Authorization": f"Bearer {tok['access_token']}"}
        )
    ).json()
    clearing = next(a for a in tb["accounts"] if a["account"] == "clearing")
    assert clearing["balance_minor"] == 5000  # posted once


async def test_the_amount_must_match(client: httpx.AsyncClient, platform: Platform) -> None:
    order, pay, buyer = await started_payment(client)
    body = body_for(pay["payment_id"], 4999)
    r = await client.post(WEBHOOK, content=body, headers=signed(platform, body))
    assert (r.status_code, r.json()["error"]["code"]) == (400, "amount_mismatch")
    assert await status(client, order, buyer) == "pending_payment"


async def test_unknown_payments_are_acknowledged_and_ignored(client: httpx.AsyncClient, platform: Platform) -> None:
    body = body_for("01a20000-0000-7000-8000-000000000000", 100)
    assert (await client.post(WEBHOOK, content=body, headers=signed(platform, body))).json() == {"status": "ignored"}


async def test_declined_payments_can_be_retried(client: httpx.AsyncClient) -> None:
    order, pay, buyer = await started_payment(client)
    assert (await client.post(f"/sandbox/payments/{pay['payment_id']}/decline")).json()["status"] == "declined"
    await drain(client)
    payment = (await client.get(f"/api/v1/payments/{pay['payment_id']}", headers=buyer.headers)).json()  # type: ignore[attr-defined]
    assert payment["status"] == "failed"
    assert await status(client, order, buyer) == "pending_payment"
    r = await client.post(f"/sandbox/payments/{pay['payment_id']}/confirm")
    assert (r.status_code, r.json()["error"]["code"]) == (409, "checkout_closed")
    paid = await pay_order(client, buyer, order["id"])  # type: ignore[arg-type]
    assert paid["status"] == "paid"


async def test_paying_twice_reuses_the_open_checkout(client: httpx.AsyncClient) -> None:
    order, pay, buyer = await started_payment(client)
    again = await client.post(f"/api/v1/orders/{order['id']}/pay", headers=buyer.headers)  # type: ignore[attr-defined]
    assert again.json()["payment_id"] == pay["payment_id"]
    r = await client.post(f"/api/v1/orders/{order['id']}/pay", headers=buyer.headers, json={"provider": "paypal"})  # type: ignore[attr-defined]
    assert (r.status_code, r.json()["error"]["code"]) == (422, "unknown_provider")
    stranger = await actor(client, "consumer")
    assert (await client.get(f"/api/v1/payments/{pay['payment_id']}", headers=stranger.headers)).status_code == 404


async def refund_refused_by_the_issuer(client: httpx.AsyncClient) -> tuple[dict, dict[str, str]]:
    """A paid order refunded by its supplier whose refund the issuer refused; an operator's headers."""
    supplier, buyer = await actor(client, "supplier"), await actor(client, "consumer")
    product = await make_product(client, supplier)
    order = await place_order(client, buyer, product["skus"][0]["id"])
    await pay_order(client, buyer, order["id"], fail_refunds=True)
    await client.post(f"/api/v1/orders/{order['id']}/refund", headers=supplier.headers, json={"reason": "oops"})
    await drain(client)
    admin = await make_admin(client)
    tok = (
        await client.post("/api/v1/auth/token", json={"email": admin["email"], "password": admin["password"]})
    ).json()
    return order, {"Authorization": f"Bearer {tok['access_token']}"}


async def test_a_failed_refund_can_be_retried_by_an_operator(client: httpx.AsyncClient) -> None:
    order, admin_h = await refund_refused_by_the_issuer(client)
    tb = (await client.get("/api/v1/admin/ledger/trial-balance", headers=admin_h)).json()
    payable = next(a for a in tb["accounts"] if a["account"] == "refunds_payable")
    assert payable["balance_minor"] == -10_000  # still owed to the buyer
    platform: Platform = client._transport.app.state.platform  # type: ignore[attr-defined]
    async with platform.unit_of_work() as uow:
        refunds = await repository.refunds_for_order(uow.session, uuid.UUID(order["id"]))
        assert [r.status.value for r in refunds] == ["failed"]
        charge = await repository.sandbox_charge_for(uow.session, refunds[0].payment_id)
        assert charge is not None
        charge.fail_refunds = False  # the issuer accepts it this time
    retried = await client.post(f"/api/v1/admin/refunds/{refunds[0].id}/retry", headers=admin_h)
    assert retried.status_code == 200 and retried.json()["status"] == "pending"
    assert (retried.json()["failure_reason"], retried.json()["completed_at"]) == (None, None)  # not done yet
    await drain(client)
    tb = (await client.get("/api/v1/admin/ledger/trial-balance", headers=admin_h)).json()
    assert all(a["balance_minor"] == 0 for a in tb["accounts"] if a["account"] in ("refunds_payable", "clearing"))
    r = await client.post(f"/api/v1/admin/refunds/{refunds[0].id}/retry", headers=admin_h)
    assert (r.status_code, r.json()["error"]["code"]) == (409, "invalid_state")


async def test_two_retries_at_once_reach_the_provider_once(client: httpx.AsyncClient, platform: Platform) -> None:
    order, admin_h = await refund_refused_by_the_issuer(client)
    async with platform.unit_of_work(write=False) as uow:
        (failed,) = await repository.refunds_for_order(uow.session, uuid.UUID(order["id"]))
    retries = await asyncio.gather(
        *(client.post(f"/api/v1/admin/refunds/{failed.id}/retry", headers=admin_h) for _ in range(2))
    )
    assert sorted(r.status_code for r in retries) == [200, 409]
    assert [r.json()["error"]["code"] for r in retries if r.status_code == 409] == ["invalid_state"]
    async with platform.unit_of_work(write=False) as uow:
        assert await uow.session.scalar(select(func.count()).select_from(SandboxRefund)) == 2  # first try + one retry


async def test_pressing_pay_again_or_twice_at_once_sends_one_webhook(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    order, pay, buyer = await started_payment(client)
    confirm = f"/sandbox/payments/{pay['payment_id']}/confirm"
    answers = await asyncio.gather(*(client.post(confirm) for _ in range(4)))
    answers.append(await client.post(confirm))
    assert {(r.status_code, r.json()["status"]) for r in answers} == {(200, "captured")}
    async with platform.unit_of_work(write=False) as uow:
        events = (await uow.session.scalars(select(OutboxEvent).where(OutboxEvent.name == WEBHOOK_EVENT))).all()
    assert [e.payload["body"]["data"]["payment_id"] for e in events] == [pay["payment_id"]]
    r = await client.post(f"/sandbox/payments/{pay['payment_id']}/decline")
    assert (r.status_code, r.json()["error"]["code"]) == (409, "checkout_closed")
    r = await client.post("/sandbox/payments/01a20000-0000-7000-8000-000000000000/confirm")
    assert (r.status_code, r.json()["error"]["code"]) == (404, "checkout_not_found")
    await drain(client)
    assert await status(client, order, buyer) == "paid"


async def test_an_event_for_another_providers_payment_is_ignored(client: httpx.AsyncClient, platform: Platform) -> None:
    order, pay, buyer = await started_payment(client)
    async with platform.unit_of_work() as uow:
        await uow.session.execute(update(Payment).values(provider="elsewhere"))
    body = body_for(pay["payment_id"], 5000)
    assert (await client.post(WEBHOOK, content=body, headers=signed(platform, body))).json() == {"status": "ignored"}
    assert await status(client, order, buyer) == "pending_payment"


@pytest.mark.parametrize("body", [b"", b"{}", b'{"fail_refunds": "yes"}', b"[1]"])
async def test_sandbox_confirm_input(client: httpx.AsyncClient, body: bytes) -> None:
    _, pay, _ = await started_payment(client)
    r = await client.post(
        f"/sandbox/payments/{pay['payment_id']}/confirm", content=body, headers={"content-type": "application/json"}
    )
    assert r.status_code in (200, 422)
    if r.status_code == 422:
        assert r.json()["error"]["code"] == "validation_error"


async def test_the_webhook_outlasts_an_outage_longer_than_the_outboxs_default(
    client: httpx.AsyncClient, platform: Platform, monkeypatch: pytest.MonkeyPatch
) -> None:
    order, pay, buyer = await started_payment(client)

    async def down(path: str, body: bytes, headers: dict[str, str]) -> None:
        raise ConnectionError("the platform is down")

    monkeypatch.setattr(platform, "post_webhook", down)
    await client.post(f"/sandbox/payments/{pay['payment_id']}/confirm")
    for _ in range(MAX_ATTEMPTS + 2):  # past the outbox's default budget
        await drain(client)
        await advance(client, 3601)
    monkeypatch.undo()
    await advance(client, 3601)
    await drain(client)
    async with platform.unit_of_work(write=False) as uow:
        event = (await uow.session.scalars(select(OutboxEvent).where(OutboxEvent.name == WEBHOOK_EVENT))).one()
    assert event.dispatched_at is not None and event.failed_at is None
    assert await status(client, order, buyer) == "paid"


@pytest.mark.parametrize("amount", ["Infinity", "5000.7", "true", '"5000"', str(10**30), "-5000"])
async def test_an_amount_that_is_not_a_sum_of_money_is_malformed(
    client: httpx.AsyncClient, platform: Platform, amount: str
) -> None:
    order, pay, buyer = await started_payment(client)
    body = body_for(pay["payment_id"], 5000).replace(b'"amount_minor": 5000', f'"amount_minor": {amount}'.encode())
    r = await client.post(WEBHOOK, content=body, headers=signed(platform, body))
    assert (r.status_code, r.json()["error"]["code"]) == (400, "webhook_malformed")
    assert await status(client, order, buyer) == "pending_payment"


async def test_a_signed_body_of_the_wrong_shape_is_malformed_not_a_crash(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    order, pay, buyer = await started_payment(client)
    data = {"payment_id": pay["payment_id"], "amount_minor": 5000, "currency": "CNY"}
    bodies = [
        provider_event("payment.failed", {**data, "reason": {"a": 1}}),
        provider_event("payment.failed", {**data, "reason": ["declined"]}),
        provider_event("payment.failed", {**data, "reason": "card\x00declined"}),  # PostgreSQL refuses a NUL
        provider_event("payment.failed", {**data, "reason": "\ud800"}),  # a lone surrogate
        provider_event("payment.failed", data).replace(b'"id": "evt_', b'"id": "\\ud800evt_'),
        b"[" * 100_000 + b"]" * 100_000,  # deeper than the JSON parser goes
    ]
    for body in bodies:
        r = await client.post(WEBHOOK, content=body, headers=signed(platform, body))
        assert (r.status_code, r.json()["error"]["code"]) == (400, "webhook_malformed")
    assert await status(client, order, buyer) == "pending_payment"


async def test_an_operator_finds_failed_refunds_and_sends_them_again(client: httpx.AsyncClient) -> None:
    from tests.commerce.test_regressions import browser_for
    from tests.web.test_pages import HTML, csrf_of

    order, admin_h = await refund_refused_by_the_issuer(client)
    listed = (await client.get("/api/v1/admin/refunds", params={"status": "failed"}, headers=admin_h)).json()
    (failed,) = listed["items"]
    assert (failed["order_id"], failed["status"], failed["amount_minor"]) == (order["id"], "failed", 10_000)
    assert failed["failure_reason"] and failed["completed_at"]
    assert (await client.get("/api/v1/admin/refunds", params={"status": "pending"}, headers=admin_h)).json() == {
        "items": [],
        "next_cursor": None,
    }
    for role in ("supplier", "consumer", "creator", "mcn"):
        who = await actor(client, role)
        assert (await client.get("/api/v1/admin/refunds", headers=who.headers)).status_code == 403
        page = await (await browser_for(client, who)).get("/admin/refunds", headers=HTML)
        assert page.status_code == 403

    admin = await make_admin(client)
    browser = await browser_for(client, Actor(admin["id"], admin["email"], admin["handle"], "admin", {}))
    order_page = await browser.get(f"/orders/{order['id']}", headers=HTML)
    assert f'action="/admin/refunds/{failed["id"]}/retry"' in order_page.text
    worklist = await browser.get("/admin/refunds", headers=HTML)
    assert f'action="/admin/refunds/{failed["id"]}/retry"' in worklist.text and 'href="/admin/refunds"' in worklist.text
    platform: Platform = client._transport.app.state.platform  # type: ignore[attr-defined]
    async with platform.unit_of_work() as uow:
        refund = await repository.get_refund(uow.session, uuid.UUID(failed["id"]))
        assert refund is not None
        charge = await repository.sandbox_charge_for(uow.session, refund.payment_id)
        assert charge is not None
        charge.fail_refunds = False  # the issuer accepts it this time
    r = await browser.post(
        f"/admin/refunds/{failed['id']}/retry", data={"csrf_token": csrf_of(worklist.text)}, headers=HTML
    )
    assert r.headers["location"] == "/admin/refunds?status=failed"
    after = await browser.get(r.headers["location"], headers=HTML)
    assert "Sent to the payment provider again." in after.text and failed["id"] not in after.text
    await drain(client)
    done = (await client.get("/api/v1/admin/refunds", params={"status": "succeeded"}, headers=admin_h)).json()
    assert [x["id"] for x in done["items"]] == [failed["id"]]
    zh = {**HTML, "accept-language": "zh-CN"}
    again = await browser.post(
        f"/admin/refunds/{failed['id']}/retry", data={"csrf_token": csrf_of(worklist.text)}, headers=zh
    )
    shown = (await browser.get(again.headers["location"], headers=zh)).text
    assert "这笔退款已重新发起过" in shown  # not failed any more: refused, in the reader's language


# ------------------------------------------------------------------ events out of the usual order


def provider_event(type_: str, data: dict) -> bytes:
    return json.dumps(
        {"id": "evt_" + secrets.token_hex(8), "type": type_, "created": int(time.time()), "data": data}
    ).encode()


async def test_a_success_reported_after_a_failure_pays_the_order(client: httpx.AsyncClient, platform: Platform) -> None:
    """A declined card, then the buyer's retry on the same checkout succeeds: the money
    arrived, so the order is paid (before, the success was acknowledged and dropped)."""
    order, pay, buyer = await started_payment(client)
    data = {"payment_id": pay["payment_id"], "amount_minor": 5000, "currency": "CNY"}
    failed = provider_event("payment.failed", {**data, "reason": "card declined"})
    r = await client.post(WEBHOOK, content=failed, headers=signed(platform, failed))
    assert r.json()["status"] == "processed"
    ok = provider_event("payment.succeeded", data)
    assert (await client.post(WEBHOOK, content=ok, headers=signed(platform, ok))).json()["status"] == "processed"
    await drain(client)
    assert await status(client, order, buyer) == "paid"


async def test_a_declined_checkout_left_open_is_closed_before_another_opens(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    """A provider may keep a checkout open after declining a card (another card may be
    tried there). Pressing Pay again must not leave two checkouts that both take money."""
    order, pay, buyer = await started_payment(client)
    first = pay["payment_id"]
    declined = provider_event(
        "payment.failed", {"payment_id": first, "amount_minor": 5000, "currency": "CNY", "reason": "card declined"}
    )
    assert (await client.post(WEBHOOK, content=declined, headers=signed(platform, declined))).status_code == 200
    again = await client.post(f"/api/v1/orders/{order['id']}/pay", headers=buyer.headers, json={"provider": "sandbox"})  # type: ignore[attr-defined]
    assert again.status_code == 200 and again.json()["payment_id"] != first
    r = await client.post(f"/sandbox/payments/{first}/confirm")
    assert (r.status_code, r.json()["error"]["code"]) == (409, "checkout_closed")
    assert (await client.post(f"/sandbox/payments/{again.json()['payment_id']}/confirm")).status_code == 200
    await drain(client)
    assert await status(client, order, buyer) == "paid"
    async with platform.unit_of_work(write=False) as uow:
        charges = [
            await repository.sandbox_charge_for(uow.session, uuid.UUID(p)) for p in (first, again.json()["payment_id"])
        ]
    assert [c.status.value for c in charges if c is not None] == ["expired", "captured"]

    # Cancelling an order closes such a checkout too: nothing can be taken for it afterwards.
    order, pay, buyer = await started_payment(client)
    declined = provider_event(
        "payment.failed",
        {"payment_id": pay["payment_id"], "amount_minor": 5000, "currency": "CNY", "reason": "card declined"},
    )
    assert (await client.post(WEBHOOK, content=declined, headers=signed(platform, declined))).status_code == 200
    assert (await client.post(f"/api/v1/orders/{order['id']}/cancel", headers=buyer.headers)).status_code == 200  # type: ignore[attr-defined]
    r = await client.post(f"/sandbox/payments/{pay['payment_id']}/confirm")
    assert (r.status_code, r.json()["error"]["code"]) == (409, "checkout_closed")


async def refunded_with_a_failed_refund(client: httpx.AsyncClient, platform: Platform) -> tuple[Any, dict, Actor]:
    supplier, buyer = await actor(client, "supplier"), await actor(client, "consumer")
    product = await make_product(client, supplier)
    order = await place_order(client, buyer, product["skus"][0]["id"])
    await pay_order(client, buyer, order["id"], fail_refunds=True)
    r = await client.post(f"/api/v1/orders/{order['id']}/refund", headers=supplier.headers, json={"reason": "oops"})
    assert r.status_code == 200, r.text
    await drain(client)
    async with platform.unit_of_work(write=False) as uow:
        (refund,) = await repository.refunds_for_order(uow.session, uuid.UUID(order["id"]))
    assert refund.status.value == "failed"
    return refund, order, buyer


async def test_a_refund_reported_done_after_a_failure_leaves_the_send_again_list(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    admin = await admin_headers(client)
    refund, _order, _buyer = await refunded_with_a_failed_refund(client, platform)
    data = {"refund_id": str(refund.id), "payment_id": str(refund.payment_id), "amount_minor": 10_000}
    ok = provider_event("refund.succeeded", {**data, "currency": "CNY"})
    assert (await client.post(WEBHOOK, content=ok, headers=signed(platform, ok))).json()["status"] == "processed"
    listed = (await client.get("/api/v1/admin/refunds", params={"status": "failed"}, headers=admin)).json()
    assert listed["items"] == []  # nothing left to send again: a retry would pay twice
    tb = (await client.get("/api/v1/admin/ledger/trial-balance", headers=admin)).json()
    assert tb["total_minor"] == 0
    platform_accounts = {a["account"]: a["balance_minor"] for a in tb["accounts"] if a["party_id"] is None}
    assert platform_accounts.get("refunds_payable", 0) == 0


async def test_a_refund_event_must_match_the_refunds_amount(client: httpx.AsyncClient, platform: Platform) -> None:
    refund, _order, _buyer = await refunded_with_a_failed_refund(client, platform)
    for amount, currency in ((1, "CNY"), (10_000, "USD")):
        data = {"refund_id": str(refund.id), "payment_id": str(refund.payment_id), "amount_minor": amount}
        ok = provider_event("refund.succeeded", {**data, "currency": currency})
        r = await client.post(WEBHOOK, content=ok, headers=signed(platform, ok))
        assert (r.status_code, r.json()["error"]["code"]) == (400, "amount_mismatch")
