"""Moved to ``assistant.emulator.scenario``. This name stays for the tests that still import it
from here; new code imports ``assistant.emulator``."""

from assistant.emulator.scenario import Scenario

__all__ = ["Scenario"]
