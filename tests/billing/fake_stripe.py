"""Stripe's API as far as checkout and the portal use it: a local HTTP server that records
each request and answers like Stripe. Our code and the stripe library run unchanged."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl

ANSWERS = {
    "/v1/checkout/sessions": {
        "id": "cs_test_1",
        "object": "checkout.session",
        "url": "https://checkout.stripe.test/c/pay/cs_test_1",
    },
    "/v1/billing_portal/sessions": {
        "id": "bps_test_1",
        "object": "billing_portal.session",
        "url": "https://billing.stripe.test/p/session/bps_test_1",
    },
}


@dataclass
class FakeStripe:
    url: str
    requests: list[tuple[str, dict[str, str], str]] = field(default_factory=list)
    status: int = 200


@contextmanager
def fake_stripe() -> Iterator[FakeStripe]:
    fake = FakeStripe(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server's name)
            body = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode()
            fake.requests.append((self.path, dict(parse_qsl(body)), self.headers["Authorization"]))
            answer: dict[str, Any] = ANSWERS.get(self.path, {})
            if fake.status != 200 or not answer:
                answer = {"error": {"type": "api_error", "message": "Something went wrong"}}
            payload = json.dumps(answer).encode()
            self.send_response(fake.status if ANSWERS.get(self.path) else 404)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
