"""scripts/install-packages.sh refuses a bad YAP_INSTALLER before touching anything."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_a_bad_installer_is_a_clear_error(tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    env = {**os.environ, "YAP_INSTALLER": "conda"}
    done = subprocess.run(
        [str(ROOT / "scripts" / "install-packages.sh"), str(venv)],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 2
    assert "YAP_INSTALLER must be uv or pip, got 'conda'" in done.stderr
    assert not venv.exists()


def test_a_missing_venv_argument_is_a_clear_error() -> None:
    done = subprocess.run(
        [str(ROOT / "scripts" / "install-packages.sh")], capture_output=True, text=True, timeout=30
    )
    assert done.returncode != 0
    assert "usage: install-packages.sh VENV" in done.stderr
