"""Every odd real-world message of tests/corpus/ through the real listener over SMTP, on both databases.

Each file must end processed (a ticket or an appended article) or quarantined with a reason:
nothing stays pending, nothing is lost, the stored text is valid Unicode without NUL, every
attachment name is safe. Where it matters, EXPECT says more about a file (one line per case).
Adding a case: drop a .eml into tests/corpus/ and, if something specific must hold, add a line.
"""

from __future__ import annotations

import re
import smtplib
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select

from helpdesk.store.db import new_session
from helpdesk.store.models import Article, Attachment
from tests.mail import client_mail, send, wait_until

CORPUS = Path(__file__).parent / "corpus"
ENVELOPE_FROM = "sender@client.example"
# Files a real MTA would hand over with the null reverse-path MAIL FROM:<> (bounces, and one
# mail that names no sender anywhere, which must be quarantined).
NULL_SENDER = {"missing_from_null_sender", "dsn_bounce_delivery_status", "dsn_bounce_headers_only"}
STORED_AS = re.compile(rb"stored as (\d+)")

PL = "Zażółć gęślą jaźń"
CS = "Příliš žluťoučký kůň úpěl ďábelské ódy"
HR = "Đurđa čeka ćevapčiće, šećer i žele"
RU = "Принтер в бухгалтерии не работает"


@dataclass(frozen=True)
class Expect:
    quarantined: str | None = None      # part of the reason, when the file must be kept aside
    text: tuple[str, ...] = ()          # fragments the stored article text contains
    absent: tuple[str, ...] = ()        # fragments it must not contain
    attachments: tuple[str, ...] | None = None  # the stored attachment names, in order
    subject: str | None = None
    sender: str | None = None
    message_id: str | None = None
    no_reply: bool = False              # automatic mail: nothing goes out to its sender
    same_ticket_as: str | None = None   # threads into the ticket of that other file
    ticket: int | None = None           # appended to this ticket (1 is the one opened before the corpus)


