"""HTTP to Webex with limits that a broken or hostile server cannot get past.

* One overall deadline per request (``request_deadline_seconds``): httpx timeouts are per read, so
  a server sending one byte a second would never time out. Every socket operation of a request
  is given at most the time left before its deadline (a network backend wrapped around httpcore's),
  so headers or a body that trickle end in a timeout at the deadline.
* A body limit (``MAX_BODY_BYTES``): the body is streamed and reading stops at the limit; a
  ``Content-Length`` above it is not read at all. Only ``identity`` encoding is asked for and
  nothing is decompressed, so a small compressed body cannot grow in memory.
* No redirects are followed.
* ``Retry-After`` is read defensively: seconds or an HTTP date; infinities, NaN, negative, huge
  and garbage values become a finite number within ``[0, RETRY_AFTER_CEILING_SECONDS]`` or None.
"""

from __future__ import annotations

import math
import ssl
import time
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import timezone
from email.utils import parsedate_to_datetime
from typing import Any

import httpcore
import httpx

from assistant.config import WebexSettings

MAX_BODY_BYTES = 1024 * 1024  # Webex's replies here are a few kilobytes
RETRY_AFTER_CEILING_SECONDS = 3600.0
_CHUNK_BYTES = 64 * 1024

#: When the request running on this thread must be over (``time.monotonic()``), or None.
_DEADLINE: ContextVar[float | None] = ContextVar("webex_request_deadline", default=None)


def request_deadline_seconds(settings: WebexSettings) -> float:
    """The longest one request may take: connecting, then the whole reply in one read timeout."""
    return settings.connect_timeout_seconds + settings.read_timeout_seconds


def _bounded(timeout: float | None) -> float | None:
    """``timeout`` shortened to the time left before this request's deadline."""
    deadline = _DEADLINE.get()
    if deadline is None:
        return timeout
    left = max(0.001, deadline - time.monotonic())  # 0 would make the socket non-blocking
    return left if timeout is None else min(timeout, left)


class _DeadlineStream(httpcore.NetworkStream):
    def __init__(self, stream: httpcore.NetworkStream) -> None:
        self._stream = stream

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._stream.read(max_bytes, _bounded(timeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._stream.write(buffer, _bounded(timeout))

    def close(self) -> None:
        self._stream.close()

    def start_tls(
        self, ssl_context: ssl.SSLContext, server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        return _DeadlineStream(self._stream.start_tls(ssl_context, server_hostname, _bounded(timeout)))

    def get_extra_info(self, info: str) -> Any:
        return self._stream.get_extra_info(info)


class _DeadlineBackend(httpcore.NetworkBackend):
    def __init__(self) -> None:
        self._backend = httpcore.SyncBackend()

    def connect_tcp(
        self, host: str, port: int, timeout: float | None = None,
        local_address: str | None = None, socket_options: Any = None,
    ) -> httpcore.NetworkStream:
        stream = self._backend.connect_tcp(host, port, _bounded(timeout), local_address, socket_options)
        return _DeadlineStream(stream)

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Any = None
    ) -> httpcore.NetworkStream:
        return _DeadlineStream(self._backend.connect_unix_socket(path, _bounded(timeout), socket_options))

    def sleep(self, seconds: float) -> None:
        self._backend.sleep(seconds)


class _DeadlineTransport(httpx.HTTPTransport):
    """httpx's transport on a connection pool whose sockets keep the request deadline."""

    def __init__(self) -> None:
        super().__init__()
        limits = httpx.Limits(max_connections=10, max_keepalive_connections=5, keepalive_expiry=5.0)
        self._pool = httpcore.ConnectionPool(
            ssl_context=httpx.create_ssl_context(),
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=_DeadlineBackend(),
        )


def http_client(settings: WebexSettings, base_url: str) -> httpx.Client:
    """The one way this project talks HTTP to Webex: keep-alive, explicit timeouts, no redirects,
    and a deadline per request (``exchange``)."""
    timeout = httpx.Timeout(
        connect=settings.connect_timeout_seconds,
        read=settings.read_timeout_seconds,
        write=settings.read_timeout_seconds,
        pool=settings.connect_timeout_seconds,
    )
    return httpx.Client(
        base_url=base_url, timeout=timeout, follow_redirects=False, transport=_DeadlineTransport(),
        headers={"Accept-Encoding": "identity"},
    )


@dataclass(frozen=True)
class Reply:
    """A whole reply, read within the limits. ``truncated``: the body was over the limit and
    ``content`` holds none of it."""

    status: int
    headers: httpx.Headers
    content: bytes
    truncated: bool = False
    tracking_id: str | None = None  # the TrackingID this project sent


def exchange(
    http: httpx.Client, method: str, path: str, deadline_seconds: float, *,
    json: Any = None, params: dict[str, str] | None = None, headers: dict[str, str] | None = None,
) -> Reply:
    """One request and its whole reply, over within ``deadline_seconds``; raises
    ``httpx.TransportError`` (a timeout at the deadline) like httpx does."""
    deadline = time.monotonic() + deadline_seconds
    token = _DEADLINE.set(deadline)
    try:
        request = http.build_request(method, path, json=json, params=params, headers=headers)
        response = http.send(request, stream=True)
        try:
            content, truncated = _read_bounded(response, deadline)
        finally:
            response.close()
    finally:
        _DEADLINE.reset(token)
    return Reply(response.status_code, response.headers, content, truncated)


def _read_bounded(response: httpx.Response, deadline: float) -> tuple[bytes, bool]:
    try:
        advertised = int(response.headers.get("Content-Length", "0"))
    except ValueError:
        advertised = 0
    if advertised > MAX_BODY_BYTES:
        return b"", True
    body = bytearray()
    for chunk in response.iter_raw(_CHUNK_BYTES):
        body += chunk
        if len(body) > MAX_BODY_BYTES:
            return b"", True
        if time.monotonic() > deadline:  # the sockets keep it too; this is the last word
            raise httpx.ReadTimeout("the reply did not end before the request deadline")
    return bytes(body), False


def retry_after_seconds(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` value (delay-seconds or an HTTP date), within
    ``[0, RETRY_AFTER_CEILING_SECONDS]``; None when there is none or it cannot be read."""
    if value is None:
        return None
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        try:
            when = parsedate_to_datetime(text)
            if when.tzinfo is None:
                when = when.replace(tzinfo=timezone.utc)
            seconds = when.timestamp() - (time.time() if now is None else now)
        except (TypeError, ValueError, IndexError, OverflowError, OSError):
            return None
    if math.isnan(seconds):
        return None
    return min(max(seconds, 0.0), RETRY_AFTER_CEILING_SECONDS)
