"""Property-based fuzzing of every operation in the OpenAPI schema with Schemathesis, as an admin,
against the real server on 127.0.0.1: no 500s, and status codes and bodies as documented.

Examples per operation are bounded (FUZZ_EXAMPLES, default 10; FUZZ_SEED, default 7) so the run
takes a few minutes; a new seed explores other inputs.
"""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from devtools.tally_emulator import TallyServer
from tests.conftest import TALLY_COMPANY
from devtools.loopback import admin_key_for, free_port, start_server

pytestmark = pytest.mark.slow
EXAMPLES = os.environ.get("FUZZ_EXAMPLES", "10")
SEED = os.environ.get("FUZZ_SEED", "7")


def test_every_operation_answers_as_documented(database_url: str, tally: TallyServer, tmp_path: Path) -> None:
    key = admin_key_for(database_url, "fuzzer")
    port = free_port()
    env_extra = {"TALLY_HOST": tally.url, "TALLY_COMPANY": TALLY_COMPANY, "TALLY_READ_TIMEOUT_SECONDS": "2"}
    server = start_server(database_url, port, env_extra)
    st = shutil.which("st", path=str(Path(sys.executable).parent)) or "st"
    try:
        result = subprocess.run(
            [st, "run", f"http://127.0.0.1:{port}/openapi.json", "--header", f"X-API-Key:{key}",
             "--max-examples", EXAMPLES, "--checks", "all", "--exclude-checks", "positive_data_acceptance",
             "--workers", "1", "--request-timeout", "30", "--no-color", "--seed", SEED],
            capture_output=True, text=True, timeout=900, cwd=tmp_path)
    finally:
        server.kill()
        server.wait(10)
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