EXPECT: dict[str, Expect] = {
    "8bit_undeclared_utf8": Expect(text=(CS,)),
    "8bit_undeclared_cp1250": Expect(text=(PL,)),
    "8bit_undeclared_iso88592_czech": Expect(text=(CS,)),
    "charset_usascii_but_utf8": Expect(text=(PL,)),
    "charset_utf8_but_cp1250": Expect(text=(PL,)),
    "charset_iso88591_but_iso88592": Expect(text=(CS,)),
    "charset_latin1_with_cp1252_quotes": Expect(text=("Grüße aus Köln „der Drucker“ läuft nicht – Kosten 100 €",)),
    "charset_unknown_label": Expect(text=(CS,)),
    "charset_x_cp1250_label": Expect(text=(PL,)),
    "cp1250_polish_8bit": Expect(text=(PL, "Dzień dobry")),
    "iso88592_czech_qp": Expect(text=(CS,), subject="Tiskárna nefunguje"),
    "iso88592_croatian_base64": Expect(text=(HR,), subject="Pisač ne radi"),
    "cp1250_croatian_8bit": Expect(text=(HR,)),
    "koi8r_russian_8bit": Expect(text=(RU,), subject="Принтер не работает"),
    "koi8r_undeclared": Expect(text=(RU,)),
    "cp1251_russian_base64": Expect(text=(RU,), subject="Принтер"),
    "cp1251_declared_koi8r": Expect(text=(RU,)),
    "utf7_body": Expect(text=(PL + " — UTF-7", "Cena 5+3 zł")),
    "iso2022jp": Expect(text=("プリンターが動きません",), subject="プリンターが動きません"),
    "utf16_text_base64": Expect(text=("drukarka działa, tiskárna běží",)),
    "html_meta_charset_only": Expect(text=(PL, "Zgłoszenie")),
    "mixed_charsets_parts": Expect(text=(PL, RU, CS)),
    "encoded_word_bad_base64": Expect(subject=PL),
    "encoded_word_unknown_charset": Expect(subject="Drukarka nie działa"),
    "encoded_word_missing_end": Expect(subject="Tiskárna nefunguje"),
    "encoded_word_split_multibyte": Expect(subject="Zażółć gęślą"),
    "encoded_word_from_name_with_comma": Expect(sender="jan.novak@client.example"),
    "raw_utf8_headers": Expect(subject="Żółta drukarka nie działa"),
    "raw_cp1250_headers": Expect(subject="Żółta drukarka", text=("Nagłówki",)),
    "long_folded_headers": Expect(text=("folded over many lines",)),
    "subject_very_long_no_spaces": Expect(subject="x" * 998),
    "message_id_very_long": Expect(message_id="x" * 900 + "@client.example"),
    "missing_from": Expect(sender=ENVELOPE_FROM),
    "missing_from_null_sender": Expect(quarantined="no usable sender"),
    "duplicate_from_headers": Expect(sender="first.from@client.example"),
    "duplicate_message_id_headers": Expect(message_id="dup-first@client.example"),
    "duplicate_message_id_reply": Expect(same_ticket_as="duplicate_message_id_headers"),
    "empty_subject": Expect(subject=""),
    "subject_with_ticket_tag": Expect(ticket=1, text=("Nadal nie działa",)),
    "sender_header_only": Expect(sender="secretary@client.example"),
    "from_without_address": Expect(sender=ENVELOPE_FROM),
    "from_quoted_comma_comment": Expect(sender="jan.nowak@client.example"),
    "malformed_header_line": Expect(text=("Some text after",), message_id="malformed_header_line@client.example"),
    "bare_lf_line_endings": Expect(text=("Unix box.\nDruhý řádek.",)),
    "cr_only_line_endings": Expect(text=("Classic Mac OS line endings.\nSecond line.",)),
    "mixed_line_endings": Expect(text=("Second line LF.\nThird line CR.\nEnd.",)),
    "nul_in_body": Expect(text=("Before the NULafter the NUL.",)),
    "nul_in_headers": Expect(subject="NUL in the subject", text=("Body.",), absent=("X-Weird",)),
    "forwarded_rfc822": Expect(text=("Please see", "Původní text zákazníka: tiskárna hlásí chybu 42."),
                               attachments=("attachment-1.eml",)),
    "forwarded_inside_forwarded": Expect(text=("Eva adds", "Původní text zákazníka"), attachments=("issue.eml",)),
    "forwarded_rfc822_base64_encoded": Expect(text=("Původní text zákazníka",), attachments=("attachment-1.eml",)),
    "multipart_no_closing_boundary": Expect(text=("never comes",), attachments=("report.pdf",)),
    "multipart_boundary_mismatch": Expect(text=("another boundary",), attachments=("report.pdf",)),
    "multipart_boundary_never_appears": Expect(text=("Only this text arrived.",)),
    "multipart_without_boundary_param": Expect(text=("Plain version",)),
    "deeply_nested_multipart": Expect(text=("Deepest text part.",)),
    "uuencoded_body": Expect(text=("log is attached", "Regards"), absent=("begin 644",), attachments=("printer.log",)),
    "html_only_with_links": Expect(text=("přihlášení <https://portal.client.example/login?x=1&y=2>", "- Chrome"),
                                   absent=("color", "<p>")),
    "html_unclosed_head": Expect(text=("must survive an unclosed head",)),
    "html_odd_markup": Expect(text=("Before", "item"), absent=("&amp;",)),
    "html_inline_image_only": Expect(attachments=("attachment-1.png",)),
    "alternative_empty_plain": Expect(text=("Only the HTML part",)),
    "alternative_plain_and_html": Expect(text=("Plain version: tiskárna.",), absent=("HTML version",)),
    "apple_mail_text_around_image": Expect(text=("which appears every morning", "text after the photo"),
                                           attachments=("IMG_0001.jpg",)),
    "attachment_path_traversal": Expect(attachments=("passwd",)),
    "attachment_windows_path": Expect(attachments=("evil.exe",)),
    "attachment_control_chars_name": Expect(attachments=("bad name with controls fdp.exe",)),
    "attachment_newline_in_encoded_name": Expect(attachments=("line1 line2 .txt",)),
    "attachment_300_char_name": Expect(attachments=("a" * 60 + "b" * 60 + "c" * 26 + ".pdf",)),
    "attachment_empty_name": Expect(attachments=("attachment-1.pdf",)),
    "attachment_leading_dots": Expect(attachments=("htaccess",)),
    "attachment_rfc2231_utf8": Expect(attachments=("żółw faktura.pdf",)),
    "attachment_rfc2231_continuations": Expect(attachments=("Zpráva o chybě tiskárny.txt",)),
    "attachment_encoded_word_name": Expect(attachments=("Přehled_účtů.xlsx",)),
    "attachment_name_only_in_content_type": Expect(attachments=("logs.zip",)),
    "attachment_raw_8bit_name": Expect(attachments=("Sprawozdanie_Łódź.docx",)),
    "attachment_rtl_override_name": Expect(attachments=("invoice fdp.exe",)),
    "outlook_tnef_winmail": Expect(text=("v příloze je soubor",), attachments=("winmail.dat",)),
    "calendar_invite": Expect(text=("Servis tiskárny",), attachments=("attachment-1.ics",)),
    "calendar_only": Expect(attachments=("attachment-1.ics",)),
    "auto_submitted_out_of_office": Expect(no_reply=True),
    "x_autoreply": Expect(no_reply=True),
    "precedence_bulk": Expect(no_reply=True),
    "list_id_newsletter": Expect(no_reply=True),
    "exchange_auto_reply_suppress": Expect(no_reply=True),
    "dsn_bounce_delivery_status": Expect(no_reply=True, text=("User unknown",),
                                         attachments=("delivery-status.txt", "attachment-2.eml")),
    "dsn_bounce_headers_only": Expect(no_reply=True),
    "qp_soft_breaks_bad_escapes": Expect(text=(PL + ", a very long line that was softly broken by the sender",)),
    "base64_with_garbage": Expect(text=(PL + ". Tiskárna nefunguje. Koniec.",)),
    "cte_unknown": Expect(text=("plain UTF-8: tiskárna.",)),
    "content_type_garbage": Expect(text=("The Content-Type header is broken.",)),
    "huge_single_line_body": Expect(text=("Dlouhý řádek bez zalomení. " * 100,)),
    "signed_smime": Expect(text=("This message is signed.",), attachments=("smime.p7s",)),
    "text_attachment_inline_with_name": Expect(text=("Log below.",), absent=("ERROR 42",), attachments=("error.log",)),
    "only_attachment_no_text": Expect(attachments=("scan.pdf",)),
}
_UNSAFE_NAME = re.compile(r"[/\\\x00-\x1f\x7f<>:\"|?*]|^\.")


