"""The running loop's fault path, in process: the real emulator on loopback, the real
recogniser and voice (no speaker here: the voice reports what it says as events), and a
microphone of silent frames that can be made to fail. Every failure must be said aloud and the
failed part must come back."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from assistant import session as session_module
from assistant.calls import CallWatcher
from assistant.config import Settings
from assistant.events import EventLog
from assistant.session import open_session
from assistant.webex.emulator import Emulator

FRAME = bytes(640)  # 20 ms of 16 kHz silence
HANG_SECONDS = 15.0  # a hang check, not a speed test: the time to speak is measured in bench/


class FlakyMicrophone:
    """Silence in real time; the first ``failures`` calls of ``frames`` fail after a few frames."""

    def __init__(self, failures: int = 0) -> None:
        self.failures = failures
        self.opened = 0
        self._closed = threading.Event()

    def frames(self) -> Iterator[bytes]:
        self.opened += 1
        for count in range(10**9):
            if self._closed.wait(0.02):
                return
            if self.opened <= self.failures and count == 5:
                raise RuntimeError("the capture thread broke")
            yield FRAME

    def close(self) -> None:
        self._closed.set()


class Running:
    """``assistant listen`` in a thread, with every event recorded."""

    def __init__(self, settings: Settings, microphone: FlakyMicrophone) -> None:
        self.records: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        events = EventLog()
        events.subscribe(self._record)
        self.stop = threading.Event()
        self._settings, self._microphone, self._events = settings, microphone, events
        self._thread = threading.Thread(target=self._run, daemon=True)
        self.failed: BaseException | None = None

    def _record(self, record: dict[str, Any]) -> None:
        with self._lock:
            self.records.append(record)

    def _run(self) -> None:
        try:
            factory = lambda voice, dialog, notice: self._microphone  # noqa: E731
            with open_session(self._settings, None, factory, self._events) as session:
                session.run(self.stop)
        except BaseException as exc:  # reported by the test, not lost in the thread
            self.failed = exc

    def __enter__(self) -> Running:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self._thread.join(15)
        assert not self._thread.is_alive(), "the session did not stop"
        assert self.failed is None, repr(self.failed)

    def said(self) -> list[str]:
        with self._lock:
            return [r["text"] for r in self.records if r["event"] == "speaking"]

    def wait_said(self, predicate: Callable[[str], bool], seconds: float) -> float:
        """Seconds until a sentence matching ``predicate`` started; fails after ``seconds``."""
        started = time.monotonic()
        while time.monotonic() - started < seconds:
            if any(predicate(text) for text in self.said()):
                return time.monotonic() - started
            time.sleep(0.02)
        pytest.fail(f"not said within {seconds} s; said: {self.said()}")

    def wait_event(self, name: str, seconds: float = 10.0) -> dict[str, Any]:
        started = time.monotonic()
        while time.monotonic() - started < seconds:
            with self._lock:
                found = [r for r in self.records if r["event"] == name]
            if found:
                return found[0]
            time.sleep(0.02)
        pytest.fail(f"no {name} event within {seconds} s")


def settings_for(url: str, token: str, tmp_path: Any) -> Settings:
    settings = Settings().replace("webex", url=url, access_token=token, poll_interval_seconds=0.2)
    return settings.replace("voice", fallback_wav=str(tmp_path / "speech.wav"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_a_microphone_thread_that_fails_is_said_and_comes_back(emulator: Emulator, tmp_path: Any) -> None:
    microphone = FlakyMicrophone(failures=1)
    with Running(settings_for(emulator.url, emulator.token, tmp_path), microphone) as run:
        run.wait_event("ready")
        run.wait_said(lambda t: t.startswith("Listening stopped because of an internal error"),
                      HANG_SECONDS)
        deadline = time.monotonic() + HANG_SECONDS
        while microphone.opened < 2 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert microphone.opened >= 2, "listening was not started again"
        emulator.ring(name="Dana Smith")  # and the rest still works
        run.wait_said(lambda t: t.startswith("Call from Dana Smith"), HANG_SECONDS)


def test_a_poller_that_dies_is_said_and_calls_are_still_announced(
    emulator: Emulator, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    runs = []

    class DyingOnce(CallWatcher):
        def run(self, put: Any, stop: threading.Event) -> None:
            runs.append(1)
            if len(runs) == 1:
                raise RuntimeError("the poller broke")
            super().run(put, stop)

    monkeypatch.setattr("assistant.loop.CallWatcher", DyingOnce)
    with Running(settings_for(emulator.url, emulator.token, tmp_path), FlakyMicrophone()) as run:
        run.wait_event("ready")
        run.wait_said(lambda t: t.startswith("Watching for calls stopped"), HANG_SECONDS)
        emulator.ring(name="Dana Smith")
        run.wait_said(lambda t: t.startswith("Call from Dana Smith"), HANG_SECONDS)
    assert len(runs) == 2


def test_listen_with_webex_down_says_so_then_announces_a_call(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(session_module, "RETRY_SECONDS", 0.3)
    port = free_port()
    emulator = Emulator(port=port)
    url = f"http://127.0.0.1:{port}"
    with Running(settings_for(url, emulator.token, tmp_path), FlakyMicrophone()) as run:
        run.wait_said(lambda t: "I'll keep trying" in t, HANG_SECONDS)
        with emulator.start():
            run.wait_event("ready")
            run.wait_said(lambda t: t == "Webex is reachable. I'm ready.", HANG_SECONDS)
            emulator.ring(name="Dana Smith")
            run.wait_said(lambda t: t.startswith("Call from Dana Smith"), HANG_SECONDS)
    assert sum("I'll keep trying" in t for t in run.said()) == 1  # said once, not every retry


def test_listen_without_a_sign_in_says_so_and_keeps_waiting(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(session_module, "RETRY_SECONDS", 0.3)
    settings = settings_for("http://127.0.0.1:9", "", tmp_path)
    settings = settings.replace("auth", token_store=str(tmp_path / "tokens.json"))
    with Running(settings, FlakyMicrophone()) as run:
        run.wait_said(lambda t: "I'll keep trying" in t, HANG_SECONDS)
        time.sleep(1.0)
        assert not [r for r in run.records if r["event"] == "ready"]
    assert sum("I'll keep trying" in t for t in run.said()) == 1


def test_a_start_up_failure_is_said_before_listen_stops(emulator: Emulator, tmp_path: Any) -> None:
    """A missing speech model (or any other start-up error that retrying cannot mend) is said
    aloud, not only printed, and then ``listen`` ends with the error."""
    from assistant.config import Engine
    from assistant.errors import ModelError

    settings = settings_for(emulator.url, emulator.token, tmp_path)
    settings = settings.replace("speech", engine=Engine.VOSK, model="no-such-model")
    run = Running(settings, FlakyMicrophone())
    with pytest.raises(AssertionError, match="ModelError"):
        with run:
            run.wait_event("error")
            time.sleep(0.5)
    assert isinstance(run.failed, ModelError)
    assert run.said() == [run.failed.spoken]  # the reason, aloud


def test_ready_means_the_recogniser_is_built(
    emulator: Emulator, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """"ready" comes after the recogniser exists (spot mode's decoders take ~0.3 s to build),
    and the microphone part uses that one instead of building another."""
    from assistant.speech.pocketsphinx import PocketSphinxEngine

    built: list[int] = []
    real = PocketSphinxEngine.recognizer
    holder: dict[str, Running] = {}

    def recognizer(self: PocketSphinxEngine) -> Any:
        made = real(self)
        time.sleep(0.2)  # a slow machine
        built.append(sum(r["event"] == "ready" for r in holder["run"].records))
        return made

    monkeypatch.setattr(PocketSphinxEngine, "recognizer", recognizer)
    microphone = FlakyMicrophone()
    run = holder["run"] = Running(settings_for(emulator.url, emulator.token, tmp_path), microphone)
    with run:
        run.wait_event("ready")
        deadline = time.monotonic() + HANG_SECONDS
        while microphone.opened < 1 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert microphone.opened == 1
    assert built == [0], "built after ready, or built twice"


class SpeakingMicrophone(FlakyMicrophone):
    """``pcm`` once, after a second of silence, then silence; as fast as it is read."""

    def __init__(self, pcm: bytes) -> None:
        super().__init__()
        self.pcm = bytes(32000) + pcm

    def frames(self) -> Iterator[bytes]:
        self.opened += 1
        for i in range(0, len(self.pcm), len(FRAME)):
            yield self.pcm[i : i + len(FRAME)].ljust(len(FRAME), b"\0")
        yield from super().frames()


def test_the_recogniser_gives_its_memory_back_after_each_utterance(
    emulator: Emulator, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The microphone part calls ``release`` a second after a transcript, when the dialog has
    had it (not before: with the GIL held, it would delay the answer request)."""
    from fixtures_speech import synthesize

    from assistant.config import ListenMode
    from assistant.speech.pocketsphinx_spot import SpottingRecognizer

    holder: dict[str, Running] = {}
    heard_before: list[int] = []
    real = SpottingRecognizer.release

    def release(self: SpottingRecognizer) -> None:
        time.sleep(0.3)  # were the transcript not queued yet, the dialog could not have it now
        heard_before.append(sum(r["event"] == "heard" for r in holder["run"].records))
        real(self)

    monkeypatch.setattr(SpottingRecognizer, "release", release)
    settings = settings_for(emulator.url, emulator.token, tmp_path)
    settings = settings.replace("dialog", listen_mode=ListenMode.ALWAYS)
    run = holder["run"] = Running(settings, SpeakingMicrophone(synthesize("answer on my headset")))
    with run:
        run.wait_event("heard", HANG_SECONDS)
        deadline = time.monotonic() + HANG_SECONDS
        while not heard_before and time.monotonic() < deadline:
            time.sleep(0.02)
    assert heard_before and heard_before[0] >= 1, heard_before


class InterruptedMicrophone(SpeakingMicrophone):
    """``pcm`` once after a second of silence, then a gap (b"": the assistant spoke over what
    came next), then silence."""

    def frames(self) -> Iterator[bytes]:
        self.opened += 1
        for i in range(0, len(self.pcm), len(FRAME)):
            yield self.pcm[i : i + len(FRAME)].ljust(len(FRAME), b"\0")
        yield b""
        yield from FlakyMicrophone.frames(self)


def test_a_command_finished_before_the_assistant_spoke_over_the_wait_is_acted_on(
    emulator: Emulator, tmp_path: Any,
) -> None:
    """The person finished "answer on my desk phone"; 140 ms later, inside the commit wait,
    the assistant started a sentence (its reminder, say), so the microphone went deaf. The
    command was heard before: it reaches the dialog when the gap ends (``KEEP_AT_GAP``)."""
    from fixtures_speech import synthesize
    from test_spot_commit import voiced

    from assistant.config import ListenMode

    settings = settings_for(emulator.url, emulator.token, tmp_path)
    settings = settings.replace("dialog", listen_mode=ListenMode.ALWAYS)
    said = voiced(synthesize("answer on my desk phone")) + bytes(32 * 140)
    with Running(settings, InterruptedMicrophone(said)) as run:
        heard = run.wait_event("heard", HANG_SECONDS)
    # (in "always" mode the dialog then wants its wake phrase first; what matters is that the
    # command reached it: without KEEP_AT_GAP nothing is heard at all)
    assert heard["text"] == "answer on my desk phone", heard


def test_the_dialog_hears_that_a_voice_began_and_ended_around_its_transcript(
    emulator: Emulator, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The microphone part tells the dialog when a voice starts and stops (a reminder or the end
    of a window waits for it), and the transcript reaches the dialog before the voice's end, so a
    reminder due meanwhile never comes before the command it waited for."""
    from fixtures_speech import synthesize

    from assistant.config import ListenMode
    from assistant.dialog import Dialog

    order: list[str] = []
    real_voice, real_heard = Dialog.on_voice, Dialog.on_heard

    def on_voice(self: Dialog, heard: bool) -> None:
        order.append("voice" if heard else "quiet")
        real_voice(self, heard)

    def on_heard(self: Dialog, heard: Any, speaking: bool = False) -> None:
        order.append(heard.text)
        real_heard(self, heard, speaking)

    monkeypatch.setattr(Dialog, "on_voice", on_voice)
    monkeypatch.setattr(Dialog, "on_heard", on_heard)
    settings = settings_for(emulator.url, emulator.token, tmp_path)
    settings = settings.replace("dialog", listen_mode=ListenMode.ALWAYS)
    with Running(settings, SpeakingMicrophone(synthesize("answer on my headset"))) as run:
        run.wait_event("heard", HANG_SECONDS)
        deadline = time.monotonic() + HANG_SECONDS
        while order[-1:] != ["quiet"] and time.monotonic() < deadline:
            time.sleep(0.02)
    assert order == ["voice", "answer on my headset", "quiet"], order
