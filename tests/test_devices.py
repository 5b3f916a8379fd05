from assistant.devices import DeviceDirectory, normalize, number_words
from assistant.text import NAME_LIMIT
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
    assert directory.question(model) == "Which phone: desk phone or reception phone?"  # not "Which five?"


def test_the_question_asks_with_a_device_noun() -> None:
    other = Endpoint("app-2", "APPLICATION", "Webex for Mac")
    directory = DeviceDirectory.build([APP, other, DESK], {})
    apps = directory.resolve("webex")
    assert apps.kind == "ambiguous"
    assert directory.question(apps) == "Which app: webex desktop application or webex for mac?"
    assert directory.question(directory.resolve("webex app")).startswith("Which app: ")


def test_answers_name_the_device_by_its_label_not_a_bare_brand_or_model() -> None:
    directory = DeviceDirectory.build(DEFAULT, ALIASES)
    webex = directory.resolve("webex")
    assert webex.endpoint == APP
    assert directory.said_as(APP, webex.phrase) == "computer"  # not "your webex"
    lobby = directory.resolve("cisco seventy eight forty one")
    assert directory.said_as(LOBBY, lobby.phrase) == "lobby phone"
    assert directory.said_as(APP, "my headset") == "headset"  # the person's own word
    assert directory.said_as(APP, "webex app") == "webex app"
    assert directory.said_as(RECEPTION, "the reception phone") == "reception phone"
    assert directory.said_as(DESK, "phone") == "desk phone"  # "phone" names three


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


def test_repeated_names_get_distinct_labels_that_can_be_said() -> None:
    twin = Endpoint("dev-9", "DEVICE", "Cisco 8865 (Desk phone)")
    directory = DeviceDirectory.build([DESK, twin, LOBBY], {})
    resolution = directory.resolve("desk phone")
    assert resolution.kind == "ambiguous"
    assert directory.question(resolution) == "Which phone: first desk phone or second desk phone?"
    assert directory.resolve("the second desk phone").endpoint == twin
    assert directory.resolve("first desk phone").endpoint == DESK
    assert directory.said_as(twin, "second desk phone") == "second desk phone"
    assert directory.label(LOBBY) == "lobby phone"
    assert len(set(directory.labels.values())) == 3


def test_twin_applications_are_told_apart_too() -> None:
    twin = Endpoint("app-9", "APPLICATION", "Webex Desktop Application")
    directory = DeviceDirectory.build([APP, twin], {})
    assert [directory.label(e) for e in (APP, twin)] == [
        "first webex desktop application", "second webex desktop application"]


def test_hostile_device_names_are_cleaned_before_use() -> None:
    forged = Endpoint("dev-x", "DEVICE", "Cisco 8865 (Desk\x1b[2J\nphone)")
    endless = Endpoint("dev-y", "DEVICE", "Lobby " + "x" * 5000)
    directory = DeviceDirectory.build([forged, endless], {"\x1b[31mpager": "Nothing\x07"})
    assert directory.resolve("desk phone").endpoint == forged  # the escape is gone, not "desk j"
    assert max(len(p) for p in directory.names) <= NAME_LIMIT
    assert directory.problems and not any("\x1b" in p or "\x07" in p for p in directory.problems)