def send_file(smtp: smtplib.SMTP, raw: bytes, envelope_from: str) -> tuple[int, int | None]:
    """MAIL, RCPT, DATA by hand (what sendmail does), to read the 250 that names the stored row."""
    assert smtp.mail(envelope_from)[0] == 250
    assert smtp.rcpt("support@helpdesk.test")[0] == 250
    code, answer = smtp.data(raw)
    if code != 250:
        smtp.rset()
    found = STORED_AS.search(answer)
    return code, int(found.group(1)) if found else None


def stored_articles(engine, inbound_ids) -> dict[int, tuple[Article, list[str]]]:
    """inbound id -> (its article, the names of its attachments in order)."""
    with new_session(engine) as s, s.begin():
        articles = s.execute(select(Article).where(Article.inbound_id.in_(inbound_ids))).scalars().all()
        names: dict[int, list[str]] = {}
        for article_id, filename in s.execute(select(Attachment.article_id, Attachment.filename)
                                              .order_by(Attachment.id)):
            names.setdefault(article_id, []).append(filename)
        for article in articles:
            s.expunge(article)
        return {a.inbound_id: (a, names.get(a.id, [])) for a in articles}


def check_file(name: str, row, stored, ticket_of: dict[str, int], outbox_to: set[str]) -> list[str]:
    """Everything that is wrong with how one file ended; empty when all is well."""
    expect = EXPECT.get(name, Expect())
    if expect.quarantined:
        if row.status != "quarantined" or expect.quarantined not in (row.reason or ""):
            return [f"expected quarantine ({expect.quarantined}), got {row.status}: {row.reason}"]
        return []
    if row.status != "processed" or stored is None:
        return [f"ended {row.status} ({row.reason}) instead of processed"]
    article, attachments = stored
    problems = []
    for value in (article.text, article.subject, article.sender, article.message_id, *attachments):
        if "\x00" in value or re.search(r"[\ud800-\udfff]", value):
            problems.append(f"NUL or lone surrogate in {value[:60]!r}")
    problems += [f"unsafe attachment name {n!r}" for n in attachments if _UNSAFE_NAME.search(n) or len(n) > 150]
    problems += [f"text lacks {f!r}: {article.text[:200]!r}" for f in expect.text if f not in article.text]
    problems += [f"text has {f!r}" for f in expect.absent if f in article.text]
    checks = [("subject", expect.subject, article.subject), ("sender", expect.sender, article.sender),
              ("message id", expect.message_id, article.message_id),
              ("attachments", expect.attachments, tuple(attachments) if expect.attachments is not None else None),
              ("ticket", expect.ticket, article.ticket_id),
              ("ticket", ticket_of.get(expect.same_ticket_as), article.ticket_id if expect.same_ticket_as else None)]
    problems += [f"{what} is {got!r}, expected {wanted!r}" for what, wanted, got in checks
                 if wanted is not None and got != wanted]
    if expect.no_reply and article.sender in outbox_to:
        problems.append(f"automatic mail got a reply to {article.sender}")
    return problems


