"""A client that sends a form body slowly must not hold up anyone else (the embedded
SQLite writer lock is only taken once the body has been read)."""

from __future__ import annotations

import socket
import time
from urllib.parse import urlparse

import httpx

from tests.conftest import PASSWORD
from tests.e2e.conftest import Server


def test_a_stalled_form_post_does_not_block_writes(embedded_server: Server) -> None:
    u = urlparse(embedded_server.url)
    stalled = socket.create_connection((u.hostname, u.port))
    try:
        for path in ("/login", "/signup"):
            stalled_req = (
                f"POST {path} HTTP/1.1\r\nHost: {u.hostname}\r\n"
                "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\ncsrf_to"
            )
            stalled.sendall(stalled_req.encode())
            time.sleep(0.3)
            start = time.monotonic()
            r = httpx.post(
                embedded_server.url + "/api/v1/auth/signup",
                timeout=5,
                json={
                    "email": f"busy{path[1:]}@example.com",
                    "password": PASSWORD,
                    "handle": f"busy_{path[1:]}",
                    "role": "consumer",
                },
            )
            assert r.status_code == 201
            assert time.monotonic() - start < 2
    finally:
        stalled.close()
