"""Mail that reads naturally: one thread per ticket in a technician's mail client, a question above a
signature still asks, nothing refers to a Message-ID the sender never had, and clients are greeted the
way a support desk of their language greets them.

The end-to-end tests go through the real listener and the relay sink; the rest call the parts directly.
"""

from __future__ import annotations

import re
from email.message import EmailMessage

import pytest

from helpdesk.gateway.accounts.directory import add_org
from helpdesk.gateway.accounts.salutation import salutation
from helpdesk.gateway.hygiene.quoting import LANGUAGES
from helpdesk.gateway.hygiene.signoff import CLOSINGS, split_signoff
from helpdesk.inbound.parse import parse_mail
from helpdesk.outbound.render import LOCALES, SAMPLE_CONTEXT, Renderer
from helpdesk.store.db import new_session
from tests.conftest import REPO
from tests.mail import client_mail, send
from tests.workflow import ANNA, JAN, PETR, Inbox, add_team, body, open_ticket, reply_to

WORKFLOW_RULES = REPO / "tests" / "rules" / "workflow.yaml"
CLIENT_KINDS = ("acknowledgement", "reopened", "resolved", "auto_closed")


@pytest.fixture
def team_gateway(make_settings, start_gateway, db):
    gw = start_gateway(make_settings(rules=WORKFLOW_RULES))
    add_team(db.engine)
    return gw


def _ids(header) -> list[str]:
    return str(header or "").split()


# --- staff notifications: one thread per ticket and technician ---------------------------------------------

def test_everything_a_technician_hears_of_one_ticket_is_one_thread(team_gateway, sink, db):
    gw, inbox = team_gateway, Inbox(sink)
    number, mail = open_ticket(gw, inbox, db)
    subject = f"[HD#{number}] Drukarka nie drukuje"
    first = {who: mail[who].message["Message-ID"] for who in (ANNA, PETR)}
    assert mail[ANNA].message["Subject"] == subject and mail[ANNA].message["In-Reply-To"] is None

    reply_to(gw.port, mail[JAN], JAN, "Na wyświetlaczu jest błąd E5.")
    news = inbox.next(2)
    for who in (ANNA, PETR):  # each under their own first notification, same subject
        assert news[who].message["Subject"] == subject
        assert news[who].message["In-Reply-To"] == first[who]
        assert _ids(news[who].message["References"]) == [first[who]]
    assert body(news[ANNA]).startswith(f"Client replied on ticket [HD#{number}].")  # the event, first line
    assert body(news[PETR]).startswith(f"Nová odpověď klienta k požadavku [HD#{number}]")

    reply_to(gw.port, mail[JAN], JAN, "Wyłączyłem ją i włączyłem, nadal to samo.")
    again = inbox.next(2)[ANNA].message
    assert again["Subject"] == subject and again["In-Reply-To"] == news[ANNA].message["Message-ID"]
    assert _ids(again["References"]) == [first[ANNA], news[ANNA].message["Message-ID"]]


# --- a technician's answer: the question above the signature, signed once --------------------------------

def test_a_question_above_the_technicians_signature_waits_for_the_client_and_is_signed_once(team_gateway, sink,
                                                                                          db):
    gw, inbox = team_gateway, Inbox(sink)
    number, mail = open_ticket(gw, inbox, db)
    reply_to(gw.port, mail[ANNA], ANNA, "#take\n\nCzy widzi Pan jakiś komunikat na ekranie?\n\nAnna")
    answer = body(inbox.next()[JAN])
    assert db.ticket(number)["status"] == "pending"
    assert "na ekranie?\n\nAnna\n" in answer and "Anna Nowak" not in answer  # her signature, not a second one

    reply_to(gw.port, mail[ANNA], ANNA, "Wymieniłam toner, proszę sprawdzić.")  # unsigned: the gateway signs
    answer = body(inbox.next()[JAN])
    assert db.ticket(number)["status"] == "open" and answer.count("Anna Nowak") == 1


