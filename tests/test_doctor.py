"""``assistant doctor`` on real parts: PulseAudio virtual devices and the emulator."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

from assistant.webex.emulator import Emulator

ROOT = Path(__file__).resolve().parents[1]


def doctor(env: dict[str, str], url: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = {**env, "PYTHONPATH": str(ROOT), "XDG_CONFIG_HOME": str(tmp_path / "config")}
    return subprocess.run(
        [sys.executable, "-m", "assistant", "--webex-url", url, "doctor"],
        env=env, capture_output=True, text=True, timeout=120, check=False,
    )


def test_doctor_passes_with_devices_and_sign_in(pulse: Any, emulator: Emulator, tmp_path: Path) -> None:
    result = doctor({**pulse.env, "WEBEX_ACCESS_TOKEN": "emulator-token"}, emulator.url, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert [line.split()[0] for line in lines] == ["ok"] * 6
    assert any("signed in as" in line and "4 answer endpoints" in line for line in lines)


def test_doctor_says_what_to_fix(pulse: Any, emulator: Emulator, tmp_path: Path) -> None:
    env = {k: v for k, v in pulse.env.items() if k != "WEBEX_ACCESS_TOKEN"}
    result = doctor(env, emulator.url, tmp_path)
    assert result.returncode == 1
    webex = next(line for line in result.stdout.splitlines() if " webex " in f" {line} ")
    assert webex.startswith("FIX") and "assistant login" in webex
