"""Every JSON body the emulator sends for the implemented operations validates against Cisco's
OpenAPI excerpts in shared/webex-openapi (response schema looked up by path, method, status)."""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import pytest
import yaml
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

from assistant.emulator import Emulator

SPEC_DIR = Path(__file__).resolve().parent / "data" / "webex-openapi"  # copies of shared/webex-openapi
SPEC_FILES = (
    "webex-call-controls-api-openapi.yml",
    "webex-call-settings-for-me-api-openapi.yml",
)
ME = "/v1/telephony/config/people/me"
#: Operations the emulator serves that the excerpts do not describe; their shapes are checked here.
NOT_IN_EXCERPTS = {("GET", "/v1/people/me")}
PERSON = {
    "type": "object",
    "required": ["id", "emails", "displayName"],
    "properties": {"id": {"type": "string"}, "displayName": {"type": "string"},
                   "emails": {"type": "array", "items": {"type": "string"}}},
}
ERROR = {  # DESIGN.md: Webex error bodies
    "type": "object",
    "required": ["message", "errors", "trackingId"],
    "properties": {
        "message": {"type": "string"},
        "trackingId": {"type": "string"},
        "errors": {"type": "array", "minItems": 1, "items": {
            "type": "object", "required": ["description"],
            "properties": {"description": {"type": "string"}}}},
    },
}


@lru_cache(maxsize=1)
def specs() -> tuple[Registry, list[tuple[str, re.Pattern[str], int, dict[str, Any]]]]:
    """A registry holding every spec document, and (uri, path regex, #params, paths entry)."""
    registry: Registry = Registry()
    templates = []
    for name in SPEC_FILES:
        document = yaml.safe_load((SPEC_DIR / name).read_text(encoding="utf-8"))
        uri = f"urn:webex-openapi:{name}"
        registry = registry.with_resource(uri, Resource.from_contents(document, default_specification=DRAFT4))
        for template, operations in document["paths"].items():
            regex = re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape("/v1" + template))
            templates.append((uri, re.compile(regex + r"\Z"), template.count("{"), template, operations))
    templates.sort(key=lambda t: t[2])  # literal paths win over templated ones (history vs {callId})
    return registry, [(uri, rx, n, {"template": tpl, "operations": ops}) for uri, rx, n, tpl, ops in templates]


def _pointer(*parts: str) -> str:
    return "/".join(p.replace("~", "~0").replace("/", "~1") for p in parts)


def response_schema(method: str, path: str, status: int) -> dict[str, Any] | None:
    """A ``$ref`` to the documented JSON schema of this response, or None if it has no body."""
    _, templates = specs()
    for uri, regex, _, entry in templates:
        if not regex.match(path):
            continue
        operation = entry["operations"].get(method.lower())
        assert operation is not None, f"{method} {path}: not in the spec"
        response = operation["responses"].get(str(status))
        assert response is not None, f"{method} {path}: status {status} is not documented"
        if "application/json" not in (response.get("content") or {}):
            return None
        ref = _pointer("paths", entry["template"], method.lower(), "responses", str(status),
                       "content", "application/json", "schema")
        return {"$ref": f"{uri}#/{ref}"}
    raise AssertionError(f"{method} {path}: no path in the spec excerpts")


def validate(response: httpx.Response) -> None:
    method, path = response.request.method, response.request.url.path
    if response.status_code >= 400:
        jsonschema.validate(response.json(), ERROR)
        return
    if (method, path) in NOT_IN_EXCERPTS:
        jsonschema.validate(response.json(), PERSON)
        return
    schema = response_schema(method, path, response.status_code)
    if schema is None:
        assert response.content == b"", f"{method} {path}: a body where the spec has none"
        return
    registry, _ = specs()
    validator = jsonschema.Draft4Validator(schema, registry=registry)
    validator.validate(response.json())


def test_lookup_prefers_literal_paths_and_fails_loudly() -> None:
    assert response_schema("GET", "/v1/telephony/calls/history", 200)["$ref"].endswith(  # type: ignore[index]
        "~1telephony~1calls~1history/get/responses/200/content/application~1json/schema")
    assert response_schema("POST", "/v1/telephony/calls/answer", 204) is None
    with pytest.raises(AssertionError):
        response_schema("GET", "/v1/telephony/nothing", 200)
    with pytest.raises(AssertionError):
        response_schema("GET", "/v1/telephony/calls/answer", 201)


def test_the_validator_rejects_a_wrong_body() -> None:
    schema = response_schema("GET", "/v1/telephony/calls", 200)
    registry, _ = specs()
    bad = {"items": [{"id": "x", "state": "ringing"}]}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft4Validator(schema, registry=registry).validate(bad)  # type: ignore[arg-type]


def test_every_implemented_operation_sends_documented_shapes(emulator: Emulator) -> None:
    seen: list[httpx.Response] = []

    def hook(response: httpx.Response) -> None:
        response.read()
        validate(response)
        seen.append(response)

    headers = {"Authorization": f"Bearer {emulator.token}"}
    with httpx.Client(base_url=emulator.url, headers=headers, event_hooks={"response": [hook]}) as http:
        calls = "/v1/telephony/calls"
        http.get(calls)  # empty list
        first = emulator.ring("Dana Smith", "+15551234567")
        private = emulator.ring(privacy=True)
        http.get(calls)
        http.get(f"{calls}/{first}")
        endpoints = http.get(f"{ME}/settings/availablePreferredAnswerEndpoints").json()["endpoints"]
        http.get(f"{ME}/endpoints")
        http.get(f"{ME}/settings/preferredAnswerEndpoint")
        http.put(f"{ME}/settings/preferredAnswerEndpoint", json={"preferredAnswerEndpointId": endpoints[1]["id"]})
        http.get(f"{ME}/settings/preferredAnswerEndpoint")
        http.post(f"{calls}/answer", json={"callId": first, "endpointId": endpoints[1]["id"]})
        http.get(f"{calls}/{first}")  # connected, with answered time
        http.post(f"{calls}/hold", json={"callId": first})
        http.get(calls)  # held
        http.post(f"{calls}/resume", json={"callId": first})
        http.post(f"{calls}/mute", json={"callId": first})
        http.get(f"{calls}/{first}")  # muted
        http.post(f"{calls}/unmute", json={"callId": first})
        http.post(f"{calls}/hangup", json={"callId": first})
        http.post(f"{calls}/reject", json={"callId": private, "action": "ignore"})
        third, fourth = emulator.ring("Sam"), emulator.ring("Kim")
        http.post(f"{calls}/divert", json={"callId": third, "toVoicemail": True})
        http.post(f"{calls}/divert", json={"callId": fourth, "destination": "+12223334444"})
        for kind in (None, "placed", "missed", "received"):
            http.get(f"{calls}/history", params={"type": kind} if kind else None)
        http.get("/v1/people/me")
        # refusals: Webex-shaped error bodies
        http.post(f"{calls}/answer", json={"callId": first})
        http.post(f"{calls}/answer", json={})
        http.get(calls, headers={"Authorization": "Bearer wrong"})
    statuses = [(r.request.method, r.status_code) for r in seen]
    assert ("POST", 204) in statuses and ("GET", 200) in statuses and ("POST", 404) in statuses
    assert len(seen) == 28
    history = seen[-8].json()["items"]  # the unfiltered history
    assert {h["type"] for h in history} == {"missed", "received"}
