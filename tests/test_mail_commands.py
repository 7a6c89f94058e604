"""Reading technicians' commands and clients' confirmations: pure functions, no database."""

from __future__ import annotations

import pytest

from helpdesk.gateway.conversation.confirmation import find_rating, read_answer
from helpdesk.gateway.staff_mailbox.mail_commands import Command, parse_cc, parse_commands, parse_duration


def test_commands_at_the_top_then_text():
    parsed = parse_commands("#take\n\n#time 1h30m\nHello,\nthe printer works. #close\n")
    assert parsed.commands == (Command("take"), Command("time", "1h30m"))
    assert parsed.errors == () and parsed.text == "Hello,\nthe printer works. #close"


def test_note_may_start_on_the_command_line():
    parsed = parse_commands("#note the server is down\nmore detail")
    assert parsed.names == {"note"} and parsed.text == "the server is down\nmore detail"


@pytest.mark.parametrize("text, error", [
    ("#tkae", "#tkae: unknown command"),
    ("#assign", "#assign: needs a value"),
    ("#take over", "#take: takes no value"),
    ("#time soon", "#time: cannot read 'soon'"),
    ("#time 30h", "#time: cannot read '30h'"),
])
def test_unusable_command_lines_are_explained(text, error):
    parsed = parse_commands(text + "\nText")
    assert parsed.commands == () and parsed.errors[0].startswith(error) and parsed.text == "Text"


@pytest.mark.parametrize("text", ["Hello\n#take", "Thanks\n\n#close", ""])
def test_only_leading_command_lines_count(text):
    assert parse_commands(text).commands == ()


@pytest.mark.parametrize("text", ["# note secret", "#1 on my list", "#!"])
def test_a_leading_hash_line_that_is_no_command_is_refused(text):
    # it may be a mistyped #note: refusing keeps it from being mailed to the client
    parsed = parse_commands(text + "\nText")
    assert parsed.errors and "not a command" in parsed.errors[0]


def test_a_colon_after_the_command_is_allowed():
    assert parse_commands("#note: owes us money").names == {"note"}


@pytest.mark.parametrize("value, minutes", [
    ("1h30m", 90), ("1.5h", 90), ("1,5h", 90), ("90m", 90), ("90", 90), ("1:30", 90), ("2h", 120),
    ("45min", 45), ("1h 30m", 90), ("0", None), ("25h", None), ("abc", None), ("1:75", None),
])
def test_durations(value, minutes):
    assert parse_duration(value) == minutes


@pytest.mark.parametrize("text", [
    "yes", "Yes, thank you!", "OK", "Tak, dziękuję!", "tak", "ano", "Ano, děkuji.", "Да, спасибо большое",
    "да", "da", "Da, hvala.", "Ja, danke", "thanks", "5", "4/5", "yes 5", "Tak\n\n5",
])
def test_short_agreement_closes(text):
    assert read_answer(text).confirms


@pytest.mark.parametrize("text", [
    "no", "Nie", "ne", "нет", "Yes but the printer still fails", "Tak, ale nadal drukuje puste strony.",
    "The printer still does not work, 1", "yes 12", "", "ok, and one more thing: the scanner is broken too",
])
def test_anything_else_reopens(text):
    assert not read_answer(text).confirms


@pytest.mark.parametrize("text, rating", [
    ("5", 5), ("yes, 4 of 5", 4), ("ok 3/5", 3), ("Tak, ocena 5", 5), ("yes", None), ("1 or 5", None),
    ("version 2.5", None),
])
def test_ratings(text, rating):
    assert find_rating(text) == rating


def test_cc_takes_add_or_remove_and_one_address():
    assert parse_cc("add <Eva@Client.example>") == ("add", "eva@client.example")
    assert parse_cc("REMOVE eva@client.example") == ("remove", "eva@client.example")
    for bad in ("eva@client.example", "add", "add eva", "add a@b.example, c@d.example", "drop eva@client.example"):
        assert parse_cc(bad) is None, bad
    parsed = parse_commands("#cc add eva\nText")
    assert parsed.errors and "#cc" in parsed.errors[0]
