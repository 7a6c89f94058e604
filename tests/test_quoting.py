"""Unit tests for gateway.quoting: what a ticket shows as the new text of a reply."""

from __future__ import annotations

import time

import pytest

from helpdesk.gateway.hygiene.quoting import LANGUAGES, strip_quoted

QUOTE = "> Please restart the printer.\n>\n> > My printer does not print.\n"

# (attribution line as the client writes it, the author's text above it)
ATTRIBUTIONS = {
    "en-gmail": ("On Thu, Mar 12, 2026 at 10:15 AM John Smith <john@example.com> wrote:", "Thanks, it works now."),
    "en-apple": ("On 12 Mar 2026, at 10:15, Helpdesk <help@example.com> wrote:", "Still broken."),
    "en-thunderbird": ("On 12/03/2026 10:15, John Smith wrote:", "Done, thank you."),
    "en-thunderbird-old": ("John Smith wrote:", "Done, thank you."),
    "pl-thunderbird": ("W dniu 12.03.2026 o 10:15, Jan Kowalski <jan@x.pl> pisze:", "Drukarka dalej nie działa."),
    "pl-gmail": ("czw., 12 mar 2026 o 10:15 Jan Kowalski <jan@x.pl> napisał(a):", "Dziękuję, działa."),
    "cs-thunderbird": ("Dne 12. 3. 2026 10:15 napsal(a) Jan Novák <jan@x.cz>:", "Tiskárna stále nefunguje."),
    "cs-name-first": ("Dne 12. 3. 2026 v 10:15 Jan Novák <jan@x.cz> napsal(a):", "Děkuji, funguje to."),
    "cs-gmail": ("čt 12. 3. 2026 v 10:15 odesílatel Jan Novák <jan@x.cz> napsal:", "Děkuji."),
    "ru-thunderbird": ("12.03.2026, 10:15, Иван Петров написал(а):", "Принтер всё ещё не работает."),
    "ru-male": ("12.03.2026 10:15, Иван Петров <ivan@x.ru> написал:", "Спасибо, работает."),
    "ru-mailru": ("12.03.2026 10:15, Иван Петров пишет:", "Спасибо."),
    "ru-gmail": ("чт, 12 мар. 2026 г. в 10:15, Иван Петров <ivan@x.ru>:", "Спасибо, всё работает."),
    "hr-male": ("Dana 12.03.2026. u 10:15, Ivan Horvat je napisao:", "Pisač i dalje ne radi."),
    "hr-female": ("Dana 12.03.2026. u 10:15, Ana Horvat je napisala:", "Hvala, radi."),
    "hr-gmail": ("čet, 12. ožu 2026. u 10:15 Ivan Horvat <ivan@x.hr> napisao je:", "Hvala."),
    "de-thunderbird": ("Am 12.03.2026 um 10:15 schrieb Hans Müller <hans@x.de>:", "Der Drucker geht nicht."),
    "de-gmail": ("Am Do., 12. März 2026 um 10:15 Uhr schrieb Hans Müller <hans@x.de>:", "Danke, geht wieder."),
    "de-name-first": ("Hans Müller <hans@x.de> schrieb am 12.03.2026 um 10:15:", "Danke."),
}


@pytest.mark.parametrize("key", ATTRIBUTIONS)
def test_attribution_and_quote_are_removed(key):
    attribution, new = ATTRIBUTIONS[key]
    assert strip_quoted(f"{new}\n\n{attribution}\n{QUOTE}") == new


@pytest.mark.parametrize("key", ["en-gmail", "pl-thunderbird", "cs-thunderbird", "ru-thunderbird", "de-gmail"])
def test_attribution_over_unquoted_history_cuts_the_rest(key):
    # HTML mail converted to text loses the ">" marks; the dated attribution still starts the history.
    attribution, new = ATTRIBUTIONS[key]
    assert strip_quoted(f"{new}\n\n{attribution}\n\nPlease restart the printer.\n") == new


@pytest.mark.parametrize(
    "text",
    [
        # Gmail wraps at the address.
        "Works now.\n\nOn Thu, Mar 12, 2026 at 10:15 AM John Smith from the IT Helpdesk <\n"
        "helpdesk@example.com> wrote:\n\n> Please restart the printer.\n",
        # Thunderbird leaves the verb alone on the second line.
        "Works now.\n\nOn 12.03.2026 10:15, John Smith from the IT Helpdesk of ACME Corporation\n"
        "wrote:\n> Please restart the printer.\n",
        "Works now.\n\nW dniu 12.03.2026 o 10:15, Jan Kowalski z działu IT <jan.kowalski@example.pl>\n"
        "pisze:\n> Proszę zrestartować drukarkę.\n",
        # Wrapped and not followed by ">" (converted HTML): still the start of the history.
        "Works now.\n\nOn Thu, Mar 12, 2026 at 10:15 AM John Smith from the IT Helpdesk <\n"
        "helpdesk@example.com> wrote:\n\nPlease restart the printer.\n",
    ],
    ids=["gmail", "thunderbird", "pl-thunderbird", "gmail-unquoted"],
)
def test_wrapped_attribution(text):
    assert strip_quoted(text) == "Works now."


