"""What an acknowledgement may say: it goes to whatever address a visitor typed, so nothing they typed may turn it
into their message to a stranger (a link in the "name", say)."""

import pytest

from assistant.desk.mail.outbox import greeting


@pytest.mark.parametrize(
    ("name", "said"),
    [
        ("Ada Byron", "Dear Ada,"),
        ("O'Neil", "Dear O'Neil,"),
        ("Anne-Marie Smith", "Dear Anne-Marie,"),
        ("Zoë", "Dear Zoë,"),
        ("http://spam.example/buy", "Hello,"),
        ("www.spam.example", "Hello,"),
        ("Win£1000 now", "Hello,"),
        ("A" * 31, "Hello,"),
        ("there", "Hello,"),  # "Hi there" is no name
        ("jess", "Hello,"),
        ("info", "Hello,"),
        ("", "Hello,"),
        (None, "Hello,"),
    ],
)
def test_the_greeting_uses_a_name_only_when_it_looks_like_one(name: str | None, said: str) -> None:
    assert greeting(name) == said
