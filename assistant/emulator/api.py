"""The Webex subset the emulator serves under ``/v1``: one function per operation, and the route
table the HTTP handler dispatches on. Shapes follow ``shared/webex-openapi``.

Sign-in (``/v1/device/authorize``, ``/v1/device/token``, ``/v1/access_token``) is in
``auth``; its rows here need no token and take form bodies.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from assistant.emulator.auth import OAuthError
from assistant.emulator.state import ApiError, EmulatorState, iso_now

Reply = tuple[int, Any]  # status, JSON body (None: no body)
Handler = Callable[[EmulatorState, re.Match[str], dict[str, str], Any], Reply]

REJECT_ACTIONS = ("busy", "temporarilyUnavailable", "ignore")
ME = "/v1/telephony/config/people/me"


@dataclass(frozen=True)
class Route:
    method: str
    pattern: re.Pattern[str]
    handler: Handler
    auth: bool = True
    json_body: bool = False  # POST/PUT: the body must be a JSON object
    form_body: bool = False  # POST: the body is form-encoded (OAuth endpoints)


def _body(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise ApiError(400, "The request body must be a JSON object.")
    return body


# --- calls -----------------------------------------------------------------------------------


def list_calls(state: EmulatorState, m: re.Match[str], q: dict[str, str], body: Any) -> Reply:
    with state.lock:
        state.expire()
        return 200, {"items": [c.to_json() for c in state.calls.values()]}


def get_call(state: EmulatorState, m: re.Match[str], q: dict[str, str], body: Any) -> Reply:
    with state.lock:
        return 200, state.find_call(m.group(1)).to_json()


def history(state: EmulatorState, m: re.Match[str], q: dict[str, str], body: Any) -> Reply:
    kind = q.get("type")
    if kind is not None and kind not in ("placed", "missed", "received"):
        raise ApiError(400, "type must be one of placed, missed, received.")
    with state.lock:
        state.expire()
        return 200, {"items": [r for r in state.history if kind in (None, r["type"])]}


def answer(state: EmulatorState, m: re.Match[str], q: dict[str, str], body: Any) -> Reply:
    data = _body(body)
    with state.lock:
        call = state.find_call(data.get("callId"))
        endpoint_id = data.get("endpointId")
        if endpoint_id is not None:
            endpoint = state.scenario.endpoint(endpoint_id) if isinstance(endpoint_id, str) else None
            if endpoint is None:
                raise state.refuse("unknown_endpoint")
            if not endpoint.answer_via_api:
                raise state.refuse("endpoint_cannot_answer")
        if call.state != "alerting":
            raise state.refuse("not_alerting")
        call.state, call.answered = "connected", iso_now()
        call.endpoint_id = endpoint_id or state.preferred or _primary(state)
        state.add_history("received", call.remote)
    return 204, None


def _primary(state: EmulatorState) -> str:
    return state.scenario.endpoints[0].id


def reject(state: EmulatorState, m: re.Match[str], q: dict[str, str], body: Any) -> Reply:
    data = _body(body)
    action = data.get("action", "busy")
    with state.lock:
        call = state.find_call(data.get("callId"))
        if action not in REJECT_ACTIONS:
            raise state.refuse("bad_action")
        if call.state != "alerting":
            raise state.refuse("not_alerting")
        state.finish(call, "missed")
    return 204, None


def hangup(state: EmulatorState, m: re.Match[str], q: dict[str, str], body: Any) -> Reply:
    with state.lock:
        call = state.find_call(_body(body).get("callId"))
        state.finish(call, "missed" if call.state == "alerting" else None)
    return 204, None


def _transition(source: tuple[str, ...], target: str) -> Handler:
    def handler(state: EmulatorState, m: re.Match[str], q: dict[str, str], body: Any) -> Reply:
        with state.lock:
            call = state.find_call(_body(body).get("callId"))
            if call.state not in source:
                raise state.refuse("wrong_state")
            call.state = target
        return 204, None

    return handler


def _mute(muted: bool) -> Handler:
    def handler(state: EmulatorState, m: re.Match[str], q: dict[str, str], body: Any) -> Reply:
        with state.lock:
            call = state.find_call(_body(body).get("callId"))
            if call.state not in ("connected", "held"):
                raise state.refuse("not_mute_capable")
            call.muted = muted
        return 204, None

    return handler


def divert(state: EmulatorState, m: re.Match[str], q: dict[str, str], body: Any) -> Reply:
    data = _body(body)
    with state.lock:
        call = state.find_call(data.get("callId"))
        if not data.get("toVoicemail") and not data.get("destination"):
            raise state.refuse("missing_destination")
        state.finish(call, "missed" if call.state == "alerting" else None)
    return 204, None


# --- answer endpoints and the person -----------------------------------------------------


def available_endpoints(state: EmulatorState, m: re.Match[str], q: dict[str, str], body: Any) -> Reply:
    with state.lock:
        items = [
            {"id": e.id, "type": e.type, "name": e.name, "isPreferredAnswerEndpoint": e.id == state.preferred}
            for e in state.scenario.endpoints
        ]
    return 200, {"endpoints": items}


def my_endpoints(state: EmulatorState, m: re.Match[str], q: dict[str, str], body: Any) -> Reply:
    user = state.scenario.user
    items = [
        {
            "id": e.id,
            "type": "APPLICATION" if e.type == "APPLICATION" else "CALLING_DEVICE",
            "name": e.name,
            "autoAndForcedAnswerEnabled": e.answer_via_api,
            "ownerId": user.id,
            "ownerType": "PEOPLE",
        }
        for e in state.scenario.endpoints
    ]
    return 200, {"endpoints": items}


def get_preferred(state: EmulatorState, m: re.Match[str], q: dict[str, str], body: Any) -> Reply:
    with state.lock:
        endpoint = state.scenario.endpoint(state.preferred) if state.preferred else None
    if endpoint is None:
        return 200, {}  # "If a preferred endpoint is not set for the person, API returns empty"
    return 200, {"id": endpoint.id, "type": endpoint.type, "name": endpoint.name}


def put_preferred(state: EmulatorState, m: re.Match[str], q: dict[str, str], body: Any) -> Reply:
    data = _body(body)
    key = "preferredAnswerEndpointId" if "preferredAnswerEndpointId" in data else "id"
    if key not in data:
        raise ApiError(400, "preferredAnswerEndpointId is required (null clears it).")
    endpoint_id = data[key]
    if endpoint_id is not None and (
        not isinstance(endpoint_id, str) or state.scenario.endpoint(endpoint_id) is None
    ):
        raise state.refuse("unknown_endpoint")
    with state.lock:
        state.preferred = endpoint_id
    return 204, None


def people_me(state: EmulatorState, m: re.Match[str], q: dict[str, str], body: Any) -> Reply:
    user = state.scenario.user
    return 200, {
        "id": user.id,
        "emails": list(user.emails),
        "displayName": user.display_name,
        "type": "person",
    }


# --- sign-in (form bodies; errors are OAuth-shaped) -----------------------------------------


def _oauth(call: Callable[[EmulatorState, dict[str, str]], dict[str, Any]]) -> Handler:
    def handler(state: EmulatorState, m: re.Match[str], q: dict[str, str], body: Any) -> Reply:
        try:
            return 200, call(state, body)
        except OAuthError as exc:
            return exc.status, exc.body()

    return handler


device_authorize = _oauth(lambda state, form: state.auth.authorize(form, state.base_url))
device_token = _oauth(lambda state, form: state.auth.device_token(form))
access_token = _oauth(lambda state, form: state.auth.refresh_grant(form))


def _route(method: str, path: str, handler: Handler, **kw: Any) -> Route:
    return Route(method, re.compile(path + r"/?\Z"), handler, **kw)


OPS = "answer|reject|hangup|hold|resume|mute|unmute|divert|history"
ROUTES: tuple[Route, ...] = (
    _route("GET", r"/v1/telephony/calls", list_calls),
    _route("GET", r"/v1/telephony/calls/history", history),
    _route("GET", rf"/v1/telephony/calls/(?!(?:{OPS})/?\Z)([^/]+)", get_call),
    _route("POST", r"/v1/telephony/calls/answer", answer, json_body=True),
    _route("POST", r"/v1/telephony/calls/reject", reject, json_body=True),
    _route("POST", r"/v1/telephony/calls/hangup", hangup, json_body=True),
    _route("POST", r"/v1/telephony/calls/hold", _transition(("connected",), "held"), json_body=True),
    _route("POST", r"/v1/telephony/calls/resume", _transition(("held",), "connected"), json_body=True),
    _route("POST", r"/v1/telephony/calls/mute", _mute(True), json_body=True),
    _route("POST", r"/v1/telephony/calls/unmute", _mute(False), json_body=True),
    _route("POST", r"/v1/telephony/calls/divert", divert, json_body=True),
    _route("GET", ME + r"/settings/availablePreferredAnswerEndpoints", available_endpoints),
    _route("GET", ME + r"/settings/preferredAnswerEndpoint", get_preferred),
    _route("PUT", ME + r"/settings/preferredAnswerEndpoint", put_preferred, json_body=True),
    _route("GET", ME + r"/endpoints", my_endpoints),
    _route("GET", r"/v1/people/me", people_me),
    _route("POST", r"/v1/device/authorize", device_authorize, auth=False, form_body=True),
    _route("POST", r"/v1/device/token", device_token, auth=False, form_body=True),
    _route("POST", r"/v1/access_token", access_token, auth=False, form_body=True),
)


def find_route(method: str, path: str) -> tuple[Route | None, re.Match[str] | None, bool]:
    """The route for a request, its match, and whether the path exists under another method."""
    path_known = False
    for route in ROUTES:
        match = route.pattern.match(path)
        if match:
            if route.method == method:
                return route, match, True
            path_known = True
    return None, None, path_known
