"""Offline, hands-free voice assistant for Webex Calling."""

__version__ = "0.1.0"
