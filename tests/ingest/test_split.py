"""Splitter properties (hypothesis) and sentence splitting."""

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from assistant.engine.terms import split_sentences
from assistant.models import Block, LoadedDocument
from ingest.split import split


def words(text: str) -> int:
    return len(text.split())


def test_sentences_respect_abbreviations_and_fragments() -> None:
    text = (
        "It works (e.g. in trials) well. Dr. Smith agrees with the plan. "
        "It has three cities: Birmingham. Coventry and Wolverhampton. Why not?"
    )
    assert split_sentences(text) == [
        "It works (e.g. in trials) well.",
        "Dr. Smith agrees with the plan.",
        "It has three cities: Birmingham. Coventry and Wolverhampton.",
        "Why not?",
    ]


sentence = st.lists(
    st.sampled_from(["data", "PIONEER", "hub", "region", "links", "patients", "trial"]), min_size=1, max_size=40
).map(lambda ws: " ".join(ws).capitalize() + ".")
block = st.builds(
    Block,
    text=st.lists(sentence, min_size=1, max_size=8).map(" ".join),
    section=st.sampled_from([(), ("A",), ("A", "B"), ("C",)]),
    page=st.sampled_from([None, 1, 2]),
)


@settings(max_examples=150, deadline=None)
@given(blocks=st.lists(block, min_size=1, max_size=10), max_tokens=st.integers(5, 60))
def test_chunks_fit_keep_every_word_in_order_and_never_mix_sections(blocks: list[Block], max_tokens: int) -> None:
    document = LoadedDocument("doc.md", "Doc", blocks, "hash")
    chunks = split(document, words, max_tokens=max_tokens)
    assert all(words(c.text) <= max_tokens for c in chunks)
    assert " ".join(c.text for c in chunks).split() == " ".join(b.text for b in blocks).split()
    assert len({c.id for c in chunks}) == len(chunks)
    sections = {" > ".join(b.section) for b in blocks}
    assert all(c.section in sections for c in chunks)
    for c in chunks:
        assert c.text == " ".join(c.sentences)
        assert not re.search(r"\s{2,}", c.text)


def test_ids_change_with_content_and_not_otherwise() -> None:
    doc = LoadedDocument("doc.md", "Doc", [Block("One sentence here. Another one here.")], "h1")
    again = split(doc, words)
    assert [c.id for c in split(doc, words)] == [c.id for c in again]
    changed = LoadedDocument("doc.md", "Doc", doc.blocks, "h2")
    assert {c.id for c in split(changed, words)}.isdisjoint(c.id for c in again)
