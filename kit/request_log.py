"""One readable log line per request, and a request id on every answer."""

import logging
import re
import time
import itertools
import os
import secrets
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("dist.access")
# The process (4 hex digits of its pid: worker processes never share one) and a counter started at a
# random point: unique in the logs without a system call per request, as uuid4 costs.
_ID_PREFIX = f"{os.getpid() & 0xFFFF:04x}"
_id_counter = itertools.count(secrets.randbelow(2**31))
# Longer paths and query strings are cut: one hostile 8 KB query would otherwise be one 8 KB line.
MAX_LOGGED_TARGET = 300
# The path arrives percent-decoded, so %0A is a real line break: a client could write a log line
# of its own ("... INFO GET /admin ... [req ...]"). Control characters and Unicode line breaks are
# written back in percent form.
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def loggable(text: str) -> str:
    """`text` with control characters and line breaks percent-encoded: one log line stays one line."""
    return _UNSAFE.sub(lambda match: "".join(f"%{byte:02X}" for byte in match.group().encode()), text)


def next_request_id() -> str:
    return f"{_ID_PREFIX}{next(_id_counter):08x}"


class RequestLogMiddleware:
    """Pure ASGI (not BaseHTTPMiddleware) so streaming answers and background work are untouched."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = next_request_id()
        scope.setdefault("state", {})["request_id"] = request_id
        started = time.perf_counter()
        status: dict[str, Any] = {"code": 500}

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-request-id", request_id.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            elapsed_ms = (time.perf_counter() - started) * 1000
            query = scope.get("query_string", b"").decode("latin-1")
            path = loggable(scope["path"] + (f"?{query}" if query else ""))
            if len(path) > MAX_LOGGED_TARGET:
                path = f"{path[:MAX_LOGGED_TARGET]}... ({len(path)} characters)"
            log.info("%s %s -> %s in %.1f ms [req %s]", scope["method"], path, status["code"], elapsed_ms, request_id)
