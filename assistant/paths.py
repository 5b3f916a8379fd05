"""Where things live: models, the configuration file, state (the token store, ``state.json``).

Two cases, told apart by the package's surroundings:

- **a checkout** (the package's parent folder has ``pyproject.toml`` and ``.git``): speech models
  stay in the repository's ``models/`` folder, next to its README;
- **installed** (a wheel in any venv, ``pipx``): models go to
  ``$XDG_DATA_HOME/webex-voice-assistant/models``.

In both cases the configuration file is ``$XDG_CONFIG_HOME/webex-voice-assistant/assistant.toml``
and state lives in ``$XDG_STATE_HOME/webex-voice-assistant/``. The token store keeps its old home,
``<config dir>/tokens.json``, when a sign-in is already stored there.

Everything the program only reads (catalogue, messages, templates, scenario) is package data under
``assistant/data/`` and is found through ``importlib.resources``, never through these paths.

Each function takes the environment as a mapping (``config.load`` passes the one it was given), so
nothing here reads ``os.environ`` on its own. Unset or relative ``XDG_*`` values fall back to the
defaults of the XDG Base Directory specification, as the specification asks.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

APP_DIR_NAME = "webex-voice-assistant"
CONFIG_FILE_NAME = "assistant.toml"
TOKEN_FILE_NAME = "tokens.json"
STATE_FILE_NAME = "state.json"
PACKAGE_DIR = Path(__file__).resolve().parent

# variable -> its default below $HOME (XDG Base Directory specification)
_XDG_DEFAULTS = {
    "XDG_CONFIG_HOME": ".config",
    "XDG_DATA_HOME": ".local/share",
    "XDG_STATE_HOME": ".local/state",
}


def checkout_root(package_dir: Path = PACKAGE_DIR) -> Path | None:
    """The repository the package is run from, or None when it is installed."""
    root = package_dir.parent
    if (root / "pyproject.toml").is_file() and (root / ".git").exists():
        return root
    return None


def xdg_home(environ: Mapping[str, str], variable: str) -> Path:
    """``$XDG_CONFIG_HOME`` (or DATA, STATE), else its default under ``$HOME``."""
    value = environ.get(variable, "")
    if value:
        path = Path(value).expanduser()
        if path.is_absolute():
            return path
    home = Path(environ.get("HOME") or "~").expanduser()
    return home / _XDG_DEFAULTS[variable]


def config_dir(environ: Mapping[str, str]) -> Path:
    return xdg_home(environ, "XDG_CONFIG_HOME") / APP_DIR_NAME


def config_file(environ: Mapping[str, str]) -> Path:
    """The user's configuration file (read when it exists and no ``--config`` is given)."""
    return config_dir(environ) / CONFIG_FILE_NAME


def data_dir(environ: Mapping[str, str]) -> Path:
    return xdg_home(environ, "XDG_DATA_HOME") / APP_DIR_NAME


def state_dir(environ: Mapping[str, str]) -> Path:
    """Where the assistant keeps what it learns between runs (sign-in, ``state.json``)."""
    return xdg_home(environ, "XDG_STATE_HOME") / APP_DIR_NAME


def state_file(environ: Mapping[str, str]) -> Path:
    return state_dir(environ) / STATE_FILE_NAME


def models_dir(environ: Mapping[str, str], package_dir: Path = PACKAGE_DIR) -> Path:
    """The checkout's ``models/``, else ``<data dir>/models``."""
    root = checkout_root(package_dir)
    return root / "models" if root is not None else data_dir(environ) / "models"


def token_store(environ: Mapping[str, str]) -> Path:
    """``<state dir>/tokens.json``, or the old ``<config dir>/tokens.json`` when a sign-in is
    stored there (so an upgrade does not sign the person out)."""
    old = config_dir(environ) / TOKEN_FILE_NAME
    if old.exists() or old.is_symlink():
        return old
    return state_dir(environ) / TOKEN_FILE_NAME
