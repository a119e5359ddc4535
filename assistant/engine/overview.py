"""What one view of the index holds (a channel's or partner's `Visible`, or everything): the titles and sections
offered as "I can help with…", the vocabulary typed names are corrected against, and the section headings a
question may name. Built on first use per view;
a new `Overview` comes with each reload of the index. A view's vocabulary holds only what that view may see, so a
correction never reveals the name of a document the asker may not read.
"""

from assistant.engine.retrieve import AnswerIndex
from assistant.engine.sections import Section, sections_of
from assistant.engine.spelling import Vocabulary
from assistant.engine.visibility import Visible

MAX_TITLES, MAX_SECTIONS = 6, 5


class Overview:
    def __init__(self, index: AnswerIndex) -> None:
        self.index = index
        self._topics: dict[Visible | None, str] = {}
        self._vocabularies: dict[Visible | None, Vocabulary] = {}
        self._sections: dict[Visible | None, list[Section]] = {}

    def topics(self, visible: Visible | None = None) -> str:
        """What the assistant can help with, from the titles and top-level sections the view may see."""
        text = self._topics.get(visible)
        if text is None:
            text = self._topics[visible] = self._list_topics(visible)
        return text

    def vocabulary(self, visible: Visible | None = None) -> Vocabulary:
        vocabulary = self._vocabularies.get(visible)
        if vocabulary is None:
            chunks = [c for c in self.index.chunks if visible is None or visible(c)]
            texts = [f"{c.title}. {c.section}. {c.text}" for c in chunks]
            vocabulary = self._vocabularies[visible] = Vocabulary(texts)
        return vocabulary

    def sections(self, visible: Visible | None = None) -> list[Section]:
        """The sections a question may name, with their headings' words (not recomputed per question)."""
        found = self._sections.get(visible)
        if found is None:
            found = self._sections[visible] = sections_of(self.index, visible)
        return found

    def _list_topics(self, visible: Visible | None) -> str:
        topics: dict[str, list[str]] = {}
        for chunk in self.index.chunks:
            if visible is not None and not visible(chunk):
                continue
            sections = topics.setdefault(chunk.title, [])
            top = chunk.section.split(" > ")[0]
            if top and top not in sections:
                sections.append(top)
        if not topics:
            return "The index is empty: nothing has been ingested yet."
        listed = [
            f"{title} ({'; '.join(sections[:MAX_SECTIONS])})" if sections else title
            for title, sections in list(topics.items())[:MAX_TITLES]
        ]
        return "I can help with questions about: " + "; ".join(listed) + "."
