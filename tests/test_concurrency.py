"""Readers keep getting answers while an import writes."""

import threading
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from devtools.sample_prm import generate

pytestmark = pytest.mark.slow


def test_reads_succeed_while_an_import_writes(client: TestClient, tmp_path: Path) -> None:
    book = tmp_path / "prm.xlsx"
    generate(book, rows=20_000, retailers=200, goods=50)
    first = tmp_path / "first.xlsx"
    generate(first, rows=2_000, retailers=200, goods=50, seed=3)
    assert client.post("/run/prm-sync", files={"file": ("first.xlsx", first.read_bytes())}).status_code == 200
    done = threading.Event()
    outcome: dict[str, int] = {}

    def run_import() -> None:
        response = client.post("/run/prm-sync", files={"file": ("prm.xlsx", book.read_bytes())},
                               params={"confirm_shrink": "true"})
        outcome["import"] = response.status_code
        done.set()

    threading.Thread(target=run_import).start()
    statuses: list[int] = []
    while not done.is_set():
        for path in ("/retailers", "/inventory", "/products", "/debug/sync-logs"):
            statuses.append(client.get(path).status_code)
    done.wait(60)

    assert outcome["import"] == 200
    assert len(statuses) >= 8
    assert set(statuses) == {200}
