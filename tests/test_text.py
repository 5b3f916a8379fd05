from assistant.text import NAME_LIMIT, clean


def test_escape_sequences_and_newlines_cannot_forge_terminal_output():
    hostile = "Dana\x1b[2J\x1b[H\nringing: Boss\r\x07 Smith\x1b]0;title\x07"
    assert clean(hostile) == "Dana ringing: Boss Smith"


def test_long_text_is_cut_at_a_word():
    text = clean("word " * 2000, NAME_LIMIT)
    assert len(text) <= NAME_LIMIT and text.endswith("word…")


def test_ordinary_names_are_kept():
    assert clean("  José  Núñez 김민준 ") == "José Núñez 김민준"
    assert clean(None) == ""
