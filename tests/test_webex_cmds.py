"""The text commands as a person runs them: ``python -m assistant ...`` in a subprocess, against
the emulator on loopback."""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
import wave
from pathlib import Path
from typing import Any

import pytest

from assistant.cli import webex_cmds
from assistant.config import Settings, WebexSettings
from assistant.webex.client import WebexClient
from assistant.webex.emulator import Emulator

ROOT = Path(__file__).resolve().parents[1]
DESK = "Cisco 8865 (Desk phone)"


def env(tmp_path: Path, token: str | None) -> dict[str, str]:
    result = {k: v for k, v in os.environ.items() if k != "WEBEX_ACCESS_TOKEN"}
    # No sound server: these are Webex tests, and a sentence said aloud through the session's
    # PulseAudio takes seconds of real time (the voice is tested in test_voice.py and the e2e
    # tests). The sentence goes to the fallback WAV in this test's own runtime folder.
    runtime = tmp_path / "runtime"
    runtime.mkdir(mode=0o700, exist_ok=True)
    result.update(XDG_CONFIG_HOME=str(tmp_path / "config"), HOME=str(tmp_path),
                  PYTHONPATH=str(ROOT), XDG_RUNTIME_DIR=str(runtime),
                  PULSE_SERVER=f"unix:{runtime}/pulse/native")
    if token is not None:
        result["WEBEX_ACCESS_TOKEN"] = token
    return result


def assistant(tmp_path: Path, emulator: Emulator | None, *args: str,
              token: str | None = "emulator-token") -> subprocess.CompletedProcess[str]:
    url = ["--webex-url", emulator.url] if emulator else []
    return subprocess.run(
        [sys.executable, "-m", "assistant", *url, *args], check=False, capture_output=True, text=True,
        env=env(tmp_path, token), timeout=60, cwd=tmp_path,
    )


def answers(emulator: Emulator) -> list[dict[str, Any]]:
    return [r for r in emulator.requests() if r["path"] == "/v1/telephony/calls/answer"]


def desk_id(emulator: Emulator) -> str:
    return next(e.id for e in emulator.scenario.endpoints if e.name == DESK)


def test_answer_desk_phone_json(tmp_path: Path, emulator: Emulator) -> None:
    call_id = emulator.ring("Dana Smith", "+15551234567")
    result = assistant(tmp_path, emulator, "answer", "desk", "phone", "--json")
    assert result.returncode == 0, result.stderr
    outcome = json.loads(result.stdout)
    assert outcome == {
        "ok": True, "action": "answer", "callId": call_id, "endpointId": desk_id(emulator),
        "device": DESK, "message": "The call was answered. Your desk phone has it.", "status": 204,
    }
    [request] = answers(emulator)
    assert request["json"] == {"callId": call_id, "endpointId": desk_id(emulator)}
    assert request["status"] == 204


def test_answer_with_nothing_ringing_explains_and_exits_1(tmp_path: Path, emulator: Emulator) -> None:
    result = assistant(tmp_path, emulator, "answer", "desk", "phone", "--json")
    assert result.returncode == 1
    outcome = json.loads(result.stdout)
    assert outcome["ok"] is False and outcome["message"] == "Nothing is ringing right now."
    assert answers(emulator) == []
    text = assistant(tmp_path, emulator, "answer")
    assert (text.returncode, text.stdout) == (1, "Nothing is ringing right now.\n")


def test_answer_without_words_uses_the_primary_device(tmp_path: Path, emulator: Emulator) -> None:
    call_id = emulator.ring("Dana")
    result = assistant(tmp_path, emulator, "answer")
    assert (result.returncode, result.stdout) == (0, "The call was answered. You're connected.\n")
    assert [r["json"] for r in answers(emulator)] == [{"callId": call_id}]


def test_with_two_calls_ringing_the_answer_names_whose_call(tmp_path: Path, emulator: Emulator) -> None:
    emulator.ring("Dana Smith")
    time.sleep(0.01)  # "newest" is by creation time
    newest = emulator.ring("Lee Park")
    result = assistant(tmp_path, emulator, "answer", "desk", "phone")
    assert (result.returncode, result.stdout) == (
        0, "The call from Lee Park was answered. Your desk phone has it.\n")
    assert [r["json"]["callId"] for r in answers(emulator)] == [newest]


def test_answer_on_headset_alias(tmp_path: Path, emulator: Emulator) -> None:
    emulator.ring("Dana")
    result = assistant(tmp_path, emulator, "answer", "my", "headset", "--json")
    outcome = json.loads(result.stdout)
    assert outcome["device"] == "Webex Desktop Application" and outcome["ok"]


def test_ambiguous_and_unknown_devices_do_not_answer(tmp_path: Path, emulator: Emulator) -> None:
    emulator.ring("Dana")
    ambiguous = assistant(tmp_path, emulator, "answer", "phone")
    assert ambiguous.returncode == 1 and ambiguous.stdout.startswith("Which phone:")
    unknown = assistant(tmp_path, emulator, "answer", "kitchen", "--json")
    assert unknown.returncode == 1 and "kitchen" in json.loads(unknown.stdout)["message"]
    assert answers(emulator) == []


