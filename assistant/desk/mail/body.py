"""What the enquirer wrote, read out of an e-mail's text with `mail-parser-reply` (a maintained parser of replies:
quoted earlier messages, "On … wrote:" and "From:/Sent:" header blocks, signatures, disclaimers, in several
languages), so that no question is looked for in a quote, a signature or a legal footer.

A reply is its newest part; a forwarded message ("---------- Forwarded message ---------" above a header block) is
the message forwarded, its header block left out: that is the enquiry the forwarder passes on. The enquiry keeps the
message exactly as received; this is what triage reads, and what staff see beside it.
"""

from dataclasses import dataclass

from mailparser_reply import EmailReplyParser

_PARSER = EmailReplyParser(languages=["en"])  # its settings, made once (each read compiles its own patterns)
FORWARDED = ("forwarded message", "begin forwarded message", "original message")


@dataclass(frozen=True)
class Body:
    text: str  # what the enquirer wrote (or forwarded), without quotes, signature and disclaimers
    forwarded: bool  # the enquiry is a forwarded message's
    trimmed: bool  # something was left out


def read_body(text: str) -> Body:
    """The enquirer's own words in `text` (an e-mail's plain text)."""
    replies = _PARSER.read(text).replies
    newest = replies[0] if replies else None
    if newest is None:
        return Body(text.strip(), False, False)
    forwarded = len(replies) > 1 and any(marker in newest.content.lower() for marker in FORWARDED)
    chosen = replies[1] if forwarded else newest
    own = _without_signature(chosen.content, chosen.signatures, chosen.disclaimers)
    if forwarded:
        own = own.replace(chosen.headers or "", "").strip()
    own = own or text.strip()
    return Body(own, forwarded, own != text.strip())


def _without_signature(content: str, signature: str | None, disclaimers: list[str] | None) -> str:
    """`content` without its disclaimers, and without its signature unless the parser took a question for one
    (it starts a signature at any line opening "Thanks,": "Thanks, that's helpful. Is it …?" is no signature)."""
    for disclaimer in disclaimers or []:
        content = content.replace(disclaimer, "")
    if signature and "?" not in signature:
        content = content.replace(signature, "")
    return content.strip()
