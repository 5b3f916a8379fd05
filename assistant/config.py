"""Settings: one frozen dataclass per subsystem, composed into ``Settings``.

Built once from (lowest to highest precedence) the embedded defaults, a TOML file, the
environment and command-line flags, then passed explicitly. No other module reads the
environment or the configuration file.

Every bad value raises ``ConfigError`` naming the file, the key and what was expected.
"""

from __future__ import annotations

import dataclasses
import math
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any, get_type_hints

from assistant import paths
from assistant.errors import ConfigError

DEFAULT_WEBEX_URL = "https://webexapis.com"
APP_DIR_NAME = paths.APP_DIR_NAME


class Engine(str, Enum):
    AUTO = "auto"
    VOSK = "vosk"
    POCKETSPHINX = "pocketsphinx"


class Recognition(str, Enum):
    """How commands are found in the sound (bench/ measures each against the others)."""

    SPOT = "spot"  # find the command inside surrounding talk, verify its span, end on the command
    STRICT = "strict"  # 0.1: the whole utterance must be a command (garbage path + score gate)
    NAIVE = "naive"  # the benchmark baseline: strict grammar, no rejection, silence endpointing


class ListenMode(str, Enum):
    RINGING = "ringing"
    ALWAYS = "always"


class BargeIn(str, Enum):
    """Speaking over the assistant: ``on`` any command cuts its sentence and is acted on;
    ``stop``: only "stop" / "cancel" cut it (safe with loudspeakers: the assistant's own voice
    can never start an action); ``off``: the microphone is deaf while it speaks; ``auto``: ``on``
    with a headset, else ``stop``."""

    AUTO = "auto"
    ON = "on"
    STOP = "stop"
    OFF = "off"


class Verbosity(str, Enum):
    """How much a ring announcement says: ``verbose`` adds the instructions, ``terse`` says the
    name only (instructions after a miss or on "what can I say"); ``auto`` is verbose for the
    first calls, then terse."""

    AUTO = "auto"
    TERSE = "terse"
    VERBOSE = "verbose"


def _ranged(default: Any, low: float, high: float) -> Any:
    """A number setting with the range it must lie in (checked when read from a file)."""
    return field(default=default, metadata={"range": (low, high)})


def user_config_dir(environ: Mapping[str, str]) -> Path:
    """``$XDG_CONFIG_HOME/webex-voice-assistant`` (see ``assistant.paths``)."""
    return paths.config_dir(environ)


@dataclass(frozen=True)
class WebexSettings:
    url: str = DEFAULT_WEBEX_URL
    access_token: str = ""  # only from WEBEX_ACCESS_TOKEN or the token store, never from TOML
    connect_timeout_seconds: float = _ranged(5.0, 0.1, 300)
    read_timeout_seconds: float = _ranged(10.0, 0.1, 300)
    # under 0.2 s a poller floods Webex (0 made 68 requests in 4 s)
    poll_interval_seconds: float = _ranged(1.0, 0.2, 60)
    max_retry_after_seconds: float = _ranged(10.0, 0, 600)


@dataclass(frozen=True)
class AuthSettings:
    client_id: str = ""
    client_secret: str = ""
    token_store: str = ""  # empty: <user state dir>/tokens.json (or an existing <user config dir>/tokens.json)
    use_keyring: bool = False
    refresh_margin_seconds: float = _ranged(300.0, 0, 86400)


@dataclass(frozen=True)
class SpeechSettings:
    engine: Engine = Engine.AUTO
    language: str = "en"
    model: str = ""  # Vosk model name in models/ or a path; empty: the catalogue default
    models_dir: str = ""  # empty: the project's models/ (or <user data dir>/models when installed)
    recognition: Recognition = Recognition.SPOT
    trailing_silence_ms: int = _ranged(300, 20, 5000)
    stable_partial_frames: int = _ranged(3, 0, 100)
    # a PocketSphinx decode holds about 45 MB per second of utterance
    max_utterance_seconds: float = _ranged(6.0, 1, 30)
    # spot mode: WebRTC suppression of steady noise in what the recogniser hears (0 = off, 4 = most)
    noise_suppression: int = _ranged(2, 0, 4)


@dataclass(frozen=True)
class AudioSettings:
    input_device: str = ""  # name or index; empty: the system default
    output_device: str = ""
    sample_rate_hz: int = _ranged(16000, 16000, 16000)  # the recognisers' models are 16 kHz
    deaf_after_speech_ms: int = _ranged(500, 0, 5000)
    retry_seconds: float = _ranged(3.0, 0.2, 300)


