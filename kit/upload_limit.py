"""Refuse request bodies over MAX_UPLOAD_MB before reading them past the limit."""

import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send

# Room for the multipart envelope around a file of exactly the limit.
ENVELOPE_BYTES = 64 * 1024


class _BodyTooLarge(Exception):
    pass


class BodySizeLimitMiddleware:
    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.limit = max_bytes + ENVELOPE_BYTES

    async def _refuse(self, send: Send) -> None:
        megabytes = self.max_bytes // (1024 * 1024)
        body = json.dumps({
            "detail": f"The upload is larger than the {megabytes} MB limit (MAX_UPLOAD_MB); split the export or raise the limit.",
            "errors": [{"loc": ["body"], "msg": f"larger than {megabytes} MB", "type": "too_large"}],
        }).encode()
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in ("POST", "PUT", "PATCH"):
            await self.app(scope, receive, send)
            return
        for name, value in scope["headers"]:
            if name == b"content-length" and value.isdigit() and int(value) > self.limit:
                await self._refuse(send)
                return
        received = 0
        over = started = False

        async def counting_receive() -> Message:
            nonlocal received, over
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    over = True
                    raise _BodyTooLarge
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            # A body without a length (chunked) is only found too large while the app reads it,
            # and the app's body parser turns any read failure into its own "could not be read"
            # answer. Whatever the app says about a body cut short, the client hears the 413.
            if over:
                return
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except _BodyTooLarge:
            pass
        if over and not started:
            await self._refuse(send)
