"""Rendering for the screens: everything from documents or users is escaped here before any page sees it.

The chat renders Markdown, so both HTML and Markdown syntax in a document or a message must arrive as plain text.
"""

import html
import re
from datetime import date

from assistant.engine import spoken_date as spoken
from assistant.errors import AssistantError
from assistant.models import Answer, Citation

_MARKDOWN = re.compile(r"([\\`*_\[\]|~])")  # inline syntax; "<" and "&" are HTML-escaped first
_LINE_START = re.compile(r"^(\s*)([#>+-]|\d+\.)", re.MULTILINE)  # headings, quotes, lists
_MARKER = re.compile(r"\\\[(\d+)\\\]")


def escape_markdown(text: str) -> str:
    """Text that renders as itself in Markdown: HTML entities escaped, Markdown punctuation backslashed."""
    escaped = _MARKDOWN.sub(r"\\\1", html.escape(text, quote=False))
    return _LINE_START.sub(
        lambda m: m.group(1) + (m.group(2)[:-1] + "\\." if m.group(2).endswith(".") else "\\" + m.group(2)), escaped
    )


def chat_markdown(answer: Answer) -> str:
    """The answer for the chat: escaped text whose `[n]` markers link to the source cards."""
    escaped = escape_markdown(answer.text)
    return _MARKER.sub(lambda m: f"[\\[{m.group(1)}\\]](#source-{m.group(1)})", escaped)


def safe_link(url: str | None) -> str | None:
    return url if url and url.startswith(("http://", "https://")) else None


def dated(iso: str | None) -> str:
    """ " · dated 25 November 2026" for a citation whose document has a date; nothing otherwise."""
    try:
        return f" · dated {spoken(date.fromisoformat(iso))}" if iso else ""
    except ValueError:
        return ""


def source_cards(citations: list[Citation]) -> str:
    """Numbered source cards as HTML; every string escaped, links only http(s)."""
    if not citations:
        return '<p class="no-sources">Sources for each answer appear here.</p>'
    cards = []
    for c in citations:
        link = safe_link(c.url)
        # A public address when the document has one; never the file's place on the server.
        where = (
            f'<a href="{html.escape(link)}" target="_blank" rel="noopener noreferrer">Open the source</a>'
            if link
            else ""
        )
        cards.append(
            f'<article class="source-card" id="source-{c.n}" aria-label="Source {c.n}">'
            f'<h3><span class="source-n">[{c.n}]</span> {html.escape(c.title)}</h3>'
            f'<p class="source-section">{html.escape(c.section or "")}{dated(c.date)}</p>'
            f"<blockquote>{html.escape(c.snippet)}</blockquote>{where}</article>"
        )
    return '<div class="source-cards">' + "".join(cards) + "</div>"


def error_markdown(exc: AssistantError) -> str:
    """The Gradio edge's one translation of the error vocabulary: the message, shown where the screen shows it."""
    return f"⚠️ {escape_markdown(str(exc))}"