@pytest.mark.parametrize(("text", "body", "named"), [
    ("Czy widzi Pan komunikat na ekranie?\n\nMarek", "Czy widzi Pan komunikat na ekranie?", True),
    ("Czy widzi Pan komunikat na ekranie?\nMarek", "Czy widzi Pan komunikat na ekranie?", True),
    ("Is it on?\n\nBest regards,\nAnna Nowak\nIT Support\ntel. +48 600 100 200", "Is it on?", True),
    ("Wymieniłem toner.\n\nDzięki, Marek", "Wymieniłem toner.", True),
    ("Jaký je to model?\n\nS pozdravem\nTomáš", "Jaký je to model?", True),
    ("Какая модель принтера?\n\nС уважением,\nИван", "Какая модель принтера?", True),
    ("Je li uključen?\n\nLijep pozdrav", "Je li uključen?", False),  # a closing, no name: the gateway signs
    ("Is it on?\n\nmarek", "Is it on?", True),  # the writer's own name, in any case
    ("Is it on?\n\nM.", "Is it on?", True),
])
def test_split_signoff_finds_the_sign_off(text, body, named):
    found = split_signoff(text, ["Marek Wiśniewski"])
    assert (found.body, found.named) == (body, named)


@pytest.mark.parametrize("text", [
    "The printer works again.",
    "Thanks",  # a closing with nothing above is the text itself
    "Restart the spooler, please.\nthen print a test page",
    "Sprawdziłem.\nDziękuję.\nCzy drukarka działa?\nproszę o odpowiedź",
    "Is it on?\n\n" + "A very long last line that is certainly a sentence of the answer, not a name.",
])
def test_split_signoff_leaves_text_without_a_sign_off_alone(text):
    assert split_signoff(text, ["Anna Nowak"]).lines == ()


def test_every_language_of_quoting_has_closings():
    assert set(CLOSINGS) == set(LANGUAGES) and all(CLOSINGS.values())


# --- no Message-ID: nothing to refer to; and the greeting --------------------------------------------------

def test_acknowledgements_greet_formally_and_refer_only_to_a_real_message_id(make_settings, start_gateway, sink,
                                                                             db):
    gw = start_gateway(make_settings())
    with new_session(db.engine) as session, session.begin():
        add_org(session, "Klient Sp. z o.o.", ["client.example"], locale="pl")
        add_org(session, "Klient s.r.o.", ["klient.example"], locale="cs")
    without_id = EmailMessage()  # some scripts and old devices send mail without a Message-ID
    without_id["From"], without_id["To"] = "Zofia Kowalska <zofia@client.example>", "support@helpdesk.test"
    without_id["Subject"] = "Drukarka"
    without_id.set_content("Drukarka nie drukuje.\n")
    send(gw.port, without_id)
    send(gw.port, client_mail(subject="Tiskárna", body="Tiskárna netiskne.\n",
                              sender="Tomáš Svoboda <tomas@klient.example>", message_id="<t1@klient.example>"))
    acks = {m.rcpt_tos[0]: m for m in sink.wait_for(2)}
    polish, czech = acks["zofia@client.example"], acks["tomas@klient.example"]
    assert polish.message["In-Reply-To"] is None and polish.message["References"] is None
    assert czech.message["In-Reply-To"] == "<t1@klient.example>"
    assert body(polish).startswith("Szanowna Pani,\n\ndziękujemy") and "Państwa" in polish.message["Subject"]
    assert body(czech).startswith("Vážený pane Svobodo,\n\nděkujeme za Vaši zprávu")


@pytest.mark.parametrize(("headers", "synthesized"), [("", True), ("Message-ID: <a@b.example>\r\n", False)])
def test_parse_says_whether_the_message_id_was_made_up(headers, synthesized):
    raw = f"From: jan@client.example\r\n{headers}Subject: x\r\n\r\nHello\r\n".encode()
    mail = parse_mail(raw, 1, "jan@client.example", ("support@helpdesk.test",))
    assert mail.message_id_synthesized is synthesized and mail.message_id


