#!/usr/bin/env bash
# Voices no setting of the recogniser was chosen on, for `bench/commit_replay.py --voices unseen`
# (tests/speech_corpus.py, unseen_speakers): MBROLA's diphone voices us1, us2, us3 and en1
# (recorded from four real people; espeak-ng drives them) and SVOX Pico (pico2wave). Debian
# ships them in its contrib and non-free sections; on a machine whose apt sources have only
# main, this adds those two sections of the same Debian release, for these packages. Only the
# bench uses them: no test does, and `make test` does not run this.
set -euo pipefail

packages=(mbrola mbrola-us1 mbrola-us2 mbrola-us3 mbrola-en1 libttspico-utils)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" != 0 ]; then
  echo "unseen-voices: missing ${missing[*]}; as root, run $0" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
if ! apt-cache policy mbrola-us1 2>/dev/null | grep -q "Candidate: [0-9]"; then
  codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
  if [ -z "$codename" ] || [ ! -r /usr/share/keyrings/debian-archive-keyring.gpg ]; then
    echo "unseen-voices: not a Debian release this script knows; install ${missing[*]} by hand" >&2
    exit 1
  fi
  echo "unseen-voices: adding Debian $codename contrib and non-free to apt's sources" >&2
  cat > /etc/apt/sources.list.d/assistant-unseen-voices.sources <<EOF
Types: deb
URIs: http://deb.debian.org/debian
Suites: $codename
Components: contrib non-free
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
fi
echo "unseen-voices: installing ${missing[*]}" >&2
apt-get update -qq >&2
apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
