"""The dialog's wording, loaded from ``data/messages.toml`` (data, not code)."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from importlib import resources
from typing import Any


@dataclass(frozen=True)
class Messages:
    prompt: dict[str, str]
    outcome: dict[str, str]

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Messages:
        return cls(prompt=dict(data["prompt"]), outcome=dict(data["outcome"]))

    @classmethod
    def load(cls) -> Messages:
        text = resources.files("assistant").joinpath("data/messages.toml").read_text("utf-8")
        return cls.from_dict(tomllib.loads(text))

    def say(self, key: str, **values: object) -> str:
        return self.prompt[key].format(**values)

    def outcome_of(self, action: str, device: str | None = None) -> str:
        if action == "answer" and device:
            return self.outcome["answer_on"].format(device=device)
        return self.outcome[action]

    def outcome_for_caller(self, action: str, caller: str, device: str | None = None) -> str:
        """With more than one call ringing, the outcome names whose call it was."""
        key = f"{action}_caller_on" if device else f"{action}_caller"
        if key not in self.outcome:
            return self.outcome_of(action, device)
        return self.outcome[key].format(caller=caller, device=device)

    def all_sentences(self) -> list[str]:
        return list(self.prompt.values()) + list(self.outcome.values())


def spoken_list(items: list[str], conjunction: str = "and") -> str:
    """["a", "b", "c"] → "a, b and c"."""
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + f" {conjunction} " + items[-1]