@dataclass(frozen=True)
class VoiceSettings:
    rate_wpm: int = _ranged(175, 80, 450)  # espeak-ng's range
    volume: float = _ranged(1.0, 0, 2)
    voice: str = ""
    earcons: bool = True
    synth_timeout_seconds: float = _ranged(10.0, 1, 120)
    fallback_wav: str = ""  # where speech goes when there is no output device


@dataclass(frozen=True)
class DialogSettings:
    listen_mode: ListenMode = ListenMode.RINGING
    wake_phrase: str = "hey webex"
    follow_up_seconds: float = _ranged(8.0, 0, 600)
    reprompts: int = _ranged(1, 0, 10)
    question_timeout_seconds: float = _ranged(6.0, 1, 120)
    verbosity: Verbosity = Verbosity.AUTO
    verbose_calls: int = _ranged(5, 0, 1000)  # auto: this many calls with instructions, then terse
    reannounce_seconds: float = _ranged(10.0, 0, 300)  # a call still ringing: its name again; 0 = never
    barge_in: BargeIn = BargeIn.AUTO


@dataclass(frozen=True)
class DevicesSettings:
    aliases: dict[str, str] = field(
        default_factory=lambda: {"headset": "Webex Desktop Application"}
    )


@dataclass(frozen=True)
class Settings:
    webex: WebexSettings = field(default_factory=WebexSettings)
    auth: AuthSettings = field(default_factory=AuthSettings)
    speech: SpeechSettings = field(default_factory=SpeechSettings)
    audio: AudioSettings = field(default_factory=AudioSettings)
    voice: VoiceSettings = field(default_factory=VoiceSettings)
    dialog: DialogSettings = field(default_factory=DialogSettings)
    devices: DevicesSettings = field(default_factory=DevicesSettings)
    source: str = "<defaults>"  # the file these settings came from, for messages

    def replace(self, section: str, **changes: Any) -> Settings:
        """A copy with some keys of one section changed (flags use this)."""
        updated = dataclasses.replace(getattr(self, section), **changes)
        return dataclasses.replace(self, **{section: updated})


_SECTIONS: dict[str, type[Any]] = {
    "webex": WebexSettings,
    "auth": AuthSettings,
    "speech": SpeechSettings,
    "audio": AudioSettings,
    "voice": VoiceSettings,
    "dialog": DialogSettings,
    "devices": DevicesSettings,
}
_NOT_IN_FILES = {("webex", "access_token")}


def _convert(path: str, key: str, value: Any, kind: Any, bounds: tuple[float, float] | None) -> Any:
    if isinstance(kind, type) and issubclass(kind, Enum):
        choices = [m.value for m in kind]
        if value not in choices:
            raise ConfigError(path, key, "one of " + ", ".join(repr(c) for c in choices))
        return kind(value)
    if kind is bool:
        if not isinstance(value, bool):
            raise ConfigError(path, key, "true or false")
        return value
    if kind is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(path, key, "a whole number" + _range_text(bounds))
        _check_range(path, key, value, bounds, "a whole number")
        return value
    if kind is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(path, key, "a number" + _range_text(bounds))
        _check_range(path, key, value, bounds, "a number")
        return float(value)
    if kind is str:
        if isinstance(value, int) and not isinstance(value, bool):
            return str(value)  # device indexes may be written as numbers
        if not isinstance(value, str):
            raise ConfigError(path, key, "a string")
        return value
    if kind == dict[str, str]:
        if not isinstance(value, dict) or not all(
            isinstance(k, str) and isinstance(v, str) and v for k, v in value.items()
        ):
            raise ConfigError(path, key, 'a table of "spoken words" = "endpoint name"')
        return {k.lower().strip(): v for k, v in value.items()}
    raise TypeError(f"unsupported settings type {kind!r}")  # a programming error


def _range_text(bounds: tuple[float, float] | None) -> str:
    if bounds is None:
        return " of zero or more"
    low, high = bounds
    return f" equal to {low:g}" if low == high else f" from {low:g} to {high:g}"


def _check_range(
    path: str, key: str, value: float, bounds: tuple[float, float] | None, what: str
) -> None:
    """NaN, infinity and values outside the setting's range are refused (NaN fails every
    comparison, so the test is written to let only numbers inside the range through)."""
    low, high = bounds if bounds is not None else (0.0, math.inf)
    if not (math.isfinite(value) and low <= value <= high):
        raise ConfigError(path, key, what + _range_text(bounds) + f", not {value!r}")


