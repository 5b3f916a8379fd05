"""The assistant as a person installs it: a wheel (not editable) in a fresh venv, run from an
unrelated folder, with its models, configuration and state in the XDG folders (issue 12).

The wheel is built from a copy of the package (the shared tree gets no build/ or egg-info), with
the setuptools already in .venv and no network. The fresh venv gets the wheel and nothing else;
the dependencies come from .venv through a ``.pth`` file written after the install, so pip never
sees them and the checkout's editable install is not activated. Every command checks that the
code it ran is the installed copy.

Also here: ``assistant.paths`` itself (checkout or installed, XDG variables, the old token store).
"""

from __future__ import annotations

import json
import os
import queue
import shutil
import subprocess
import sys
import sysconfig
import threading
import wave
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from assistant import config, paths
from fixtures_speech import synthesize

ROOT = Path(__file__).resolve().parents[1]
COMMAND_TIMEOUT_SECONDS = 120


@dataclass(frozen=True)
class Installed:
    venv: Path
    wheel: Path
    cwd: Path  # an empty folder far from the checkout
    home: Path
    env: dict[str, str]

    @property
    def site_packages(self) -> Path:
        return self.venv / "lib" / f"python{sys.version_info.major}.{sys.version_info.minor}" / "site-packages"

    def run(self, *args: str, extra_env: dict[str, str] | None = None,
            timeout: float = COMMAND_TIMEOUT_SECONDS) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(self.venv / "bin" / "assistant"), *args], cwd=self.cwd,
            env={**self.env, **(extra_env or {})}, capture_output=True, text=True,
            timeout=timeout, check=False,
        )


def _build_wheel(work: Path) -> Path:
    source = work / "src"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, source / name)
    shutil.copytree(ROOT / "assistant", source / "assistant",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation",
         "--no-index", "-w", str(work / "dist"), str(source)],
        check=True, capture_output=True, text=True, timeout=COMMAND_TIMEOUT_SECONDS,
    )
    (wheel,) = (work / "dist").glob("webex_voice_assistant-*.whl")
    return wheel


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    work = tmp_path_factory.mktemp("install")
    wheel = _build_wheel(work)
    venv = work / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True,
                   capture_output=True, timeout=COMMAND_TIMEOUT_SECONDS)
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"), "install", "-q",
         "--no-deps", "--no-index", str(wheel)],
        check=True, capture_output=True, text=True, timeout=COMMAND_TIMEOUT_SECONDS,
    )
    home, cwd, runtime = work / "home", work / "elsewhere", work / "runtime"
    for folder in (home, cwd, runtime):
        folder.mkdir(mode=0o700)
    result = Installed(venv, wheel, cwd, home, {})
    # the dependencies, after the install (pip must not see them, nor the editable checkout)
    folders = dict.fromkeys([sysconfig.get_path("purelib"), sysconfig.get_path("platlib")])
    (result.site_packages / "zz_dependencies.pth").write_text("".join(f + "\n" for f in folders))
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("WEBEX_", "XDG_", "PYTHON", "PULSE_", "VIRTUAL_ENV"))}
    env.update(
        HOME=str(home), PATH=f"{venv / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}",
        TMPDIR=str(work),  # a headless machine: no sound server, no microphone, no speaker
        XDG_RUNTIME_DIR=str(runtime), PULSE_SERVER=f"unix:{runtime}/pulse/native",
    )
    return Installed(venv, wheel, cwd, home, env)


def test_the_wheel_carries_its_data_and_nothing_from_the_checkout(installed: Installed) -> None:
    names = zipfile.ZipFile(installed.wheel).namelist()
    for data in ("catalogue.toml", "messages.toml", "failures.toml", "scenario_default.toml",
                 "intents/en.yaml", "intents/ko.yaml"):
        assert f"assistant/data/{data}" in names
    assert {name.split("/")[0] for name in names} == {
        "assistant", "-".join(installed.wheel.name.split("-")[:2]) + ".dist-info"}


