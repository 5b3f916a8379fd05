"""The assistant's own voice never makes it act: ring cycles with the speaker looped into the
microphone.

    .venv/bin/python bench/selfhear.py [--cycles 20]

``assistant listen`` and the emulator run as subprocesses on a private PulseAudio server whose
virtual speaker is looped into the virtual microphone (20 ms), as loudspeakers next to a laptop
microphone would be. Each cycle rings a call, waits for the announcement, ends the call from the
far side and waits for "stopped ringing". Counted: cycles, any ``heard`` command, any ``action``
and any POST to a call-control endpoint (which must be none). The test suite runs a few cycles
(tests/test_listen_e2e.py); the 20 here take about 2.5 minutes of real time.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from fixtures_audio import start_pulse, stop_pulse  # noqa: E402
from fixtures_loop import listen_starter, ring_cycles_over_own_voice, running_emulator  # noqa: E402


def run(cycles: int = 20) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="selfhear-") as folder:
        work = Path(folder)
        runtime = work / "pulse"
        runtime.mkdir()
        pulse = start_pulse(runtime)
        try:
            with running_emulator() as emulator, listen_starter(pulse, work) as start:
                listen = start(emulator.url)
                started = time.monotonic()
                posts = ring_cycles_over_own_voice(pulse, emulator, listen, cycles)
                names = listen.names()
                return {"cycles": cycles, "heard": names.count("heard"),
                        "actions": names.count("action"), "call_control_posts": len(posts),
                        "seconds": round(time.monotonic() - started, 1)}
        finally:
            stop_pulse(pulse)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cycles", type=int, default=20)
    args = parser.parse_args()
    result = run(args.cycles)
    print(json.dumps(result, indent=1))
    return 0 if result["actions"] == 0 and result["call_control_posts"] == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