def test_author_line_right_above_attribution_is_kept():
    text = "Thanks\nOn Thu, Mar 12, 2026 at 10:15 AM John Smith <john@example.com> wrote:\n> Restart it.\n"
    assert strip_quoted(text) == "Thanks"


OUTLOOK_BLOCKS = {
    "en-original-message": "-----Original Message-----\nFrom: Helpdesk <help@x.com>\n"
    "Sent: Thursday, March 12, 2026 10:15 AM\nTo: Jan <jan@x.com>\nSubject: RE: Printer",
    "en-separator-date": "________________________________\nFrom: Helpdesk <help@x.com>\n"
    "Date: Thursday, March 12, 2026 10:15 AM\nTo: Jan <jan@x.com>\nSubject: RE: Printer",
    "en-bold-with-cc": "*From:* Helpdesk <help@x.com>\n*Sent:* Thursday, March 12, 2026 10:15 AM\n"
    "*To:* Jan <jan@x.com>\n*Cc:* Team <team@x.com>\n*Subject:* RE: Printer",
    "pl": "Od: Helpdesk <help@x.pl>\nWysłano: czwartek, 12 marca 2026 10:15\nDo: Jan <jan@x.pl>\nTemat: RE: Drukarka",
    "pl-original-message": "-----Wiadomość oryginalna-----\nOd: Helpdesk <help@x.pl>\nData: 12.03.2026 10:15\n"
    "Do: Jan <jan@x.pl>\nTemat: RE: Drukarka",
    "cs": "Od: Helpdesk <help@x.cz>\nOdesláno: čtvrtek 12. března 2026 10:15\nKomu: Jan <jan@x.cz>\n"
    "Předmět: RE: Tiskárna",
    "ru": "От: Helpdesk <help@x.ru>\nОтправлено: 12 марта 2026 г. 10:15\nКому: Иван <ivan@x.ru>\nТема: RE: Принтер",
    "hr": "Šalje: Helpdesk <help@x.hr>\nPoslano: četvrtak, 12. ožujka 2026. 10:15\nPrima: Ivan <ivan@x.hr>\n"
    "Predmet: RE: Pisač",
    "de": "Von: Helpdesk <help@x.de>\nGesendet: Donnerstag, 12. März 2026 10:15\nAn: Hans <hans@x.de>\n"
    "Betreff: AW: Drucker",
    "de-separator": "________________________________\n\nVon: Helpdesk <help@x.de>\nDatum: 12. März 2026 10:15\n"
    "An: Hans <hans@x.de>\nBetreff: AW: Drucker",
    "de-original-message-only": "-----Ursprüngliche Nachricht-----\nBitte starten Sie den Drucker neu.",
}


@pytest.mark.parametrize("key", OUTLOOK_BLOCKS)
def test_outlook_history_is_removed(key):
    text = f"Still broken, see the photo.\n\n{OUTLOOK_BLOCKS[key]}\n\nPlease restart the printer.\n\nHelpdesk\n"
    assert strip_quoted(text) == "Still broken, see the photo."


def test_single_header_like_line_in_text_is_kept():
    text = "Please forward this.\nTo: the accounting team\nThanks"
    assert strip_quoted(text) == text


def test_underscore_line_without_headers_is_kept():
    text = "Total:\n__________\n42 pages"
    assert strip_quoted(text) == text


@pytest.mark.parametrize("delimiter", ["-- ", "--"])
def test_signature_delimiter(delimiter):
    text = f"It works.\n\n{delimiter}\nJohn Smith\nACME Corp | +1 555 0100\n"
    assert strip_quoted(text) == "It works."


def test_signature_before_quoted_history():
    text = "It works.\n\n-- \nJohn\n\nOn 12.03.2026 10:15, Helpdesk wrote:\n> Restart it.\n"
    assert strip_quoted(text) == "It works."


@pytest.mark.parametrize(
    "footer",
    [
        "Sent from my iPhone",
        "Sent from my Samsung Galaxy smartphone.",
        "Sent from Outlook",
        "Get Outlook for Android<https://aka.ms/ghei36>",
        "Get Outlook for iOS",
        "Wysłano z iPhone'a",
        "Wysłane z mojego smartfona Galaxy",
        "Odesláno z iPhonu",
        "Odesláno z mého iPhonu",
        "Отправлено с iPhone",
        "Отправлено из мобильной Почты Mail.ru",
        "Poslano s mog iPhonea",
        "Von meinem iPhone gesendet",
        "Gesendet von meinem iPhone",
    ],
)
def test_mobile_footer(footer):
    assert strip_quoted(f"OK, thanks\n\n{footer}\n") == "OK, thanks"


