# The two commands of the README. Both set themselves up from a fresh clone.
.PHONY: setup demo test bench lint ruff

setup:
	@scripts/setup.sh

demo: setup
	.venv/bin/assistant demo

# lint first (ruff, mypy --strict): a style or type error fails CI in seconds, before the slow tests.
# -n auto: one pytest worker per core, each with its own PulseAudio (tests/fixtures_audio.py)
test: setup lint
	.venv/bin/python -m pytest -n auto

bench: setup
	.venv/bin/python bench/run.py

# the tools come with setup (the dev extra)
ruff: setup
	.venv/bin/ruff check --quiet assistant tests bench

# ruff, and mypy --strict on the package (strict = true in pyproject.toml)
lint: ruff
	.venv/bin/mypy assistant
