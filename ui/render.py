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


def chat_markdown(answer: Answer, key: str) -> str:
    """The answer for the chat: escaped text whose `[n]` markers link to this answer's own source cards, shown
    under it. `key` tells this answer apart in the conversation, so every answer's links keep working."""
    linked = _MARKER.sub(lambda m: f"[\\[{m.group(1)}\\]](#{key}-source-{m.group(1)})", escape_markdown(answer.text))
    # The cards are one HTML block after a blank line: Markdown leaves it as it is (no blank line inside it).
    return f"{linked}\n\n{source_cards(answer.citations, key)}" if answer.citations else linked


def safe_link(url: str | None) -> str | None:
    return url if url and url.startswith(("http://", "https://")) else None


def dated(iso: str | None) -> str:
    """ " · dated 25 November 2026" for a citation whose document has a date; nothing otherwise."""
    try:
        return f" · dated {spoken(date.fromisoformat(iso))}" if iso else ""
    except ValueError:
        return ""


def source_cards(citations: list[Citation], key: str) -> str:
    """An answer's numbered sources as one line of HTML: title, section and date, the passage quoted (folded), a
    public link if the document has one. Every string escaped; whitespace folded so no blank line ends the block."""
    cards = []
    for c in citations:
        link = safe_link(c.url)
        # Our page showing the document whole, at the section quoted; its public address when it has one; never the
        # file's place on the server.
        where = f' · <a href="{_text(c.page)}" target="_blank">Read it whole</a>' if c.page else ""
        where += (
            f' · <a href="{_text(link)}" target="_blank" rel="noopener noreferrer">Open the source</a>' if link else ""
        )
        cards.append(
            f'<article class="source-card" id="{key}-source-{c.n}">'
            f'<p class="source-head"><span class="source-n">[{c.n}]</span> <strong>{_text(c.title)}</strong></p>'
            f'<p class="source-section">{_text(c.section or "")}{dated(c.date)}{where}</p>'
            f"<details><summary>Passage quoted</summary><blockquote>{_text(c.snippet)}</blockquote></details></article>"
        )
    return '<div class="sources"><p class="sources-title">Sources</p>' + "".join(cards) + "</div>"


def _text(text: str) -> str:
    return html.escape(" ".join(text.split()))


def error_markdown(exc: AssistantError) -> str:
    """The Gradio edge's one translation of the error vocabulary: the message, shown where the screen shows it."""
    return f"⚠️ {escape_markdown(str(exc))}"
