from assistant.devices import DeviceDirectory, normalize, number_words
from assistant.webex.models import Endpoint

APP = Endpoint("app-1", "APPLICATION", "Webex Desktop Application", True)
DESK = Endpoint("dev-1", "DEVICE", "Cisco 8865 (Desk phone)")
RECEPTION = Endpoint("dev-2", "DEVICE", "Cisco 8865 (Phone in reception area)")
LOBBY = Endpoint("dev-3", "DEVICE", "Cisco 7841 (Lobby)")
DEFAULT = [APP, DESK, RECEPTION, LOBBY]
ALIASES = {"headset": "Webex Desktop Application"}


def test_numbers_are_read_as_people_say_them() -> None:
    assert number_words("8865") == "eighty eight sixty five"
    assert number_words("7841") == "seventy eight forty one"
    assert normalize("my Cisco 8865") == "cisco eighty eight sixty five"


def test_default_endpoints_get_tag_model_type_and_alias_names() -> None:
    directory = DeviceDirectory.build(DEFAULT, ALIASES)
    assert directory.resolve("desk phone").endpoint == DESK
    assert directory.resolve("my desk phone").endpoint == DESK
    assert directory.resolve("the reception phone").endpoint == RECEPTION
    assert directory.resolve("phone in reception area").endpoint == RECEPTION
    assert directory.resolve("lobby phone").endpoint == LOBBY
    assert directory.resolve("cisco seventy eight forty one").endpoint == LOBBY
    assert directory.resolve("my headset").endpoint == APP
    assert directory.resolve("computer").endpoint == APP
    assert directory.resolve("webex app").endpoint == APP
    assert directory.label(DESK) == "desk phone"
    assert directory.label(RECEPTION) == "reception phone"
    assert directory.label(APP) == "computer"
    assert directory.problems == []


def test_ambiguity_is_kept_and_asked_not_guessed() -> None:
    directory = DeviceDirectory.build(DEFAULT, ALIASES)
    phone = directory.resolve("the phone")
    assert phone.kind == "ambiguous" and phone.candidates == [DESK, RECEPTION, LOBBY]
    assert directory.question(phone) == "Which phone: desk phone, reception phone or lobby phone?"
    model = directory.resolve("cisco eighty eight sixty five")
    assert model.kind == "ambiguous" and model.candidates == [DESK, RECEPTION]


def test_lone_phone_answers_to_phone_and_desk_phone() -> None:
    lone = Endpoint("d", "DEVICE", "Polycom VVX 450")
    directory = DeviceDirectory.build([APP, lone], {})
    assert directory.resolve("phone").endpoint == lone
    assert directory.resolve("desk phone").endpoint == lone
    assert directory.resolve("polycom v v x four fifty").endpoint == lone


def test_unknown_and_empty_phrases() -> None:
    directory = DeviceDirectory.build(DEFAULT, ALIASES)
    assert directory.resolve("toaster").kind == "unknown"
    assert directory.resolve("").kind == "none"


def test_alias_to_missing_endpoint_is_reported() -> None:
    directory = DeviceDirectory.build(DEFAULT, {"headset": "Jabra Evolve"})
    assert directory.resolve("headset").kind == "unknown"
    assert "Jabra Evolve" in directory.problems[0]


def test_repeated_names_are_ambiguous() -> None:
    twin = Endpoint("dev-9", "DEVICE", "Cisco 8865 (Desk phone)")
    directory = DeviceDirectory.build([DESK, twin], {})
    resolution = directory.resolve("desk phone")
    assert resolution.kind == "ambiguous"
    assert "Cisco 8865 (Desk phone) or Cisco 8865 (Desk phone)" in directory.question(resolution)
