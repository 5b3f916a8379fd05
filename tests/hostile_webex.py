"""A deliberately broken fake Webex for the tests: a tiny threaded socket server on 127.0.0.1
that answers each request with scripted raw bytes.

It sends what the emulator never does: redirects, HTML login pages, bodies that trickle one byte
at a time or go on for hundreds of megabytes, JSON of the wrong shape, odd ``Retry-After``
values. Every reply closes its connection, so each request is one script step.

    with HostileWebex() as server:
        server.script("POST", "/v1/telephony/calls/answer", redirect("/login"))
        ...  # WebexSettings(url=server.url, ...)

Routes not scripted get a plain Webex reply: List Calls with one call ringing for the person,
the default answer endpoints, ``204`` for call controls, and ``404`` JSON for anything else.
"""

from __future__ import annotations

import json
import socket
import socketserver
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Self

CALL_ID = "hostile-call-1"
RINGING_CALL: dict[str, Any] = {
    "id": CALL_ID, "state": "alerting", "personality": "terminator",
    "remoteParty": {"name": "Dana Smith", "number": "+15551234567", "privacyEnabled": False,
                    "callType": "external"},
    "created": "2026-01-01T10:00:00.000Z", "muteCapable": False,
}
ENDPOINTS: dict[str, Any] = {"endpoints": [
    {"id": "app-1", "type": "APPLICATION", "name": "Webex Desktop Application",
     "isPreferredAnswerEndpoint": True},
    {"id": "desk-1", "type": "DEVICE", "name": "Cisco 8865 (Desk phone)",
     "isPreferredAnswerEndpoint": False},
]}
HTML_LOGIN = (b"<!DOCTYPE html><html><head><title>Sign in</title></head>"
              b"<body><form action='/login'>Sign in to continue</form></body></html>")


class Reply:
    """One scripted reply: ``serve`` writes it to the socket (it may stop early on a closed one)."""

    def serve(self, sock: socket.socket, stop: threading.Event) -> None:
        raise NotImplementedError


@dataclass
class Raw(Reply):
    data: bytes

    def serve(self, sock: socket.socket, stop: threading.Event) -> None:
        sock.sendall(self.data)


@dataclass
class Trickle(Reply):
    """``head`` at once (or byte by byte with ``trickle_head``), then ``body`` one byte every
    ``interval_seconds``: each read is quick, the whole reply never ends in time."""

    head: bytes
    body: bytes
    interval_seconds: float = 0.3
    trickle_head: bool = False

    def serve(self, sock: socket.socket, stop: threading.Event) -> None:
        if not self.trickle_head:
            sock.sendall(self.head)
        for byte in (self.head if self.trickle_head else b"") + self.body:
            if stop.wait(self.interval_seconds):
                return
            sock.sendall(bytes([byte]))


@dataclass
class Huge(Reply):
    """A ``200`` whose body goes on for ``size`` bytes (advertised in Content-Length, or chunked)."""

    size: int
    content_type: str = "application/json"
    chunked: bool = False
    sent: list[int] = field(default_factory=list)  # bytes of body actually written

    def serve(self, sock: socket.socket, stop: threading.Event) -> None:
        framing = "Transfer-Encoding: chunked" if self.chunked else f"Content-Length: {self.size}"
        sock.sendall(head(200, {"Content-Type": self.content_type}, framing=framing))
        block, sent = b'{"items": [' + b" " * (64 * 1024 - 11), 0
        while sent < self.size and not stop.is_set():
            piece = block[: min(len(block), self.size - sent)]
            sock.sendall(b"%x\r\n%s\r\n" % (len(piece), piece) if self.chunked else piece)
            sent += len(piece)
            self.sent.append(sent)
        if self.chunked:
            sock.sendall(b"0\r\n\r\n")


def head(status: int, headers: dict[str, str] | None = None, framing: str | None = None,
         reason: str = "Whatever") -> bytes:
    lines = [f"HTTP/1.1 {status} {reason}"]
    lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
    if framing:
        lines.append(framing)
    lines.append("Connection: close")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def raw(status: int, body: bytes = b"", headers: dict[str, str] | None = None,
        content_type: str | None = "application/json") -> Raw:
    all_headers = dict(headers or {})
    if content_type and body:
        all_headers.setdefault("Content-Type", content_type)
    return Raw(head(status, all_headers, framing=f"Content-Length: {len(body)}") + body)


