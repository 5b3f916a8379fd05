"""Settings the person changes by voice ("speak slower", "turn off the beeps", "shorter
prompts"), written back to their configuration file so they survive a restart.

``tomlkit`` edits the one value and leaves every other byte of the file as it was: comments,
order, spacing and the other keys. A file that does not exist yet is created with a comment
saying where the values came from. The write is atomic (a temporary file, then a rename).
"""

from __future__ import annotations

import logging
import os
import tempfile
from pathlib import Path
from typing import Any

from assistant.errors import ConfigError

log = logging.getLogger(__name__)

HEADER = "# Settings changed by voice are written here; edit freely (see config/assistant.toml).\n"


class Preferences:
    """The configuration file that by-voice changes go to (``path`` None: not remembered)."""

    def __init__(self, path: Path | None) -> None:
        self.path = path

    def remember(self, section: str, key: str, value: Any) -> bool:
        """Writes ``[section] key = value``; False (and a log line) if the file cannot be."""
        if self.path is None:
            return False
        import tomlkit

        try:
            text = self.path.read_text("utf-8") if self.path.exists() else HEADER
            document = tomlkit.parse(text)
            table = document.get(section)
            if table is None:
                table = tomlkit.table()
                document[section] = table
            elif not isinstance(table, dict):
                raise ConfigError(str(self.path), section, "a table ([" + section + "])")
            table[key] = value
            self._write(tomlkit.dumps(document))
        except (OSError, UnicodeDecodeError, ConfigError, tomlkit.exceptions.TOMLKitError) as exc:
            log.warning("could not remember %s.%s = %r in %s: %s", section, key, value, self.path, exc)
            return False
        log.info("remembered %s.%s = %r in %s", section, key, value, self.path)
        return True

    def _write(self, text: str) -> None:
        assert self.path is not None
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=self.path.parent, prefix=".assistant-")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                out.write(text)
            if self.path.exists():
                os.chmod(temporary, self.path.stat().st_mode & 0o777)
            os.replace(temporary, self.path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