def test_the_installed_copy_is_the_one_that_runs(installed: Installed) -> None:
    result = subprocess.run(
        [str(installed.venv / "bin" / "python"), "-c",
         "import assistant, assistant.paths as p; print(assistant.__file__); print(p.checkout_root())"],
        cwd=installed.cwd, env=installed.env, capture_output=True, text=True, timeout=60, check=True,
    )
    where, root = result.stdout.split()
    assert Path(where) == installed.site_packages / "assistant" / "__init__.py"
    assert root == "None"  # installed, not a checkout


def test_models_list_reads_the_shipped_catalogue_and_uses_the_data_folder(
    installed: Installed,
) -> None:
    result = installed.run("models", "list", "--json")
    assert result.returncode == 0, result.stderr
    (model,) = json.loads(result.stdout)["models"]
    assert model["name"] == "vosk-model-small-en-us-0.15" and not model["installed"]
    models = installed.home / ".local" / "share" / "webex-voice-assistant" / "models"
    assert model["path"] == str(models / model["name"])
    data_home = installed.home / "data"
    result = installed.run("models", "path", model["name"],
                           extra_env={"XDG_DATA_HOME": str(data_home)})
    assert result.returncode == 1 and "not installed" in result.stderr
    assert result.stdout.strip() == str(data_home / "webex-voice-assistant" / "models" / model["name"])