def json_reply(status: int, data: Any, headers: dict[str, str] | None = None) -> Raw:
    return raw(status, json.dumps(data).encode(), headers)


def redirect(location: str, status: int = 302) -> Raw:
    return raw(status, b"", {"Location": location})


def html(status: int = 200) -> Raw:
    return raw(status, HTML_LOGIN, content_type="text/html; charset=utf-8")


def calls_with(*items: Any) -> Raw:
    return json_reply(200, {"items": list(items)})


def _default(method: str, path: str) -> Reply:
    if method == "GET" and path == "/v1/telephony/calls":
        return calls_with(RINGING_CALL)
    if method == "GET" and path == f"/v1/telephony/calls/{CALL_ID}":
        return json_reply(200, RINGING_CALL)
    if method == "GET" and path.endswith("/availablePreferredAnswerEndpoints"):
        return json_reply(200, ENDPOINTS)
    if method == "POST" and path.startswith("/v1/telephony/calls/"):
        return raw(204)
    return json_reply(404, {"message": "not here", "trackingId": "HOSTILE_404"})


Script = Reply | Callable[[], Reply] | list[Reply]


class HostileWebex:
    def __init__(self) -> None:
        self._scripts: dict[tuple[str, str], Script] = {}
        self._requests: list[tuple[str, str]] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.hostile = self
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,),
                                        name="hostile-webex", daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> Self:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
        self._server.join_handlers(timeout=5)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def script(self, method: str, path: str, reply: Script) -> None:
        """What ``method path`` gets from now on: a reply, a list (one per request, the last
        repeats), or a function making a fresh reply per request."""
        with self._lock:
            self._scripts[(method, path)] = reply

    def requests(self) -> list[tuple[str, str]]:
        with self._lock:
            return list(self._requests)

    def _reply_for(self, method: str, path: str) -> Reply:
        with self._lock:
            self._requests.append((method, path))
            script = self._scripts.get((method, path))
            if isinstance(script, list):
                return script.pop(0) if len(script) > 1 else script[0]
        if script is None:
            return _default(method, path)
        return script if isinstance(script, Reply) else script()


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    hostile: HostileWebex

    def __init__(self, *args: Any) -> None:
        self._handlers: list[threading.Thread] = []
        super().__init__(*args)

    def process_request(self, request: Any, client_address: Any) -> None:
        thread = threading.Thread(target=self.process_request_thread,
                                  args=(request, client_address), daemon=True)
        self._handlers.append(thread)
        thread.start()

    def join_handlers(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        for thread in self._handlers:
            thread.join(timeout=max(0.0, deadline - time.monotonic()))

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # the client hanging up on a huge or trickling reply is expected


class _Handler(socketserver.BaseRequestHandler):
    request: socket.socket
    server: _Server

    def handle(self) -> None:
        self.request.settimeout(5)
        method, path = _read_request(self.request)
        if not method:
            return
        reply = self.server.hostile._reply_for(method, path)
        try:
            reply.serve(self.request, self.server.hostile._stop)
        except OSError:
            return  # the client stopped reading: what a limit or a deadline does
        try:
            self.request.shutdown(socket.SHUT_WR)
            self.request.recv(1)  # wait for the client to close, so no reset loses the reply
        except OSError:
            pass


def _read_request(sock: socket.socket) -> tuple[str, str]:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            return "", ""
        data += chunk
    header, _, rest = data.partition(b"\r\n\r\n")
    lines = header.decode("latin-1").split("\r\n")
    method, target = lines[0].split(" ")[:2]
    length = next((int(line.split(":", 1)[1]) for line in lines[1:]
                   if line.lower().startswith("content-length:")), 0)
    while len(rest) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        rest += chunk
    return method, target.split("?", 1)[0]


def control_characters(text: str) -> list[str]:
    """Control characters in ``text`` other than a line end (what must never reach a terminal)."""
    return [ch for ch in text if (ord(ch) < 32 and ch != "\n") or 0x7F <= ord(ch) < 0xA0]


def iter_strings(data: Any) -> Iterator[str]:
    """Every string inside a decoded JSON document."""
    if isinstance(data, str):
        yield data
    elif isinstance(data, dict):
        for key, value in data.items():
            yield str(key)
            yield from iter_strings(value)
    elif isinstance(data, list):
        for value in data:
            yield from iter_strings(value)