def test_webex_refusal_is_spoken_with_status(tmp_path: Path, emulator: Emulator) -> None:
    emulator.ring("Dana")
    result = assistant(tmp_path, emulator, "answer", "lobby", "--json")
    outcome = json.loads(result.stdout)
    assert result.returncode == 1 and outcome["status"] == 400 and not outcome["ok"]
    assert "does not support answering" in outcome["message"]


def test_decline(tmp_path: Path, emulator: Emulator) -> None:
    call_id = emulator.ring("Dana")
    result = assistant(tmp_path, emulator, "decline", "--json")
    assert result.returncode == 0 and json.loads(result.stdout)["message"] == "The caller was turned away."
    [reject] = [r for r in emulator.requests() if r["path"].endswith("/reject")]
    assert reject["json"] == {"callId": call_id, "action": "busy"}
    assert assistant(tmp_path, emulator, "decline").returncode == 1


def test_calls_and_devices(tmp_path: Path, emulator: Emulator) -> None:
    call_id = emulator.ring("Dana Smith")
    calls = json.loads(assistant(tmp_path, emulator, "calls", "--json").stdout)
    assert [(c["id"], c["caller"], c["ringingForMe"]) for c in calls] == [(call_id, "Dana Smith", True)]
    assert "Dana Smith" in assistant(tmp_path, emulator, "calls").stdout
    devices = json.loads(assistant(tmp_path, emulator, "devices", "--json").stdout)
    desk = next(d for d in devices["endpoints"] if d["name"] == DESK)
    assert desk["label"] == "desk phone" and "desk phone" in desk["spokenNames"]
    assert devices["unusable"] == []
    assert '"desk phone"' in assistant(tmp_path, emulator, "devices").stdout


def test_devices_reports_unusable_aliases(tmp_path: Path, emulator: Emulator) -> None:
    config = tmp_path / "assistant.toml"
    config.write_text('[devices.aliases]\nkitchen = "Polycom VVX 450 (Kitchen)"\n')
    result = assistant(tmp_path, emulator, "--config", str(config), "devices", "--json")
    [problem] = json.loads(result.stdout)["unusable"]
    assert "kitchen" in problem and "not one of your devices" in problem


def test_bad_config_exits_2(tmp_path: Path, emulator: Emulator) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[webex]\nread_timeout_seconds = \"soon\"\n")
    result = assistant(tmp_path, emulator, "--config", str(bad), "answer")
    assert result.returncode == 2
    assert str(bad) in result.stderr and "webex.read_timeout_seconds" in result.stderr


def test_plain_http_to_a_remote_host_exits_2(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "assistant", "--webex-url", "http://webex.example.com", "calls"],
        check=False, capture_output=True, text=True, env=env(tmp_path, "t"), timeout=60,
    )
    assert result.returncode == 2 and "https://" in result.stderr


def test_missing_token_exits_2_and_says_how(tmp_path: Path, emulator: Emulator) -> None:
    result = assistant(tmp_path, emulator, "calls", token=None)
    assert result.returncode == 2
    assert "WEBEX_ACCESS_TOKEN" in result.stderr and "assistant login" in result.stderr
    assert emulator.requests() == []


def test_speak_hook_gets_the_outcome(emulator: Emulator, monkeypatch: pytest.MonkeyPatch,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    spoken: list[str] = []
    monkeypatch.setattr(webex_cmds, "speak", spoken.append)
    emulator.ring("Dana")
    settings = Settings(webex=WebexSettings(url=emulator.url, access_token=emulator.token))
    code = webex_cmds.run_decline(argparse.Namespace(json=False), settings)
    assert code == 0 and spoken == ["The caller was turned away."] and capsys.readouterr().out == "The caller was turned away.\n"


def test_answer_outcome_api(emulator: Emulator) -> None:
    call_id = emulator.ring("Dana")
    settings = Settings(webex=WebexSettings(url=emulator.url, access_token=emulator.token))
    with WebexClient(settings.webex) as client:
        outcome = webex_cmds.answer_outcome(client, settings, "reception phone")
    assert outcome.ok and outcome.call_id == call_id
    assert outcome.message == "The call was answered. Your reception phone has it."


def test_emulator_command_prints_its_url_and_stops_cleanly(tmp_path: Path) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "assistant", "emulator", "--port", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env(tmp_path, None),
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line.startswith("emulator listening on http://127.0.0.1:")
        url = line.split()[-1]
        result = assistant(tmp_path, None, "--webex-url", url, "calls", "--json")
        assert (result.returncode, json.loads(result.stdout)) == (0, [])
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=20)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 0 and "Traceback" not in stderr


