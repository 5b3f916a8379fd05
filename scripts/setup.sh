#!/usr/bin/env bash
# One-shot set-up from a fresh clone: Debian packages (when missing), .venv, the package with its
# test and dev extras (pytest, ruff, mypy). Idempotent and quick when everything is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

# flite and festival: voices of other synthesizers for the speech corpus (tests/speech_corpus.py);
# festvox-kdlpc16k (ked): a voice no corpus uses, for bench/latency.py --voices other
packages=(espeak-ng libportaudio2 pulseaudio pulseaudio-utils libasound2-plugins alsa-utils
          flite festival festvox-kallpc16k festvox-us-slt-hts festvox-kdlpc16k
          systemd)  # systemd-analyze checks the unit `assistant service install` writes
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "setup: installing ${missing[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
  else
    echo "setup: missing system packages; run:" >&2
    echo "  sudo apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
fi

python=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv" >&2
  "$python" -m venv .venv
fi
stamp=.venv/.installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  echo "setup: installing the package with its test and dev extras" >&2
  .venv/bin/python -m pip install -q --upgrade pip >&2
  .venv/bin/python -m pip install -q -e '.[test,dev]' >&2
  touch "$stamp"
fi
