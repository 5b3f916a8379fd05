# The two commands of the README. Both set themselves up from a fresh clone.
.PHONY: setup demo test bench lint

setup:
	@scripts/setup.sh

demo: setup
	.venv/bin/assistant demo

test: setup
	.venv/bin/python -m pytest

bench: setup
	.venv/bin/python bench/run.py

lint: setup
	.venv/bin/python -m pip install -q -e '.[dev]'
	.venv/bin/ruff check assistant tests bench
	.venv/bin/mypy assistant
