"""The emulator's control API under ``/_emulator``: what a test (or a person at a browser) does
to the emulated world. Every reply is JSON (or no body); the server sends it as it is.

    POST /_emulator/ring                 {"name"?, "number"?, "privacy"?}  → 201 {"callId"}
    GET  /_emulator/requests             every /v1 request so far
    POST /_emulator/faults               {"method", "path", "status"?, "retryAfter"?, "delay"?,
                                          "drop"?, "landed"?, "malformed"?, "count"?, "message"?}
    POST /_emulator/reset                back to the scenario's initial state
    POST /_emulator/calls/{callId}/end   {"reason"?: "remote" | "elsewhere" | "answered"}: the call leaves alerting
    GET  /_emulator/calls                every call with the endpoint it was answered on
    POST /_emulator/device/approve       {"user_code"?, "deny"?}: the person signs in (or declines)
    GET  /_emulator/device?user_code=X   the verification page: approves that code
    POST /_emulator/tokens/expire        every issued access token expires now
    POST /_emulator/tokens/revoke        every refresh token is revoked
"""

from __future__ import annotations

import re
from typing import Any

from assistant.emulator.state import ApiError, EmulatorState

Reply = tuple[int, Any]  # status, JSON body (None: no body)

_END = re.compile(r"/_emulator/calls/([^/]+)/end/?\Z")


def handle(state: EmulatorState, method: str, path: str, query: dict[str, str],
           body: dict[str, Any]) -> Reply:
    """One control request; a refusal or a bad value is a JSON ``{"message"}`` error."""
    try:
        return _handle(state, method, path.rstrip("/"), query, body)
    except ApiError as exc:
        return exc.status, {"message": exc.message}
    except ValueError as exc:
        return 400, {"message": str(exc)}


def _handle(state: EmulatorState, method: str, path: str, query: dict[str, str],
            body: dict[str, Any]) -> Reply:
    if (method, path) == ("POST", "/_emulator/ring"):
        return 201, {"callId": state.ring(body.get("name"), body.get("number"), bool(body.get("privacy")))}
    if (method, path) == ("GET", "/_emulator/requests"):
        return 200, state.requests()
    if (method, path) == ("POST", "/_emulator/faults"):
        state.add_fault(body)
        return 204, None
    if (method, path) == ("POST", "/_emulator/reset"):
        state.reset()
        return 204, None
    if (method, path) == ("GET", "/_emulator/calls"):
        return 200, state.snapshot()
    if (method, path) == ("POST", "/_emulator/device/approve"):
        count = state.auth.approve(body.get("user_code"), deny=bool(body.get("deny")))
        return 200 if count else 404, {"approved" if not body.get("deny") else "denied": count}
    if (method, path) == ("GET", "/_emulator/device"):
        code = query.get("user_code")
        count = state.auth.approve(code) if code else 0
        return 200 if count else 404, {"message": "Signed in. You can close this page."
                                       if count else "No pending sign-in with that code."}
    if (method, path) == ("POST", "/_emulator/tokens/expire"):
        state.auth.expire_access_tokens()
        return 204, None
    if (method, path) == ("POST", "/_emulator/tokens/revoke"):
        state.auth.revoke_refresh_tokens()
        return 204, None
    if method == "POST" and (m := _END.match(path)):
        state.end_call(m.group(1), str(body.get("reason", "remote")))
        return 204, None
    return 404, {"message": f"no control endpoint {method} {path}"}
