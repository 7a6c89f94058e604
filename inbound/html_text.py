"""Turn an HTML-only mail body into readable plain text (paragraphs, line breaks, links kept)."""

from __future__ import annotations

import re
from html import unescape
from html.parser import HTMLParser

_BLOCK = {"p", "div", "br", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "table", "hr",
          "ul", "ol", "dl", "address", "center", "section", "article", "header", "footer"}
_CELL = {"td", "th"}
_LINE = {"li", "tr", "dt", "dd"}  # a new line before each, none after: lists and tables stay compact
_SKIP = {"script", "style", "head", "title"}
_LINK_SCHEMES = ("http:", "https:", "ftp:", "mailto:")
# <meta charset="..."> or <meta http-equiv="Content-Type" content="text/html; charset=...">
_META_CHARSET = re.compile(rb"<meta[^>]+charset\s*=\s*[\"']?\s*([A-Za-z0-9_.:-]+)", re.IGNORECASE)
_TAG = re.compile(r"<[^>]*>")


class _TextCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skipping = 0
        self._pre = 0
        self._link: tuple[str, int] | None = None  # href, and where its text starts in parts

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "body":  # a <head> that was never closed must not swallow the whole mail
            self._skipping = 0
        elif tag in _SKIP:
            self._skipping += 1
        elif tag in _BLOCK:
            self.parts.append("\n")
        elif tag in _CELL:
            self.parts.append(" ")
        elif tag in _LINE:
            self.parts.append("\n")
        if tag == "li":
            self.parts.append("- ")
        elif tag == "pre":
            self._pre += 1
        elif tag == "a":
            self._close_link()
            href = (attrs.get("href") or "").strip()
            self._link = (href, len(self.parts)) if href.lower().startswith(_LINK_SCHEMES) else None
        elif tag == "img" and (attrs.get("alt") or "").strip():
            self.parts.append(f"[{' '.join(attrs['alt'].split())}]")

    def handle_startendtag(self, tag, attrs):
        # "<br/>" is one line break, not two; a self-closed "<a .../>" still shows its target.
        self.handle_starttag(tag, attrs)
        if tag == "a":
            self._close_link()

    def handle_endtag(self, tag):
        if tag in _SKIP and self._skipping:
            self._skipping -= 1
        elif tag in _BLOCK:
            self.parts.append("\n")
        if tag == "pre" and self._pre:
            self._pre -= 1
        elif tag == "a":
            self._close_link()

    def _close_link(self):
        """Keep the target after the link text, unless the text already says it."""
        if self._link is None:
            return
        href, start = self._link
        self._link = None
        text = "".join(self.parts[start:]).strip()
        target = href[len("mailto:"):] if href.lower().startswith("mailto:") else href
        if target.rstrip("/") not in text:
            self.parts.append(f" <{href}>" if text else href)

    def handle_data(self, data):
        if not self._skipping:
            self.parts.append(data if self._pre else re.sub(r"\s+", " ", data))

    def close(self):
        super().close()
        self._close_link()


def html_to_text(html: str) -> str:
    collector = _TextCollector()
    try:
        collector.feed(html)
        collector.close()
        text = "".join(collector.parts)
    except AssertionError:  # html.parser gives up on some odd markup ("<![foo[...]]>"): strip the tags
        text = unescape(_TAG.sub(" ", html))
    lines = [line.strip() for line in text.splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def html_charset(data: bytes) -> str | None:
    """The charset an HTML document declares in a <meta> tag (used when the MIME label is missing)."""
    match = _META_CHARSET.search(data[:4096])
    return match.group(1).decode("ascii") if match else None
