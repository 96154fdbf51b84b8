"""The spooled copy of an upload: made for one import, and swept up when a killed process left it."""

import io
import os
import time
from pathlib import Path

import pytest

from kit import workbooks


def _leftover(root: Path, name: str, age_hours: float) -> Path:
    folder = root / f"{workbooks.UPLOAD_FOLDER_PREFIX}{name}"
    folder.mkdir()
    (folder / "upload.xlsx").write_bytes(b"PK\x03\x04 left by a killed import")
    then = time.time() - age_hours * 3600
    os.utime(folder, (then, then))
    return folder


def test_an_upload_folder_left_for_a_day_is_removed_and_a_fresh_one_kept(tmp_path: Path) -> None:
    stale = _leftover(tmp_path, "stale", age_hours=30)
    fresh = _leftover(tmp_path, "fresh", age_hours=1)
    unrelated = tmp_path / "someone-elses-folder"
    unrelated.mkdir()
    os.utime(unrelated, (0, 0))

    removed = workbooks.remove_stale_uploads(root=tmp_path)

    assert removed == 1
    assert not stale.exists()
    assert fresh.exists()
    assert unrelated.exists()


def test_a_spooled_upload_holds_the_bytes_and_is_gone_after_the_block(monkeypatch: pytest.MonkeyPatch,
                                                                      tmp_path: Path) -> None:
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    monkeypatch.setattr("tempfile.tempdir", None)  # re-read TMPDIR

    with workbooks.spooled_upload(io.BytesIO(b"workbook bytes")) as path:
        held = path.read_bytes()
        folder = path.parent

    assert held == b"workbook bytes"
    assert folder.parent == tmp_path
    assert not folder.exists()