def test_transcribe_a_spoken_command(installed: Installed) -> None:
    wav = installed.cwd / "answer_on_my_headset.wav"
    with wave.open(str(wav), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(16000)
        out.writeframes(synthesize("answer on my headset"))
    result = installed.run("transcribe", "--json", wav.name)
    assert result.returncode == 0, result.stderr
    line = json.loads(result.stdout)
    assert line["file"] == wav.name and line["accepted"] is True
    assert (line["intent"], line["device"]) == ("answer", "Webex Desktop Application")


def _first_line(process: subprocess.Popen[str], timeout: float) -> str:
    lines: queue.Queue[str] = queue.Queue()
    assert process.stdout is not None
    stdout = process.stdout
    threading.Thread(target=lambda: lines.put(stdout.readline()), daemon=True).start()
    try:
        return lines.get(timeout=timeout).strip()
    except queue.Empty:
        return ""


@pytest.fixture
def installed_emulator(installed: Installed) -> Iterator[str]:
    process = subprocess.Popen(
        [str(installed.venv / "bin" / "assistant"), "emulator", "--port", "0"], cwd=installed.cwd,
        env=installed.env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )
    try:
        line = _first_line(process, timeout=60)
        assert line.startswith("emulator listening on http://127.0.0.1:"), line
        yield line.rsplit(" ", 1)[1]
    finally:
        process.terminate()
        process.wait(timeout=10)
        assert process.stdout is not None
        process.stdout.close()


def test_devices_against_the_installed_emulator(installed: Installed, installed_emulator: str) -> None:
    result = installed.run("--webex-url", installed_emulator, "devices", "--json",
                           extra_env={"WEBEX_ACCESS_TOKEN": "emulator-token"})
    assert result.returncode == 0, result.stderr
    names = [e["name"] for e in json.loads(result.stdout)["endpoints"]]
    assert names == ["Webex Desktop Application", "Cisco 8865 (Desk phone)",
                     "Cisco 8865 (Phone in reception area)", "Cisco 7841 (Lobby)"]


def test_demo_answers_the_call(installed: Installed) -> None:
    result = installed.run("demo", "--simulate")
    assert result.returncode == 0, result.stdout + result.stderr
    assert 'text="The call was answered. Your headset has it."' in result.stdout
    assert "demo: the call was answered on Webex Desktop Application" in result.stdout


# assistant.paths on its own


def _package(tmp_path: Path, *markers: str) -> Path:
    package = tmp_path / "tree" / "assistant"
    package.mkdir(parents=True)
    for marker in markers:
        target = tmp_path / "tree" / marker
        target.mkdir() if marker == ".git" else target.write_text("")
    return package


def test_a_checkout_keeps_its_models_in_the_repository(tmp_path: Path) -> None:
    environ = {"XDG_DATA_HOME": str(tmp_path / "data")}
    package = _package(tmp_path, "pyproject.toml", ".git")
    assert paths.checkout_root(package) == tmp_path / "tree"
    assert paths.models_dir(environ, package) == tmp_path / "tree" / "models"
    assert paths.models_dir(environ) == ROOT / "models"  # these tests run from the checkout


@pytest.mark.parametrize("markers", [(), ("pyproject.toml",), (".git",)])
def test_an_installed_package_keeps_its_models_in_the_data_folder(
    tmp_path: Path, markers: tuple[str, ...]
) -> None:
    package = _package(tmp_path, *markers)
    assert paths.checkout_root(package) is None
    environ = {"XDG_DATA_HOME": str(tmp_path / "data")}
    assert paths.models_dir(environ, package) == tmp_path / "data" / "webex-voice-assistant" / "models"


def test_xdg_folders_and_their_defaults(tmp_path: Path) -> None:
    home = tmp_path / "home"
    bare = {"HOME": str(home)}
    assert paths.config_file(bare) == home / ".config" / "webex-voice-assistant" / "assistant.toml"
    assert paths.data_dir(bare) == home / ".local" / "share" / "webex-voice-assistant"
    assert paths.state_dir(bare) == home / ".local" / "state" / "webex-voice-assistant"
    assert paths.state_file(bare) == paths.state_dir(bare) / "state.json"
    given = {**bare, "XDG_CONFIG_HOME": str(tmp_path / "c"), "XDG_STATE_HOME": str(tmp_path / "s"),
             "XDG_DATA_HOME": str(tmp_path / "d")}
    assert paths.config_dir(given) == tmp_path / "c" / "webex-voice-assistant"
    assert paths.state_dir(given) == tmp_path / "s" / "webex-voice-assistant"
    assert paths.data_dir(given) == tmp_path / "d" / "webex-voice-assistant"
    # the specification: a relative value is ignored
    relative = {**bare, "XDG_STATE_HOME": "state", "XDG_CONFIG_HOME": ""}
    assert paths.state_dir(relative) == home / ".local" / "state" / "webex-voice-assistant"
    assert paths.config_dir(relative) == home / ".config" / "webex-voice-assistant"


def test_config_load_finds_the_file_and_places_the_state(tmp_path: Path) -> None:
    environ = {"HOME": str(tmp_path / "home"), "XDG_CONFIG_HOME": str(tmp_path / "c"),
               "XDG_STATE_HOME": str(tmp_path / "s")}
    user_file = paths.config_file(environ)
    user_file.parent.mkdir(parents=True)
    user_file.write_text('[dialog]\nreprompts = 3\n', encoding="utf-8")
    settings = config.load(None, environ=environ)
    assert settings.source == str(user_file) and settings.dialog.reprompts == 3
    assert settings.auth.token_store == str(tmp_path / "s" / "webex-voice-assistant" / "tokens.json")
    assert settings.speech.models_dir == str(ROOT / "models")


def test_the_old_token_store_wins_while_it_exists(tmp_path: Path) -> None:
    environ = {"XDG_CONFIG_HOME": str(tmp_path / "c"), "XDG_STATE_HOME": str(tmp_path / "s")}
    old = tmp_path / "c" / "webex-voice-assistant" / "tokens.json"
    assert paths.token_store(environ) == tmp_path / "s" / "webex-voice-assistant" / "tokens.json"
    old.parent.mkdir(parents=True)
    old.symlink_to(tmp_path / "elsewhere.json")  # even a dangling link is the person's store
    assert paths.token_store(environ) == old
