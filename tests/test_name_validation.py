"""What a name may contain and how long it may be: one line of text that fits its column."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from helpdesk.gateway.accounts.names import check_line, check_text, column_length, line_problem
from helpdesk.gateway.accounts.user_import import _cell_problem
from helpdesk.gateway.ground.errors import UserError
from helpdesk.store.account_tables import Contract, Organization, OrgDomain, Queue, User, UserEmail

# Every character that could end a header line or hide in one: C0 (CR, LF, TAB, NUL...), DEL, C1
# (NEL U+0085...), the Unicode line and paragraph separators, and lone surrogates (undecodable argv bytes).
FORBIDDEN = [chr(c) for c in range(0x20)] + [chr(c) for c in range(0x7F, 0xA0)] + ["\u2028", "\u2029", "\udcff"]


@pytest.mark.parametrize("char", FORBIDDEN, ids=lambda c: f"U+{ord(c):04X}")
def test_a_control_character_anywhere_in_a_name_is_refused(char):
    with pytest.raises(UserError) as refused:
        check_line(f"Anna{char}Bcc: x@evil", "user name", 200)
    message = str(refused.value)
    assert message.startswith("user name contains ") and f"U+{ord(char):04X}" in message
    assert message.isprintable()  # the one line printed names the character, never contains it


@pytest.mark.parametrize("name", ["Jana Nováková", "Пётр Иванов", "Marek Horvat-Šimić", "山田 太郎", "O'Brien, Jr.",
                                  "👩‍💻 Anna", "Ǆemal Đurić", "محمد"])
def test_names_of_real_people_are_kept(name):
    assert check_line(f"  {name} ", "user name", 200) == name


def test_names_are_measured_against_their_column():
    assert check_line("x" * 200, "organization name", 200) == "x" * 200
    with pytest.raises(UserError, match=r"^organization name is 5000 characters long; at most 200 fit$"):
        check_line("x" * 5000, "organization name", 200)
    assert line_problem("  x  ", 1) is not None and check_line("  x  ", "queue name", 1) == "x"


def test_an_empty_name_gets_its_own_message_only_where_one_is_required():
    assert check_line("   ", "SLA profile", 64) == ""
    with pytest.raises(UserError, match="^a user needs a name$"):
        check_line("   ", "user name", 200, missing="a user needs a name")


def test_the_widths_come_from_the_tables():
    assert column_length(Organization, "name") == 200 and column_length(OrgDomain, "domain") == 253
    assert column_length(User, "display_name") == 200 and column_length(User, "phone") == 32
    assert column_length(UserEmail, "address") == 320
    assert column_length(Queue, "name") == 64 and column_length(Queue, "title") == 200
    assert column_length(Contract, "number") == 64 and column_length(Contract, "buyer_edi_id") == 35
    assert column_length(Contract, "notes") is None  # text: as long as it likes


def test_notes_keep_their_lines_but_not_nul():
    assert check_text("line one\n\tline two\r\n", "notes") == "line one\n\tline two\r\n"
    with pytest.raises(UserError, match=r"^notes contains NUL \(U\+0000\) at character 2$"):
        check_text("a\x00b", "notes")


@given(st.text(st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp")), max_size=300))
def test_text_without_control_characters_is_a_line_when_it_fits(text):
    problem = line_problem(text, 200)
    assert (problem is None) == (len(text) <= 200)


def test_a_csv_row_names_the_column_at_fault():
    row = {"name": "Eve", "email": "eve@client.example\r\nBcc: x@evil", "phone": None, "roles": "client"}
    assert _cell_problem(row).startswith("column email: contains CR (U+000D) at character 19")
    assert _cell_problem({"name": " " + "x" * 201 + " "}) == "column name: is 201 characters long; at most 200 fit"
    assert _cell_problem({"name": "Eve", "email": "eve@client.example"}) is None
