"""Shared fixtures live in one module per area, so each area's fixtures have one owner."""

pytest_plugins = [
    "fixtures_webex",
    "fixtures_speech",
    "fixtures_audio",
    "fixtures_auth",
    "fixtures_loop",
]
