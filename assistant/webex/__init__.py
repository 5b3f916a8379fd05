"""Webex: the client (``client``), its records (``models``), spoken failures (``failures``)
and the local emulator (``emulator``)."""
