"""The public chat's answering step, without a browser: an extractive answer is shown whole at once (it is ready in
milliseconds; revealing it in timed pieces only delayed it)."""

from pathlib import Path

from assistant.desk import Desk
from assistant.desk.db import open_database
from assistant.engine.assistant import Assistant
from ui.chat import new_state, respond


def test_an_extractive_answer_arrives_whole_in_one_update(assistant: Assistant, tmp_path: Path) -> None:
    settings = assistant.settings.model_copy(update={"data_dir": tmp_path})
    desk = Desk.open(settings, assistant, open_database(settings))
    updates = list(respond(desk, "What is PIONEER?", [], new_state()))
    assert len(updates) == 1
    history, box, _cards, state, *_ = updates[0]
    shown = history[-1]
    assert shown["role"] == "assistant" and "PIONEER" in shown["content"] and "(#source-1)" in shown["content"]
    assert box == "" and state["last"]["question"] == "What is PIONEER?"
