"""The device grant against the emulator over loopback: pending, approval, slow_down, expiry,
refusal, and what the person hears."""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Iterator

import pytest
from fixtures_auth import control

from assistant.auth import device_flow
from assistant.auth.oauth import SCOPES, OAuthHttp
from assistant.config import Settings, WebexSettings
from assistant.errors import AuthError
from assistant.webex.emulator import Emulator
from assistant.webex.scenario import Scenario


@pytest.fixture
def http(auth_settings: Settings) -> Iterator[OAuthHttp]:
    with OAuthHttp(auth_settings.webex) as h:
        yield h


class Person:
    """Hears what the assistant tells, and acts on the emulator's page once the code is heard."""

    def __init__(self, emulator: Emulator, action: str = "approve") -> None:
        self.emulator, self.action = emulator, action
        self.printed: list[str] = []
        self.heard: list[str] = []
        self.threads: list[threading.Thread] = []
        self.code = ""

    def tell(self, printed: str, spoken: str) -> None:
        self.printed.append(printed)
        self.heard.append(spoken)
        if len(self.heard) == 1 and self.action:
            code = printed.split("enter the code ")[1].split()[0]
            thread = threading.Thread(target=self._act, args=(code,))
            thread.start()
            self.threads.append(thread)

    def _act(self, code: str) -> None:
        # the person takes a moment: the assistant polls at least once and hears "pending"
        for _ in range(200):
            if any(r["path"] == "/v1/device/token" for r in self.emulator.requests()):
                break
            time.sleep(0.05)
        self.code = code
        control(self.emulator, "device/approve",
                {"user_code": code, "deny": self.action == "deny"})

    def join(self) -> None:
        for thread in self.threads:
            thread.join(timeout=10)


def test_sign_in_with_the_code_entered_on_a_phone(
    auth_emulator: Emulator, auth_settings: Settings, http: OAuthHttp
) -> None:
    person = Person(auth_emulator)
    record = device_flow.sign_in(http, auth_settings.auth, person.tell)
    person.join()
    scopes = {d.scope for d in auth_emulator.state.auth.devices.values()}
    assert scopes == {SCOPES}  # the scopes the assistant asked for
    assert record.scope == SCOPES
    assert record.expires_at > time.time() + 13 * 24 * 3600
    assert record.refresh_expires_at is not None
    assert auth_emulator.state.auth.access_token_status(record.access_token) == "valid"
    polls = [r for r in auth_emulator.requests() if r["path"] == "/v1/device/token"]
    assert [p["status"] for p in polls][-1] == 200
    assert 428 in [p["status"] for p in polls]  # pending before the person approved
    # heard: the address in words and the code one character at a time, then success
    code = person.code
    assert "slash _emulator slash device" in person.heard[0]
    assert device_flow.spell_code(code) in person.heard[0]
    assert "Signed in" in person.heard[-1] and "Signed in" in person.printed[-1]
    assert code in person.printed[0]


def test_slow_down_adds_five_seconds(
    auth_emulator: Emulator, auth_settings: Settings, http: OAuthHttp
) -> None:
    code = device_flow.authorize(http, auth_settings.auth)
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        if len(waits) == 3:  # after pending and slow_down: the person approves
            control(auth_emulator, "device/approve", {"user_code": code.user_code})
            auth_emulator.state.auth.devices[code.device_code].last_poll = -1e9  # "6 s later"
        # no real waiting: the second poll comes far too soon, so Webex says slow_down

    device_flow.poll(http, auth_settings.auth, code, sleep=sleep)
    polls = [r for r in auth_emulator.requests() if r["path"] == "/v1/device/token"]
    assert [p["status"] for p in polls] == [428, 400, 200]  # pending, slow_down, tokens
    assert waits == [pytest.approx(1.0), pytest.approx(1.0), pytest.approx(6.0)]


def test_declined_sign_in_is_said_and_stops(
    auth_emulator: Emulator, auth_settings: Settings, http: OAuthHttp
) -> None:
    person = Person(auth_emulator, action="deny")
    with pytest.raises(AuthError) as info:
        device_flow.sign_in(http, auth_settings.auth, person.tell)
    person.join()
    assert "declined" in info.value.spoken


def test_code_that_expires_before_approval(auth_settings: Settings) -> None:
    scenario = Scenario.from_dict({"auth": {"device_poll_interval_seconds": 1,
                                            "device_code_lifetime_seconds": 2}})
    with Emulator(scenario) as emu:
        settings = auth_settings.replace("webex", url=emu.url)
        with OAuthHttp(settings.webex) as http:
            code = device_flow.authorize(http, settings.auth)
            # the assistant's own deadline is far off: the server is the one that says expired
            code = dataclasses.replace(code, expires_in_seconds=60.0)
            with pytest.raises(AuthError) as info:
                device_flow.poll(http, settings.auth, code)
        statuses = [r["status"] for r in emu.requests() if r["path"] == "/v1/device/token"]
    assert "expired" in info.value.spoken
    assert "expired_token" in str(info.value)
    assert statuses[-1] == 400 and set(statuses[:-1]) == {428}


def test_own_deadline_stops_polling_without_asking_again(
    auth_emulator: Emulator, auth_settings: Settings, http: OAuthHttp
) -> None:
    code = device_flow.authorize(http, auth_settings.auth)
    now = [0.0]

    def clock() -> float:
        return now[0]

    def sleep(seconds: float) -> None:
        now[0] += 100.0  # each wait "takes 100 s": the 300 s code runs out after three polls
        auth_emulator.state.auth.devices[code.device_code].last_poll = None  # and really waited

    with pytest.raises(AuthError, match="expired"):
        device_flow.poll(http, auth_settings.auth, code, sleep=sleep, clock=clock)
    polls = [r for r in auth_emulator.requests() if r["path"] == "/v1/device/token"]
    assert [p["status"] for p in polls] == [428, 428, 428]


def test_wrong_client_secret_is_refused(auth_emulator: Emulator, auth_settings: Settings) -> None:
    bad = auth_settings.replace("auth", client_secret="not-the-secret")
    with OAuthHttp(bad.webex) as http:
        code = device_flow.authorize(http, bad.auth)
        control(auth_emulator, "device/approve")
        with pytest.raises(AuthError) as info:
            device_flow.poll(http, bad.auth, code)
    assert "invalid_client" in str(info.value)
    assert "not-the-secret" not in str(info.value)


def test_auto_approve_scenario(auth_settings: Settings) -> None:
    scenario = Scenario.from_dict({"auth": {"device_poll_interval_seconds": 1,
                                            "auto_approve": True}})
    with Emulator(scenario) as emu, OAuthHttp(WebexSettings(url=emu.url)) as http:
        record = device_flow.sign_in(http, auth_settings.auth, lambda p, s: None)
        assert emu.state.auth.access_token_status(record.access_token) == "valid"


@pytest.mark.parametrize(
    ("code", "spoken"),
    [("WDJB-MJHT", "W, D, J, B. M, J, H, T."), ("123456", "1, 2, 3, 4, 5, 6."),
     ("ab cd", "A, B. C, D.")],
)
def test_codes_are_spelled_out(code: str, spoken: str) -> None:
    assert device_flow.spell_code(code) == spoken


def test_addresses_are_said_in_words() -> None:
    assert device_flow.spoken_address("https://login-k8s.wbx2.com/verify") == (
        "login dash k8s dot wbx2 dot com slash verify"
    )
    assert device_flow.spoken_address("https://www.example.com/") == "example dot com"
