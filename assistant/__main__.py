from assistant.cli import run

raise SystemExit(run())