def test_every_corpus_file_ends_processed_or_quarantined(gateway, sink, db):
    files = sorted(CORPUS.glob("*.eml"))
    assert len(files) >= 60 and set(EXPECT) <= {f.stem for f in files}, "EXPECT names a file that is not there"
    # Ticket 1 first: the corpus holds a reply tagged [HD#1] from the same person.
    send(gateway.port, client_mail(subject="Drukarka nie działa", sender="Jan Kowalski <jan.kowalski@client.example>"))
    (seed,) = db.processed(1)
    assert seed.ticket_id == 1

    stored_ids: dict[str, int] = {}
    with smtplib.SMTP("127.0.0.1", gateway.port, timeout=30) as smtp:
        smtp.ehlo()
        for path in files:
            code, row_id = send_file(smtp, path.read_bytes(), "" if path.stem in NULL_SENDER else ENVELOPE_FROM)
            assert code == 250 and row_id is not None, f"{path.name}: answered {code}"
            stored_ids[path.stem] = row_id

    rows = {r.id: r for r in db.processed(len(files) + 1, timeout=60)}
    assert len(rows) == len(files) + 1, "an accepted message is missing from the inbound table"
    stored = stored_articles(db.engine, list(stored_ids.values()))
    ticket_of = {name: stored[row_id][0].ticket_id for name, row_id in stored_ids.items() if row_id in stored}
    outbox_to = {address for row in db.outbox() for address in row["to"].split(",")}
    problems = {name: found for name, row_id in stored_ids.items()
                if (found := check_file(name, rows[row_id], stored.get(row_id), ticket_of, outbox_to))}
    assert not problems, "\n".join(f"{name}: {'; '.join(found)}" for name, found in sorted(problems.items()))

    # The listener survived all of it: an ordinary mail still becomes a ticket and is acknowledged.
    before = len(sink.messages)
    send(gateway.port, client_mail(subject="Still there?", sender="after.corpus@client.example"))
    wait_until(lambda: any(m.rcpt_tos == ["after.corpus@client.example"] for m in sink.messages[before:]), 20)
    assert any(t["subject"] == "Still there?" for t in db.tickets())
