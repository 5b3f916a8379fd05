from pathlib import Path

from assistant.state import StateFile


def test_remembered_values_survive_a_restart(tmp_path: Path) -> None:
    state = StateFile(tmp_path / "a" / "state.json")
    state.value.sleeping, state.value.calls_announced = True, 7
    state.save()
    again = StateFile(tmp_path / "a" / "state.json")
    assert again.value.sleeping is True and again.value.calls_announced == 7
    assert (tmp_path / "a").stat().st_mode & 0o077 == 0


def test_a_damaged_state_file_starts_afresh(tmp_path: Path) -> None:
    for junk in (b"\xff\xfe", b"[1, 2]", b'{"sleeping": "yes", "calls_announced": "many"}', b"x" * 70000):
        path = tmp_path / "state.json"
        path.write_bytes(junk)
        state = StateFile(path)
        assert state.value.sleeping is False and state.value.calls_announced == 0