@pytest.mark.parametrize(("name", "gender", "vocative"), [
    ("Zofia Kowalska", "female", ""),
    ("Kowalska Anna", "female", ""),
    ("Jan Kowalski", "male", ""),
    ("Tomáš Svoboda", "male", "Svobodo"),
    ("Svoboda, Tomáš", "male", "Svobodo"),
    ("Ing. Petr Dvořák", "male", "Dvořáku"),
    ("Marek Hájek", "male", "Hájku"),
    ("Pavel Beneš", "male", "Beneši"),
    ("Jiří Černý", "male", "Černý"),
    ("Jana Svobodová", "female", "Svobodová"),
    ("Zdeněk Vaněk", "male", ""),  # Vaňku: irregular, so none rather than a wrong one
    ("Jan Kowalska", "", ""),  # the signs disagree
    ("Orange Polska", "", ""),  # a company, not a woman
    ("Uniwersytet Warszawski", "", ""),
    ("Obsługa Klienta", "", ""),
    ("jan@client.example", "", ""),
    ("", "", ""),
])
def test_salutation_derives_only_what_the_name_shows(name, gender, vocative):
    assert salutation(name) == {"requester_gender": gender, "requester_vocative": vocative}


@pytest.fixture(scope="module")
def renderer() -> Renderer:
    return Renderer()


# (name, locale, how the mail opens); English and Russian greet by the name as written, as before.
GREETINGS = [
    ("Zofia Kowalska", "pl", "Szanowna Pani,"),
    ("Jan Kowalski", "pl", "Szanowny Panie,"),
    ("Obsługa Klienta", "pl", "Dzień dobry,"),
    ("Tomáš Svoboda", "cs", "Vážený pane Svobodo,"),
    ("Jana Svobodová", "cs", "Vážená paní Svobodová,"),
    ("Jan Kowalski", "cs", "Vážený pane,"),
    ("Obsługa Klienta", "cs", "Dobrý den,"),
    ("Ivan Horvat", "hr", "Poštovani,"),
]


@pytest.mark.parametrize(("name", "locale", "greeting"), GREETINGS)
@pytest.mark.parametrize("kind", CLIENT_KINDS)
def test_clients_are_greeted_as_a_native_support_desk_greets(renderer, kind, name, locale, greeting):
    context = {**SAMPLE_CONTEXT, "text": "", "requester_name": name, **salutation(name)}
    lines = renderer.render(kind, locale, context).body.splitlines()
    assert lines[0] == greeting and lines[1] == ""


# Informal or lower-case forms of "you" that formal mail to a client never uses.
INFORMAL = {
    "pl": r"\b(?:[Tt]w(?:ój|oje|oja|ojego|ojej|oim)|[Cc]iebie|[Cc]i|[Cc]ię|zgadzasz|oceniasz|odpowiedz)\b",
    "cs": r"\b(?:váš|vaše|vašeho|vaši|vás|vám|vámi|tvůj|tvoje)\b",
    "ru": r"(?<!\w)(?:вы|ваш\w*|вас|вам|вами|ты|тебя)(?!\w)",
    "hr": r"\b(?:vi|vaš\w*|vas|vam|vama|tvoj\w*)\b",
}


@pytest.mark.parametrize("locale", sorted(INFORMAL))
@pytest.mark.parametrize("kind", CLIENT_KINDS)
def test_mail_to_clients_keeps_the_formal_register(renderer, kind, locale):
    mail = renderer.render(kind, locale, {**SAMPLE_CONTEXT, "text": ""})
    assert not re.findall(INFORMAL[locale], f"{mail.subject}\n{mail.body}"), f"{kind}/{locale}"


EVENTS = ("follow-up", "reopened", "confirmed", "assigned", "merged")


@pytest.mark.parametrize("locale", LOCALES)
def test_staff_mail_keeps_the_tickets_subject_and_says_the_event_first(renderer, locale):
    first_lines = set()
    for kind, event in [("staff_new", "new")] + [("staff_update", e) for e in EVENTS]:
        mail = renderer.render(kind, locale, {**SAMPLE_CONTEXT, "event": event})
        assert mail.subject == f"{SAMPLE_CONTEXT['tag']} {SAMPLE_CONTEXT['subject']}", (kind, event)
        first_line = mail.body.splitlines()[0]
        assert SAMPLE_CONTEXT["tag"] in first_line, (kind, event)
        first_lines.add(first_line)
    assert len(first_lines) == 1 + len(EVENTS)  # each event says itself
