"""The emulator's scenario: who the user is, their answer endpoints, the token, the refusal
wording, how long a call rings. TOML (``assistant/data/scenario_default.toml`` is the default);
a scenario file only needs the parts it changes.
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from assistant.config import read_toml, token_problem
from assistant.errors import ConfigError

ENDPOINT_TYPES = ("DEVICE", "APPLICATION")


@dataclass(frozen=True)
class EndpointSpec:
    id: str
    type: str
    name: str
    preferred: bool = False
    answer_via_api: bool = True


@dataclass(frozen=True)
class UserSpec:
    id: str
    display_name: str
    emails: tuple[str, ...] = ()


@dataclass(frozen=True)
class Refusal:
    status: int
    message: str


@dataclass(frozen=True)
class AuthSpec:
    """Sign-in: who may sign in, how long tokens last, how the device grant behaves."""

    client_id: str = ""  # empty: any client id
    client_secret: str = ""  # empty: any secret
    access_token_lifetime_seconds: float = 14 * 24 * 3600.0
    refresh_token_lifetime_seconds: float = 90 * 24 * 3600.0
    device_code_lifetime_seconds: float = 300.0
    device_poll_interval_seconds: float = 5.0
    auto_approve: bool = False  # a device code is approved at its first poll
    rotate_refresh_token: bool = True  # a refresh grant returns a new refresh token


@dataclass(frozen=True)
class Scenario:
    token: str
    ring_timeout_seconds: float
    user: UserSpec
    endpoints: tuple[EndpointSpec, ...]
    refusals: dict[str, Refusal] = field(default_factory=dict)
    source: str = "<default scenario>"
    auth: AuthSpec = field(default_factory=AuthSpec)

    @classmethod
    def default(cls) -> Scenario:
        text = resources.files("assistant").joinpath("data/scenario_default.toml").read_text("utf-8")
        return _parse(tomllib.loads(text), "<default scenario>", None)

    @classmethod
    def from_file(cls, path: str | Path) -> Scenario:
        path = Path(path)
        return cls.from_dict(read_toml(path, "scenario"), str(path))

    @classmethod
    def from_dict(cls, data: dict[str, Any], source: str = "<scenario>") -> Scenario:
        """A scenario from a parsed document, on top of the default one."""
        return _parse(data, source, cls.default())

    def refusal(self, key: str) -> Refusal:
        return self.refusals[key]

    def endpoint(self, endpoint_id: str) -> EndpointSpec | None:
        return next((e for e in self.endpoints if e.id == endpoint_id), None)


_KEYS = {"token", "ring_timeout_seconds", "user", "endpoints", "refusals", "auth"}
MAX_RING_SECONDS = 24 * 3600.0
MAX_AUTH_SECONDS = 10 * 366 * 24 * 3600.0  # token lifetimes: ten years is already absurd


def _seconds_ok(value: Any, highest: float) -> bool:
    """A finite number of seconds from 0 to ``highest`` (NaN fails every comparison)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    return math.isfinite(value) and 0 <= value <= highest


def _parse(data: dict[str, Any], source: str, base: Scenario | None) -> Scenario:
    for key in data:
        if key not in _KEYS:
            raise ConfigError(source, key, "one of the keys " + ", ".join(sorted(_KEYS)))
    token = data.get("token", base.token if base else None)
    if not isinstance(token, str) or not token:
        raise ConfigError(source, "token", "a non-empty string")
    problem = token_problem(token)
    if problem:
        raise ConfigError(source, "token", f"a bearer token ({problem})")
    timeout = data.get("ring_timeout_seconds", base.ring_timeout_seconds if base else 30.0)
    if not _seconds_ok(timeout, MAX_RING_SECONDS):
        raise ConfigError(source, "ring_timeout_seconds",
                          f"a number of seconds from 0 to {MAX_RING_SECONDS:g}")
    user = _user(data["user"], source) if "user" in data else base.user if base else None
    if user is None:
        raise ConfigError(source, "user", "a [user] table")
    if "endpoints" in data:
        endpoints = _endpoints(data["endpoints"], source)
    elif base:
        endpoints = base.endpoints
    else:
        raise ConfigError(source, "endpoints", "at least one [[endpoints]] table")
    refusals = dict(base.refusals) if base else {}
    known = set(base.refusals) if base else None
    refusals.update(_refusals(data.get("refusals", {}), source, known))
    auth = _auth(data["auth"], source) if "auth" in data else base.auth if base else AuthSpec()
    return Scenario(token, float(timeout), user, endpoints, refusals, source, auth)


