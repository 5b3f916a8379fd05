"""``assistant service install | uninstall | status``: run all day as a systemd user service.

The unit starts ``assistant listen`` at login, restarts it after a crash (``Restart=on-failure``)
and logs to the journal (``journalctl --user -u webex-voice-assistant``). It runs in the
person's own session, so it reaches their PulseAudio/PipeWire sound server through
``XDG_RUNTIME_DIR`` (``%t``).
"""

from __future__ import annotations

import logging
import os
import shlex
import shutil
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from assistant import paths
from assistant.errors import AssistantError

log = logging.getLogger(__name__)

UNIT_NAME = "webex-voice-assistant.service"
SYSTEMCTL_TIMEOUT_SECONDS = 20.0


class ServiceError(AssistantError):
    """systemd refused or is not available."""


def unit_path(environ: Mapping[str, str] | None = None) -> Path:
    environ = os.environ if environ is None else environ
    return paths.xdg_home(environ, "XDG_CONFIG_HOME") / "systemd" / "user" / UNIT_NAME


def unit_text(python: str | None = None, config: str | None = None) -> str:
    """The unit file: ``assistant listen`` with this interpreter (and config file, if given)."""
    command = [python or sys.executable, "-m", "assistant"]
    if config:
        command += ["--config", str(Path(config).resolve())]
    command += ["listen", "--keys", "off"]
    return "\n".join([
        "# Written by `assistant service install`; remove with `assistant service uninstall`.",
        "[Unit]",
        "Description=Webex voice assistant: announces calls and answers them by voice",
        "After=pipewire-pulse.service pulseaudio.service",
        "StartLimitIntervalSec=300",
        "StartLimitBurst=10",
        "",
        "[Service]",
        "Type=simple",
        f"ExecStart={shlex.join(command)}",
        "Restart=on-failure",
        "RestartSec=5",
        "Environment=PYTHONUNBUFFERED=1",
        "Environment=XDG_RUNTIME_DIR=%t",
        "StandardOutput=journal",
        "StandardError=journal",
        "",
        "[Install]",
        "WantedBy=default.target",
        "",
    ])


@dataclass(frozen=True)
class Status:
    installed: bool
    path: Path
    active: str = "unknown"  # systemd's ActiveState: active, inactive, failed, …
    result: str = ""  # how it last ended: success, exit-code, signal, core-dump, …
    exit_status: str = ""
    since: str = ""
    systemd: bool = True

    def describe(self) -> str:
        if not self.installed:
            return f"not installed (no {self.path})"
        if not self.systemd:
            return f"installed at {self.path}; systemd's user manager is not reachable here"
        running = "running" if self.active == "active" else f"not running ({self.active})"
        ended = f"; last ended: {self.result}" if self.result and self.result != "success" else ""
        if self.exit_status and self.exit_status != "0":
            ended += f" (exit status {self.exit_status})"
        since = f" since {self.since}" if self.since else ""
        return f"{running}{since}{ended}; unit {self.path}"


def _systemctl(*args: str) -> subprocess.CompletedProcess[str]:
    if shutil.which("systemctl") is None:
        raise ServiceError("systemctl not found", "systemd is not available on this computer.")
    try:
        return subprocess.run(["systemctl", "--user", *args], capture_output=True, text=True,
                              timeout=SYSTEMCTL_TIMEOUT_SECONDS, check=False)
    except subprocess.TimeoutExpired as exc:
        raise ServiceError(f"systemctl --user {' '.join(args)} timed out",
                           "systemd did not answer.") from exc


def _user_manager() -> bool:
    try:
        return _systemctl("show-environment").returncode == 0
    except ServiceError:
        return False


def install(config: str | None = None, start: bool = True,
            environ: Mapping[str, str] | None = None) -> tuple[Path, str]:
    """Writes the unit; enables and starts it when the user manager is reachable. Returns the
    path and what was done (or the commands to run by hand)."""
    path = unit_path(environ)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(unit_text(config=config), encoding="utf-8")
    if not start:
        return path, "written; start it with: systemctl --user enable --now " + UNIT_NAME
    if not _user_manager():
        return path, ("written; systemd's user manager is not reachable here. At your desk run: "
                      "systemctl --user daemon-reload && systemctl --user enable --now " + UNIT_NAME)
    for args in (("daemon-reload",), ("enable", "--now", UNIT_NAME)):
        done = _systemctl(*args)
        if done.returncode != 0:
            raise ServiceError(f"systemctl --user {' '.join(args)}: {done.stderr.strip()}",
                               "systemd refused to start the assistant.")
    return path, "enabled and started; it starts at every login"


def uninstall(environ: Mapping[str, str] | None = None) -> tuple[Path, str]:
    path = unit_path(environ)
    if _user_manager():
        _systemctl("disable", "--now", UNIT_NAME)  # fine if it was not enabled
    existed = path.exists()
    path.unlink(missing_ok=True)
    if _user_manager():
        _systemctl("daemon-reload")
    return path, "removed" if existed else "was not installed"


def status(environ: Mapping[str, str] | None = None) -> Status:
    path = unit_path(environ)
    if not path.exists():
        return Status(False, path)
    if not _user_manager():
        return Status(True, path, systemd=False)
    shown = _systemctl("show", UNIT_NAME, "-p", "ActiveState,Result,ExecMainStatus,ActiveEnterTimestamp")
    values = dict(line.split("=", 1) for line in shown.stdout.splitlines() if "=" in line)
    return Status(True, path, values.get("ActiveState", "unknown"), values.get("Result", ""),
                  values.get("ExecMainStatus", ""), values.get("ActiveEnterTimestamp", ""))
