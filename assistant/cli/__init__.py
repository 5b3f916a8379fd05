"""Command line: ``assistant <command>`` (also ``python -m assistant``).

Each ``*_cmds`` module adds its subcommands with ``add_parsers``; every handler takes
``(args, settings)`` and returns the exit code: 0 success, 1 operation failed, 2 bad usage or
bad configuration.
"""

from __future__ import annotations

import argparse
import logging
import sys

from assistant import __version__, config
from assistant.cli import (
    login_cmds,
    loop_cmds,
    service_cmds,
    speech_cmds,
    voice_cmds,
    webex_cmds,
)
from assistant.errors import AssistantError, ConfigError
from assistant.logsetup import configure_logging
from assistant.text import clean

log = logging.getLogger(__name__)

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
ERROR_LIMIT = 600  # characters of an error line: long enough for two paths


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="assistant",
        description="Offline, hands-free voice assistant for Webex Calling.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("--config", metavar="PATH", help="configuration file (TOML)")
    parser.add_argument(
        "--webex-url", metavar="URL", help=f"Webex API base URL (default {config.DEFAULT_WEBEX_URL})"
    )
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more log output")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for module in (webex_cmds, speech_cmds, voice_cmds, loop_cmds, login_cmds, service_cmds):
        module.add_parsers(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    configure_logging(args.verbose)
    try:
        settings = config.load(args.config, webex_url=args.webex_url)
        code: int = args.func(args, settings)
    except ConfigError as exc:  # a file, key or value (configuration, scenario, token store)
        _say_error("bad configuration: " + str(exc))
        return EXIT_USAGE
    except AssistantError as exc:
        detail = str(exc)
        _say_error(exc.spoken if detail in exc.spoken else f"{exc.spoken} ({detail})")
        return EXIT_FAILED
    return code


def _say_error(text: str) -> None:
    """One line on stderr: file names and Webex messages can hold escape sequences too."""
    print(f"assistant: {clean(text, ERROR_LIMIT)}", file=sys.stderr)


def run(argv: list[str] | None = None) -> int:
    """Console entry point: ``main`` plus a clean Ctrl-C."""
    try:
        return main(argv)
    except KeyboardInterrupt:
        print(file=sys.stderr)
        return 130
    except BrokenPipeError:  # `assistant devices --json | head`: the reader left; not an error of ours
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