def test_mobile_footer_above_quoted_history():
    text = "OK thanks\n\nSent from my iPhone\n\n> On 12 Mar 2026, at 10:15, Helpdesk <h@x.com> wrote:\n>\n> Done.\n"
    assert strip_quoted(text) == "OK thanks"


def test_inline_reply_keeps_interleaved_answers():
    text = (
        "On 12.03.2026 10:15, Helpdesk wrote:\n"
        "> Which model is it?\n"
        "HP LaserJet 4000.\n"
        "\n"
        "> Is it switched on?\n"
        "> > (we had this before)\n"
        "Yes, of course.\n"
        "\n"
        "-- \n"
        "Jan\n"
    )
    assert strip_quoted(text) == "HP LaserJet 4000.\n\nYes, of course."


def test_bottom_posted_reply():
    text = "Am 12.03.2026 um 10:15 schrieb Hans Müller <hans@x.de>:\n> Geht es jetzt?\n\nJa, danke!\n"
    assert strip_quoted(text) == "Ja, danke!"


def test_nested_quotes_only_are_removed():
    text = "New text.\n\n> > > level three\n> > level two\n>level one\n"
    assert strip_quoted(text) == "New text."


@pytest.mark.parametrize(
    "text",
    [
        "> Please restart the printer.\n> Thanks\n",
        "On 12.03.2026 10:15, Helpdesk wrote:\n> Please restart the printer.\n",
        # A new mail whose body starts like an Outlook header block.
        "From: Jan Kowalski\nTo: Helpdesk\nSubject: printer\n\nMy printer does not print.\n",
        "-- \nJohn Smith\n",
        "Sent from my iPhone\n",
    ],
    ids=["all-quoted", "attribution-and-quote", "header-like-start", "only-signature", "only-footer"],
)
def test_never_empty_falls_back_to_the_whole_text(text):
    assert strip_quoted(f"\n  {text}  \n") == text.strip()


def test_plain_message_is_unchanged():
    text = "Hello,\n\nmy printer does not work.\n\n\nSteps I tried:\n- restart\n- new toner\n\nThanks,\nJan"
    assert strip_quoted(text) == text
    assert strip_quoted(f"\n\n{text}\n\n") == text


@pytest.mark.parametrize(
    "text",
    [
        "My colleague wrote: the printer is broken.\nAs Jan wrote: it jams.",
        "On Monday John wrote:\nrestart the printer\n\nI did, it still jams.",
        "At 10:15 the technician wrote:\nrestart the printer\n\nI did, it still jams.",
        "In 2026 my boss wrote:\nbuy a new one",
        "Jan Kowalski pisze:\nproszę o pomoc.",
        "Dne 12. 3. jsem napsal:\nnefunguje to.",
    ],
)
def test_wrote_in_normal_text_is_kept(text):
    assert strip_quoted(text) == text


def test_crlf_line_endings():
    text = "Thanks.\r\n\r\nOn 12.03.2026 10:15, Helpdesk wrote:\r\n> Restart it.\r\n"
    assert strip_quoted(text) == "Thanks."


def test_every_language_fills_every_field():
    assert {"en", "pl", "cs", "ru", "hr", "de"} <= set(LANGUAGES)
    for phrases in LANGUAGES.values():
        assert all(getattr(phrases, field) for field in phrases.__dataclass_fields__)


# Shapes that make every line go through every check (none of them cuts the message early).
HUGE_INPUTS = {
    "text-lines": "The printer is broken again today.\n" * 30_000,
    "quoted-lines": "> quoted line of text here, fine\n" * 33_000,
    "single-line": "On " + "x " * 500_000,
    "dashes": "-" * 1_000_000,
    "undated-attribution-like": ("Am Dne" + " a schrieb am" * 22 + ":\n") * 3_500,
    "join-candidates": ("On Monday " + "word " * 50 + "\nx wrote:\n") * 3_800,
    "header-like": "From: x\nTo: y\n" + "From: someone\n" * 72_000,
    "attributions-and-blanks": "John Smith wrote:\n\n\n" * 50_000,
}


@pytest.mark.parametrize("key", HUGE_INPUTS)
def test_one_megabyte_input_is_fast(key):
    text = HUGE_INPUTS[key]
    assert len(text) >= 1_000_000
    started = time.perf_counter()
    result = strip_quoted(text)
    assert time.perf_counter() - started < 2.0
    assert result
