"""Starter questions for the chat when the operator sets none: about the names the public documents mention most,
each kept only if the assistant answers it with confidence."""

import re
from collections import Counter

from assistant.engine import PUBLIC_ONLY, Assistant

# A name: a capitalised word or acronym that does not start a sentence ("…led by PIONEER, …").
_NAME = re.compile(r"(?<=[a-z,;] )[A-Z][A-Za-z0-9&-]*[A-Za-z0-9](?: (?:of |for |and )?[A-Z][A-Za-z0-9&-]*[A-Za-z0-9])*")
_COMMON = {"this", "these", "there", "their", "they", "what", "when", "where", "which", "while", "with"}


def automatic_starters(assistant: Assistant, count: int) -> list[str]:
    """Up to `count` "Tell me about X" questions for the most mentioned names X that are answered."""
    names: Counter[str] = Counter()
    for chunk in assistant.index.chunks:
        if PUBLIC_ONLY(chunk):
            names.update(_NAME.findall(chunk.text))
    starters = []
    for name, _count in names.most_common(3 * count):
        question = f"Tell me about {name}"
        if (
            len(name) > 3
            and name.lower() not in _COMMON
            # Assessed, not asked: deciding is enough, and asking would call the LLM writer for each one.
            and assistant.assess(question, PUBLIC_ONLY).confidence >= assistant.threshold
        ):
            starters.append(question)
        if len(starters) == count:
            break
    return starters
