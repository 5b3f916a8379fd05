"""Subcommand: ``assistant service install | uninstall | status`` (a systemd user service)."""

from __future__ import annotations

import argparse
from typing import Any

from assistant.config import Settings


def add_parsers(sub: Any) -> None:
    p = sub.add_parser("service", help="run the assistant all day: a systemd user service")
    p.add_argument("action", choices=["install", "uninstall", "status"])
    p.add_argument("--no-start", action="store_true", help="install: only write the unit file")
    p.set_defaults(func=cmd_service)


def cmd_service(args: argparse.Namespace, settings: Settings) -> int:
    from assistant import service

    if args.action == "install":
        config = getattr(args, "config", None)  # the default user config is found anyway
        path, done = service.install(config=config, start=not args.no_start)
        print(f"service: {path}: {done}")
        return 0
    if args.action == "uninstall":
        path, done = service.uninstall()
        print(f"service: {path}: {done}")
        return 0
    state = service.status()
    print(f"service: {state.describe()}")
    return 0 if state.installed else 1
