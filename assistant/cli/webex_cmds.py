"""Subcommands: emulator calls devices answer decline (skeleton; each handler returns an exit code)."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from assistant.config import Settings


def add_parsers(sub: Any) -> None:
    p = sub.add_parser("emulator", help="emulator (not built yet)")
    p.set_defaults(func=_not_built)
    p = sub.add_parser("calls", help="calls (not built yet)")
    p.set_defaults(func=_not_built)
    p = sub.add_parser("devices", help="devices (not built yet)")
    p.set_defaults(func=_not_built)
    p = sub.add_parser("answer", help="answer (not built yet)")
    p.set_defaults(func=_not_built)
    p = sub.add_parser("decline", help="decline (not built yet)")
    p.set_defaults(func=_not_built)


def _not_built(args: argparse.Namespace, settings: Settings) -> int:
    print(f"assistant {args.command}: not built yet", file=sys.stderr)
    return 1
