"""``assistant service``: the unit it writes verifies with systemd, and install / status /
uninstall work from the command line (here without a user manager, as on CI)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from assistant.cli import main
from assistant.service import UNIT_NAME, unit_text


def test_the_unit_verifies_with_systemd(tmp_path: Path) -> None:
    unit = tmp_path / UNIT_NAME
    unit.write_text(unit_text(config=str(tmp_path / "assistant.toml")))
    analyze = shutil.which("systemd-analyze")
    assert analyze, "systemd-analyze is missing: scripts/setup.sh installs systemd"
    done = subprocess.run([analyze, "verify", str(unit)], capture_output=True, text=True,
                          cwd=tmp_path, timeout=60)
    assert done.returncode == 0 and done.stdout + done.stderr == "", done.stdout + done.stderr


def test_the_unit_restarts_on_failure_and_starts_at_login() -> None:
    lines = unit_text().splitlines()
    assert f"ExecStart={sys.executable} -m assistant listen --keys off" in lines
    assert "Restart=on-failure" in lines and "WantedBy=default.target" in lines
    assert "StandardError=journal" in lines


def test_install_status_uninstall(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                  capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    monkeypatch.setenv("PATH", str(tmp_path / "no-systemctl"))  # no user manager here
    assert main(["service", "status"]) == 1
    assert "not installed" in capsys.readouterr().out
    assert main(["service", "install"]) == 0
    unit = tmp_path / "systemd" / "user" / UNIT_NAME
    assert unit.read_text() == unit_text()
    assert "systemctl --user daemon-reload" in capsys.readouterr().out  # what to run at the desk
    assert main(["service", "status"]) == 0
    assert "installed at" in capsys.readouterr().out
    assert main(["service", "uninstall"]) == 0
    assert not unit.exists() and "removed" in capsys.readouterr().out