def _auth(table: Any, source: str) -> AuthSpec:
    if not isinstance(table, dict):
        raise ConfigError(source, "auth", "an [auth] table")
    defaults = AuthSpec()
    values: dict[str, Any] = {}
    for key, value in table.items():
        where = f"auth.{key}"
        if not hasattr(defaults, key):
            known = ", ".join(AuthSpec.__dataclass_fields__)
            raise ConfigError(source, where, "one of the keys " + known)
        kind = type(getattr(defaults, key))
        if kind is float:
            if not _seconds_ok(value, MAX_AUTH_SECONDS):
                raise ConfigError(source, where, f"a number of seconds from 0 to {MAX_AUTH_SECONDS:g}")
            value = float(value)
        elif not isinstance(value, kind):
            raise ConfigError(source, where, "true or false" if kind is bool else "a string")
        values[key] = value
    return AuthSpec(**values)


def _user(table: Any, source: str) -> UserSpec:
    if not isinstance(table, dict):
        raise ConfigError(source, "user", "a [user] table")
    for key in ("id", "display_name"):
        if not isinstance(table.get(key), str) or not table[key]:
            raise ConfigError(source, f"user.{key}", "a non-empty string")
    emails = table.get("emails", [])
    if not isinstance(emails, list) or not all(isinstance(e, str) for e in emails):
        raise ConfigError(source, "user.emails", "a list of strings")
    return UserSpec(table["id"], table["display_name"], tuple(emails))


def _endpoints(items: Any, source: str) -> tuple[EndpointSpec, ...]:
    if not isinstance(items, list) or not items:
        raise ConfigError(source, "endpoints", "at least one [[endpoints]] table")
    result: list[EndpointSpec] = []
    for n, item in enumerate(items):
        where = f"endpoints[{n}]"
        if not isinstance(item, dict):
            raise ConfigError(source, where, "a table")
        for key in ("id", "name"):
            if not isinstance(item.get(key), str) or not item[key]:
                raise ConfigError(source, f"{where}.{key}", "a non-empty string")
        if item.get("type") not in ENDPOINT_TYPES:
            raise ConfigError(source, f"{where}.type", '"DEVICE" or "APPLICATION"')
        for key in ("preferred", "answer_via_api"):
            if key in item and not isinstance(item[key], bool):
                raise ConfigError(source, f"{where}.{key}", "true or false")
        unknown = set(item) - {"id", "type", "name", "preferred", "answer_via_api"}
        if unknown:
            raise ConfigError(source, f"{where}.{min(unknown)}", "id, type, name, preferred or answer_via_api")
        result.append(
            EndpointSpec(
                item["id"], item["type"], item["name"],
                item.get("preferred", False), item.get("answer_via_api", True),
            )
        )
    if len({e.id for e in result}) != len(result):
        raise ConfigError(source, "endpoints", "endpoints with distinct ids")
    if sum(e.preferred for e in result) > 1:
        raise ConfigError(source, "endpoints", "at most one endpoint with preferred = true")
    return tuple(result)


def _refusals(table: Any, source: str, known: set[str] | None) -> dict[str, Refusal]:
    if not isinstance(table, dict):
        raise ConfigError(source, "refusals", "a [refusals] table")
    result: dict[str, Refusal] = {}
    for key, value in table.items():
        where = f"refusals.{key}"
        if known is not None and key not in known:
            raise ConfigError(source, where, "one of the refusals " + ", ".join(sorted(known)))
        if not isinstance(value, dict):
            raise ConfigError(source, where, "{ status = 4xx, message = \"...\" }")
        status, message = value.get("status"), value.get("message")
        if isinstance(status, bool) or not isinstance(status, int) or not 400 <= status <= 599:
            raise ConfigError(source, f"{where}.status", "an error status between 400 and 599")
        if not isinstance(message, str):
            raise ConfigError(source, f"{where}.message", "a string")
        result[key] = Refusal(status, message)
    return result
