"""The project's own exceptions; everything above the Webex client speaks these.

    AssistantError                 every error has a sentence fit to be spoken (``spoken``)
    ├── ConfigError                bad configuration file, key or value (exit 2)
    ├── WebexError                 anything that went wrong talking to Webex
    │   ├── WebexStatusError       Webex answered with an error status (``status``, ``tracking_id``)
    │   ├── WebexNetworkError      no answer: timeout, refused, DNS, TLS (``kind``)
    │   └── AuthError              no token, expired token, sign-in needed
    ├── SpeechError                recogniser problems
    │   └── ModelError             a speech model is missing, corrupt or unknown
    ├── AudioError                 microphone or speaker missing or failing
    └── VoiceError                 speech synthesis failed

"Not a command" is not an error: recognisers return a rejected result instead.
"""

from __future__ import annotations


class AssistantError(Exception):
    """Base class. ``spoken`` is the sentence the assistant says; ``str()`` is for logs."""

    def __init__(self, message: str, spoken: str | None = None) -> None:
        super().__init__(message)
        self.spoken = spoken or message


class ConfigError(AssistantError):
    """A configuration file, key or value is wrong. Names the file, key and expectation."""

    def __init__(self, path: str, key: str, expected: str) -> None:
        from assistant.messages import english  # the catalogue; imported late (it reads files)

        message = f"{path}: {key}: expected {expected}"
        super().__init__(message, spoken=english().text("config.invalid", problem=message))
        self.path = path
        self.key = key
        self.expected = expected


class WebexError(AssistantError):
    """Anything that went wrong talking to Webex. ``status``: the HTTP status Webex replied with
    (also on a 2xx reply that could not be understood, and 401 on ``AuthError``), or None."""

    status: int | None = None


class WebexStatusError(WebexError):
    """Webex answered with an error status."""

    def __init__(
        self,
        message: str,
        spoken: str,
        status: int,
        tracking_id: str | None = None,
        retry_after_seconds: float | None = None,
    ) -> None:
        super().__init__(message, spoken)
        self.status = status
        self.tracking_id = tracking_id
        self.retry_after_seconds = retry_after_seconds


class WebexNetworkError(WebexError):
    """Webex did not answer: ``kind`` is timeout, refused, dns, tls or dropped."""

    def __init__(self, message: str, spoken: str, kind: str) -> None:
        super().__init__(message, spoken)
        self.kind = kind


class AuthError(WebexError):
    """No usable token: missing, expired, revoked. The person must sign in again."""


class SpeechError(AssistantError):
    """The recogniser could not be built or run."""


class ModelError(SpeechError):
    """A speech model is missing, corrupt or unknown."""


class AudioError(AssistantError):
    """A microphone or speaker is missing or failing."""


class VoiceError(AssistantError):
    """Speech synthesis failed."""
