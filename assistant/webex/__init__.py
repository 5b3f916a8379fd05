"""Webex: the client (``client``), its records (``models``) and spoken failures (``failures``).
The local emulator is its own package, ``assistant.emulator``."""