def from_dict(data: Mapping[str, Any], path: str = "<config>") -> Settings:
    """Settings from a parsed TOML document; unknown sections and keys are errors."""
    sections: dict[str, Any] = {}
    for name, table in data.items():
        if name not in _SECTIONS:
            raise ConfigError(path, name, "one of the sections " + ", ".join(_SECTIONS))
        if not isinstance(table, dict):
            raise ConfigError(path, name, "a table ([" + name + "])")
        cls = _SECTIONS[name]
        hints = get_type_hints(cls)
        fields = {f.name: f for f in dataclasses.fields(cls)}
        known = set(fields)
        values: dict[str, Any] = {}
        for key, value in table.items():
            dotted = f"{name}.{key}"
            if key not in known or (name, key) in _NOT_IN_FILES:
                allowed = sorted(k for k in known if (name, k) not in _NOT_IN_FILES)
                raise ConfigError(path, dotted, "one of the keys " + ", ".join(allowed))
            bounds = fields[key].metadata.get("range")
            values[key] = _convert(path, dotted, value, hints[key], bounds)
        sections[name] = cls(**values)
    return Settings(**sections, source=path)


def read_toml(path: Path, what: str) -> dict[str, Any]:
    """A TOML file (``what``: "configuration", "scenario"), every way it can be wrong a
    ``ConfigError`` naming the file and what was expected."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(str(path), "(file)", f"an existing {what} file") from None
    except IsADirectoryError:
        raise ConfigError(str(path), "(file)", f"a {what} file, not a directory") from None
    except OSError as exc:
        raise ConfigError(str(path), "(file)", f"a readable file ({exc.strerror})") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(str(path), "(encoding)", utf8_expectation(exc)) from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(str(path), "(syntax)", f"valid TOML ({exc})") from None


def from_file(path: Path) -> Settings:
    return from_dict(read_toml(path, "configuration"), str(path))


def load(
    config_path: str | None,
    environ: Mapping[str, str] | None = None,
    webex_url: str | None = None,
) -> Settings:
    """The one place settings are built: file (explicit, else the user's if present), env, flags."""
    environ = os.environ if environ is None else environ
    if config_path:
        settings = from_file(Path(config_path).expanduser())
    else:
        user_file = paths.config_file(environ)
        settings = from_file(user_file) if user_file.exists() else Settings()  # a folder: named
    token = environ.get("WEBEX_ACCESS_TOKEN", "").strip()
    if token:
        problem = token_problem(token)
        if problem:
            raise ConfigError("environment", "WEBEX_ACCESS_TOKEN", f"a Webex access token ({problem})")
        settings = settings.replace("webex", access_token=token)
    for env_key, key in (("WEBEX_CLIENT_ID", "client_id"), ("WEBEX_CLIENT_SECRET", "client_secret")):
        if environ.get(env_key):
            settings = settings.replace("auth", **{key: environ[env_key]})
    if webex_url:
        settings = settings.replace("webex", url=webex_url.rstrip("/"))
    # default places, resolved here, where the environment is known (see assistant.paths)
    if not settings.auth.token_store:
        settings = settings.replace("auth", token_store=str(paths.token_store(environ)))
    if not settings.speech.models_dir:
        settings = settings.replace("speech", models_dir=str(paths.models_dir(environ)))
    if not settings.voice.voice and settings.speech.language != "en":
        # the voice follows the command language (espeak-ng names its voices by language)
        settings = settings.replace("voice", voice=settings.speech.language)
    return settings


def utf8_expectation(exc: UnicodeDecodeError) -> str:
    """What a text file that is not UTF-8 should have been, and where it is not."""
    byte = exc.object[exc.start : exc.start + 1].hex()
    return f"UTF-8 text (byte 0x{byte} at offset {exc.start} is not UTF-8)"


def token_problem(token: str) -> str | None:
    """Why ``token`` cannot be a bearer token (it goes into an HTTP header), or None. Says where,
    never what: the token itself must not reach a message or a log."""
    for position, char in enumerate(token, start=1):
        if not "!" <= char <= "~":
            kind = "a space" if char.isspace() else "not printable ASCII"
            return f"printable ASCII only; character {position} is {kind}"
    return None
