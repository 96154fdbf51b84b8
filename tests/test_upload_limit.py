"""kit/upload_limit.py: a body over MAX_UPLOAD_MB is a 413, with or without a Content-Length."""

import threading
import time
from collections.abc import Iterator

import httpx
import pytest
import uvicorn
from fastapi.testclient import TestClient

from devtools.loopback import free_port
from main import create_app
from settings import Settings

BOUNDARY = "----limit-test"
CHUNK = b"\0" * (64 * 1024)


@pytest.fixture
def server_url(settings: Settings) -> Iterator[str]:
    """The real app under uvicorn on 127.0.0.1, so the body really arrives chunked over a socket."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


def _multipart_in_chunks(megabytes: float) -> Iterator[bytes]:
    """A file upload of about `megabytes`, sent as it is generated: no Content-Length."""
    yield (f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"big.xlsx\"\r\n"
           f"Content-Type: application/octet-stream\r\n\r\n").encode()
    yield b"PK\x03\x04"
    for _ in range(int(megabytes * 16)):
        yield CHUNK
    yield f"\r\n--{BOUNDARY}--\r\n".encode()


@pytest.mark.parametrize("path", ["/run/prm-sync", "/admin/products/prices/upload", "/admin/ledger-mapping/upload"])
def test_a_chunked_upload_over_the_limit_is_a_413(client: TestClient, server_url: str, path: str) -> None:
    key = client.headers["X-API-Key"]

    response = httpx.post(f"{server_url}{path}", content=_multipart_in_chunks(5.5), timeout=30, headers={
        "X-API-Key": key, "Content-Type": f"multipart/form-data; boundary={BOUNDARY}"})

    assert response.request.headers.get("transfer-encoding") == "chunked"
    assert response.status_code == 413
    assert response.json() == {
        "detail": "The upload is larger than the 5 MB limit (MAX_UPLOAD_MB); split the export or raise the limit.",
        "errors": [{"loc": ["body"], "msg": "larger than 5 MB", "type": "too_large"}]}


def test_a_chunked_upload_under_the_limit_still_reaches_the_route(client: TestClient, server_url: str) -> None:
    key = client.headers["X-API-Key"]

    response = httpx.post(f"{server_url}/admin/products/prices/upload", content=_multipart_in_chunks(0.1), timeout=30,
                          headers={"X-API-Key": key, "Content-Type": f"multipart/form-data; boundary={BOUNDARY}"})

    # The route read it all and judged the file itself: zeros are no workbook.
    assert 400 <= response.status_code < 500 and response.status_code != 413
    assert response.json()["detail"].startswith("big.xlsx ")
