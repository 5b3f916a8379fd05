"""The emulator's HTTP server: a real server on loopback (``Emulator``) that serves the Webex
Calling subset the assistant uses (``api``), the control API under ``/_emulator``
(``control``, see docs/emulator.md) and injected faults (``state.Fault``).

Every ``/v1`` request is logged with its TrackingID; a fault matching it may replace it (a status,
a dropped connection) or follow it (a delay, a drop after it landed, a malformed body).
"""

from __future__ import annotations

import base64
import json
import logging
import socket
import sys
import threading
import time
import uuid
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self
from urllib.parse import parse_qsl, urlsplit

from assistant.emulator import api, control
from assistant.emulator.state import ApiError, EmulatorState, Fault
from assistant.emulator.scenario import Scenario

log = logging.getLogger(__name__)

MALFORMED_BODY = b'{"items": [{"id": "truncated'
FORM = "application/x-www-form-urlencoded"
SECRET_FIELDS = {"client_secret", "device_code", "refresh_token", "code"}


class _Server(ThreadingHTTPServer):
    daemon_threads = False
    block_on_close = True  # server_close() joins every handler thread
    emulator: Emulator

    def __init__(self, address: tuple[str, int], emulator: Emulator) -> None:
        self.emulator = emulator
        self.open_sockets: set[socket.socket] = set()
        self.sockets_lock = threading.Lock()
        super().__init__(address, _Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self.sockets_lock:
            self.open_sockets.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self.sockets_lock:
            self.open_sockets.discard(request)
        super().shutdown_request(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        exc = sys.exc_info()[1]
        if isinstance(exc, (ConnectionError, TimeoutError)):  # the client went away: its right
            log.debug("client %s went away: %s", client_address, exc)
            return
        log.exception("emulator: error while serving %s", client_address)

    def close_connections(self) -> None:
        with self.sockets_lock:
            sockets = list(self.open_sockets)
        for sock in sockets:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, like Webex
    server_version = "WebexEmulator/1.0"
    timeout = 60.0
    server: _Server

    def setup(self) -> None:
        super().setup()
        # headers and body go out as separate writes: without this, Nagle + delayed ACK add 40 ms
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s " + format, self.client_address[0], *args)

    def do_GET(self) -> None:
        self._handle()

    do_POST = do_PUT = do_DELETE = do_PATCH = do_GET

    # --- plumbing ------------------------------------------------------------------------

    def _read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _send(self, status: int, body: Any, headers: dict[str, str] | None = None,
              raw: bytes | None = None) -> None:
        data = raw if raw is not None else b"" if body is None else json.dumps(body).encode()
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        if data:
            self.send_header("Content-Type", "application/json;charset=UTF-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _drop(self) -> None:
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def _handle(self) -> None:
        parts = urlsplit(self.path)
        raw = self._read_body()
        query = dict(parse_qsl(parts.query))
        state = self.server.emulator.state
        try:
            if parts.path.startswith("/_emulator/"):
                self._control(state, parts.path, query, raw)
            else:
                self._webex(state, parts.path, query, raw)
        except (ConnectionError, TimeoutError):
            raise
        except Exception:  # an emulator bug: say so with a 500 rather than a dropped connection
            log.exception("emulator: %s %s failed", self.command, parts.path)
            self.close_connection = True
            self._send(500, _error_body("Emulator error (see its log).", "EMULATOR_ERROR"))

    # --- the Webex subset ----------------------------------------------------------------

    def _webex(self, state: EmulatorState, path: str, query: dict[str, str], raw: bytes) -> None:
        tracking_id = self.headers.get("TrackingID") or f"EMULATOR_{uuid.uuid4()}"
        body, body_ok = _parse_json(raw)
        entry: dict[str, Any] = {
            "t": time.time(), "method": self.command, "path": path, "status": None,
            "json": body if body_ok else None, "query": query, "trackingId": tracking_id,
        }
        if _is_form(self.headers.get("Content-Type")):
            entry["form"] = {k: "[redacted]" if k in SECRET_FIELDS else v
                             for k, v in parse_qsl(raw.decode("utf-8", "replace"))}
        fault = state.take_fault(self.command, path) if path.startswith("/v1/") else None
        headers = {"TrackingID": tracking_id}
        if fault is not None and (fault.status is not None or (fault.drop and not fault.landed)):
            self._fault_only(state, fault, entry, headers)
            return
        status, reply = self._dispatch(state, path, query, raw, body, body_ok)
        if status >= 400:
            reply = dict(reply, trackingId=tracking_id) if isinstance(reply, dict) else _error_body(
                reply, tracking_id)
        entry["status"] = None if fault is not None and fault.drop else status
        state.record(entry)  # logged when it takes effect, before any delay
        log.info("%s %s -> %s%s", self.command, path, entry["status"] or "dropped",
                 " (fault)" if fault is not None else "")
        if fault is not None:
            time.sleep(fault.delay)
            if fault.drop:
                self._drop()
                return
        if fault is not None and fault.malformed:
            self._send(200, None, headers, raw=MALFORMED_BODY)
        else:
            self._send(status, reply, headers)

    def _fault_only(self, state: EmulatorState, fault: Fault, entry: dict[str, Any],
                    headers: dict[str, str]) -> None:
        """A fault that replaces the request: it has no effect on the emulator's state."""
        entry["status"] = None if fault.drop else fault.status
        state.record(entry)
        log.info("%s %s -> %s (fault)", self.command, entry["path"], entry["status"] or "dropped")
        time.sleep(fault.delay)
        if fault.drop or fault.status is None:
            self._drop()
            return
        if fault.retry_after is not None:
            headers["Retry-After"] = f"{fault.retry_after:g}"
        message = fault.message or _phrase(fault.status)
        body = None if fault.status < 400 else _error_body(message, entry["trackingId"])
        self._send(fault.status, body, headers)

    def _dispatch(self, state: EmulatorState, path: str, query: dict[str, str], raw: bytes,
                  body: Any, body_ok: bool) -> tuple[int, Any]:
        route, match, path_known = api.find_route(self.command, path)
        try:
            if route is None or match is None:
                raise state.refuse("wrong_method" if path_known else "unknown_path")
            if route.auth:
                self._check_token(state)
            content_type = self.headers.get("Content-Type")
            if route.json_body and (not _is_json(content_type) or not body_ok):
                raise state.refuse("not_json")
            if route.form_body:
                if not _is_form(content_type):
                    raise ApiError(415, "The body must be application/x-www-form-urlencoded.")
                body = self._form(raw)
            return route.handler(state, match, query, body)
        except ApiError as exc:
            return exc.status, exc.message

    def _check_token(self, state: EmulatorState) -> None:
        scheme, _, token = self.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise state.refuse("bad_token")
        if token == state.scenario.token:
            return
        status = state.auth.access_token_status(token)
        if status != "valid":
            raise state.refuse("expired_token" if status == "expired" else "bad_token")

    def _form(self, raw: bytes) -> dict[str, str]:
        form = dict(parse_qsl(raw.decode("utf-8", "replace")))
        scheme, _, value = self.headers.get("Authorization", "").partition(" ")
        if scheme.lower() == "basic":  # client credentials as HTTP Basic
            try:
                client_id, _, secret = base64.b64decode(value).decode().partition(":")
            except ValueError:
                client_id = secret = ""
            form.setdefault("client_id", client_id)
            form.setdefault("client_secret", secret)
        return form

    # --- the control API (``control``) -------------------------------------------------

    def _control(self, state: EmulatorState, path: str, query: dict[str, str], raw: bytes) -> None:
        body, body_ok = _parse_json(raw)
        if raw and not body_ok:
            self._send(400, {"message": "the body must be JSON"})
            return
        status, reply = control.handle(state, self.command, path, query,
                                       body if isinstance(body, dict) else {})
        self._send(status, reply)


def _parse_json(raw: bytes) -> tuple[Any, bool]:
    if not raw:
        return None, False
    try:
        return json.loads(raw), True
    except ValueError:
        return None, False


def _is_form(content_type: str | None) -> bool:
    return content_type is not None and content_type.split(";")[0].strip().lower() == FORM


def _is_json(content_type: str | None) -> bool:
    return content_type is not None and content_type.split(";")[0].strip().lower() == "application/json"


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def _error_body(message: Any, tracking_id: str) -> dict[str, Any]:
    text = str(message)
    return {"message": text, "errors": [{"description": text}], "trackingId": tracking_id}


class Emulator:
    """The emulator on ``host:port`` (0: any free port), served from a background thread."""

    def __init__(self, scenario: Scenario | None = None, host: str = "127.0.0.1", port: int = 0) -> None:
        self.scenario = scenario or Scenario.default()
        self.state = EmulatorState(self.scenario)
        self.host, self.port = host, port
        self.url = ""
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def token(self) -> str:
        return self.scenario.token

    def start(self) -> Self:
        """Serve from a background thread; a started emulator is left as it is."""
        if self._server is not None:
            return self
        self._server = _Server((self.host, self.port), self)
        host, port = self._server.server_address[:2]
        self.port = int(port)
        host = host.decode() if isinstance(host, bytes) else str(host)
        shown = f"[{host}]" if ":" in host else host
        self.url = f"http://{shown}:{self.port}"
        self.state.base_url = self.url
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.1},
            name="webex-emulator", daemon=True,
        )
        self._thread.start()
        log.info("emulator listening on %s", self.url)
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        self._server.shutdown()
        self._server.close_connections()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def ring(self, name: str | None = None, number: str | None = None, privacy: bool = False) -> str:
        return self.state.ring(name, number, privacy)

    def end_call(self, call_id: str, reason: str = "remote") -> None:
        self.state.end_call(call_id, reason)

    def requests(self) -> list[dict[str, Any]]:
        return self.state.requests()

    def add_fault(self, **fault: Any) -> None:
        self.state.add_fault(fault)

    def reset(self) -> None:
        self.state.reset()

    def calls(self) -> list[dict[str, Any]]:
        return self.state.snapshot()
