"""kit/request_log.py: one request is one log line, whatever its path holds."""

import logging

import pytest
from fastapi.testclient import TestClient

from main import create_app
from settings import Settings

FORGED = "/nokey%0A2026-12-01%2023:59:59,000%20INFO%20dist.access%20GET%20/admin/keys%20-%3E%20200"


def _access_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [record.getMessage() for record in caplog.records if record.name == "dist.access"]


def test_a_percent_encoded_line_break_in_the_path_cannot_forge_a_log_line(
        settings: Settings, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="dist.access")

    with TestClient(create_app(settings)) as client:  # no key: the forger has none
        response = client.get(FORGED)

    assert response.status_code == 404
    (line,) = _access_lines(caplog)
    assert "\n" not in line and "\r" not in line
    assert line.startswith("GET /nokey%0A2026-12-01 23:59:59,000 INFO dist.access GET /admin/keys -> 200 -> 404 in ")


@pytest.mark.parametrize(("sent", "logged"), [
    ("/x%0D%0Ay", "/x%0D%0Ay"), ("/x%09y", "/x%09y"), ("/x%1By", "/x%1By"), ("/x%C2%85y", "/x%C2%85y"),
    ("/x%E2%80%A8y", "/x%E2%80%A8y"), ("/caf%C3%A9", "/café"),
])
def test_control_characters_and_unicode_line_breaks_are_logged_percent_encoded(
        client: TestClient, caplog: pytest.LogCaptureFixture, sent: str, logged: str) -> None:
    caplog.set_level(logging.INFO, logger="dist.access")

    client.get(sent)

    (line,) = _access_lines(caplog)
    assert line.startswith(f"GET {logged} -> 404 in ")
