# The two commands of the README. Both set themselves up from a fresh clone.
.PHONY: setup demo test bench bench-all bench-ceiling bench-unseen lint ruff

setup:
	@scripts/setup.sh

demo: setup
	.venv/bin/assistant demo

# lint first (ruff, mypy --strict): a style or type error fails CI in seconds, before the slow tests.
# pytest-xdist: one worker more than there are cores (the end-to-end tests mostly wait on real
# time), each with its own PulseAudio (tests/fixtures_audio.py); worksteal evens out the end.
# On the 2-core machine: 3 workers 3 min 33 s for the whole fresh-clone make test, 2 workers 4 min 48 s.
test: setup lint
	.venv/bin/python -m pytest -n $$(( $$(nproc) + 1 )) --dist worksteal

bench: setup
	.venv/bin/python bench/run.py

bench-all: setup
	.venv/bin/python bench/run.py --all

# what the acoustic model hears when told where the command is (about 7 minutes)
bench-ceiling: setup
	.venv/bin/python bench/ceiling.py

# voices no setting was chosen on (MBROLA, SVOX Pico; scripts/unseen-voices.sh installs them from
# Debian's contrib and non-free): 108 commands, quiet room and 12 dB babble (about 10 minutes)
bench-unseen: setup
	scripts/unseen-voices.sh
	.venv/bin/python bench/commit_replay.py --stress --voices unseen --rooms quiet,babble12

# the tools come with setup (the dev extra)
ruff: setup
	.venv/bin/ruff check --quiet assistant tests bench

# ruff, and mypy --strict on the package (strict = true in pyproject.toml)
lint: ruff
	.venv/bin/mypy assistant
