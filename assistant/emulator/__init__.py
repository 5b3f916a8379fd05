"""The bundled Webex emulator: a local stand-in for Webex Calling that tests, the demo and
``assistant emulator`` serve on loopback. Separate from the product's client (``assistant.webex``),
which talks to it exactly as it talks to Webex.

    server     ``Emulator``: the HTTP server, request log, fault injection
    api        the ``/v1`` operations and their route table
    control    the ``/_emulator`` control API
    state      the emulated world (calls, history, faults); its public API is in its docstring
    auth       the device and refresh grants, issued tokens
    scenario   who the user is, their endpoints, the refusal wording (TOML)
"""

from assistant.emulator.scenario import Scenario
from assistant.emulator.server import Emulator

__all__ = ["Emulator", "Scenario"]