def test_emulator_command_with_a_bad_scenario_exits_2(tmp_path: Path) -> None:
    scenario = tmp_path / "s.toml"
    scenario.write_text("ring_timeout_seconds = \"long\"\n")
    result = assistant(tmp_path, None, "emulator", "--scenario", str(scenario))
    assert result.returncode == 2 and "ring_timeout_seconds" in result.stderr


def test_answer_speaks_its_outcome(tmp_path: Path, emulator: Emulator) -> None:
    """With no speaker (no PulseAudio here), the spoken outcome lands in the fallback WAV."""
    spoken = tmp_path / "spoken.wav"
    config = tmp_path / "assistant.toml"
    config.write_text(f'[voice]\nfallback_wav = "{spoken}"\n')
    emulator.ring("Dana Smith")
    run_env = {k: v for k, v in env(tmp_path, "emulator-token").items()
               if k not in ("PULSE_SERVER", "XDG_RUNTIME_DIR")}
    result = subprocess.run(
        [sys.executable, "-m", "assistant", "--config", str(config), "--webex-url", emulator.url,
         "answer", "headset"],
        check=False, capture_output=True, text=True, env=run_env, timeout=60, cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "The call was answered. Your headset has it."
    with wave.open(str(spoken)) as wav:
        assert wav.getnframes() / wav.getframerate() > 0.8  # about a second of speech


def test_devices_flags_words_the_recogniser_cannot_hear(tmp_path: Path, emulator: Emulator) -> None:
    config = tmp_path / "assistant.toml"
    config.write_text(
        '[speech]\nengine = "pocketsphinx"\n'
        '[devices.aliases]\nheadset = "Webex Desktop Application"\nzorblax = "Cisco 8865 (Desk phone)"\n'
    )
    result = assistant(tmp_path, emulator, "--config", str(config), "devices", "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    desk = next(e for e in data["endpoints"] if e["name"] == DESK)
    assert desk["unhearableNames"] == ["zorblax"]
    assert "desk phone" in desk["spokenNames"]
    assert any("zorblax" in problem for problem in data["unusable"])
    text = assistant(tmp_path, emulator, "--config", str(config), "devices")
    assert 'unusable: "zorblax" (Cisco 8865 (Desk phone)) cannot be heard by pocketsphinx' in text.stdout


def test_answer_takes_the_newest_ringing_call(tmp_path: Path, emulator: Emulator) -> None:
    emulator.ring("First Caller")
    time.sleep(0.01)  # created times are in milliseconds
    newest = emulator.ring("Second Caller")
    result = assistant(tmp_path, emulator, "answer", "--json", "--no-voice")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["callId"] == newest


def test_answer_and_decline_json_show_401(tmp_path: Path, emulator: Emulator) -> None:
    emulator.ring("Dana")
    for command in ("answer", "decline"):
        result = assistant(tmp_path, emulator, command, "--json", "--no-voice", token="wrong")
        outcome = json.loads(result.stdout)
        assert result.returncode == 1 and outcome["ok"] is False and outcome["status"] == 401
        assert "sign-in" in outcome["message"]


@pytest.mark.parametrize("command", ["calls", "devices"])
def test_calls_and_devices_json_print_an_error_object(
    tmp_path: Path, emulator: Emulator, command: str
) -> None:
    result = assistant(tmp_path, emulator, command, "--json", token="wrong")
    assert result.returncode == 1
    error = json.loads(result.stdout)
    assert error["ok"] is False and error["status"] == 401 and "sign-in" in error["error"]
    emulator.add_fault(method="GET", path="/v1/*", drop=True, count=4)
    result = assistant(tmp_path, emulator, command, "--json")
    assert result.returncode == 1
    assert json.loads(result.stdout) == {
        "ok": False, "error": "The connection to Webex dropped before it answered.", "status": None,
    }


def test_json_without_a_token_is_a_json_error_too(tmp_path: Path, emulator: Emulator) -> None:
    calls = assistant(tmp_path, emulator, "calls", "--json", token=None)
    assert calls.returncode == 2 and json.loads(calls.stdout)["ok"] is False
    answer = assistant(tmp_path, emulator, "answer", "--json", "--no-voice", token=None)
    assert answer.returncode == 2
    outcome = json.loads(answer.stdout)
    assert outcome["ok"] is False and outcome["action"] == "answer" and outcome["message"]


def test_answer_after_pickup_elsewhere_says_it_was_answered_elsewhere(emulator: Emulator) -> None:
    call_id = emulator.ring("Dana")
    settings = Settings(webex=WebexSettings(url=emulator.url, access_token=emulator.token))

    class PickedUpMeanwhile(WebexClient):
        def list_calls(self) -> list[Any]:
            calls = super().list_calls()
            emulator.end_call(call_id, "elsewhere")  # the person lifts the desk phone's handset
            return calls

    with PickedUpMeanwhile(settings.webex) as client:
        outcome = webex_cmds.answer_outcome(client, settings, "")
    assert not outcome.ok and outcome.status == 409
    assert outcome.message == "The call was already answered on another of your devices."
