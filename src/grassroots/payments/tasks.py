"""Delivery of the sandbox provider's webhooks: signed at send time and POSTed to the
platform's webhook endpoint at once by the process that recorded them (an eager handler),
retried by the outbox until the platform answers 2xx."""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING

from grassroots.kernel.events import Event, on_external
from grassroots.payments.sandbox import SIGNATURE_HEADER, WEBHOOK_EVENT, WEBHOOK_PATH, sign
from grassroots.payments.service import webhook_secret

if TYPE_CHECKING:
    from grassroots.kernel.platform import Platform


class WebhookRejected(RuntimeError):
    pass


# As real providers do (for days), not the outbox's default of about three hours: a
# payment the platform never hears of is money taken for an order that then expires.
WEBHOOK_ATTEMPTS = 80  # about three days: six quick tries, then one an hour


@on_external(WEBHOOK_EVENT, key="payments.deliver_sandbox_webhook", eager=True, max_attempts=WEBHOOK_ATTEMPTS)
async def deliver_sandbox_webhook(platform: Platform, event: Event) -> None:
    body = json.dumps(event.payload["body"], separators=(",", ":")).encode()
    secret = webhook_secret(platform.secret_key, "sandbox")
    headers = {"content-type": "application/json", SIGNATURE_HEADER: sign(secret, body, int(time.time()))}
    status, answer = await platform.post_webhook(WEBHOOK_PATH, body, headers)
    if status >= 300:
        raise WebhookRejected(f"platform answered {status}: {answer}")
