"""Moved to ``assistant.emulator``. This name stays for the code that still imports it from
here (tests and bench outside the emulator's own files); new code imports ``assistant.emulator``."""

from assistant.emulator.server import Emulator

__all__ = ["Emulator"]
