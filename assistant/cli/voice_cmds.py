"""Subcommands: say (skeleton; each handler returns an exit code)."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from assistant.config import Settings


def add_parsers(sub: Any) -> None:
    p = sub.add_parser("say", help="say (not built yet)")
    p.set_defaults(func=_not_built)


def _not_built(args: argparse.Namespace, settings: Settings) -> int:
    print(f"assistant {args.command}: not built yet", file=sys.stderr)
    return 1
