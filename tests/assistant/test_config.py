"""Settings are checked when they are built: a bad address or rate limit stops the start with the setting's name."""

import pytest
from pydantic import ValidationError

from assistant.config import Settings


@pytest.mark.parametrize(
    ("setting", "value", "named"),
    [
        ("smtp_url", "http://mail.example.org", "CLUSTER_ASSISTANT_SMTP_URL"),
        ("smtp_url", "smtp://", "CLUSTER_ASSISTANT_SMTP_URL"),
        ("imap_url", "imap://desk:pw@mail.example.org/INBOX", "CLUSTER_ASSISTANT_IMAP_URL"),
        ("imap_url", "imaps://mail.example.org:993/INBOX", "CLUSTER_ASSISTANT_IMAP_URL"),
        ("llm_url", "127.0.0.1:11434/v1", "CLUSTER_ASSISTANT_LLM_URL"),
        ("rate_limit_ask", "lots", "rate_limit_ask"),
        ("login_lockout", "five a minute", "login_lockout"),
    ],
)
def test_a_bad_address_or_limit_is_refused_with_its_name(setting: str, value: str, named: str) -> None:
    with pytest.raises(ValidationError, match=named):
        Settings(**{setting: value})


def test_good_addresses_pass_and_unset_is_none() -> None:
    settings = Settings(
        smtp_url="smtps://desk%40cluster.example:pw@smtp.example.org:465",
        imap_url="imaps://desk%40cluster.example:pw@imap.example.org:993/INBOX",
        llm_url="http://127.0.0.1:11434/v1",
    )
    assert settings.smtp_url and settings.imap_url and settings.llm_url
    assert Settings(smtp_url="").smtp_url is None


def test_plain_smtp_only_to_a_relay_on_this_machine() -> None:
    assert Settings(smtp_url="smtp://127.0.0.1:25", smtp_plain_relay=True).smtp_plain_relay
    assert Settings(smtp_url="smtp://localhost:2525", smtp_plain_relay=True).smtp_plain_relay
    for elsewhere in ("smtp://mail.example.org:25", "smtps://127.0.0.1:465", None):
        with pytest.raises(ValidationError, match="CLUSTER_ASSISTANT_SMTP_PLAIN_RELAY"):
            Settings(smtp_url=elsewhere, smtp_plain_relay=True)


def test_rate_limits_are_one_typed_value(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLUSTER_ASSISTANT_RATE_LIMIT_ASK", "3/minute")
    monkeypatch.setenv("CLUSTER_ASSISTANT_LOGIN_LOCKOUT", "4/hour")
    limits = Settings().rate_limits
    assert limits.ask == "3/minute" and limits.lockout == "4/hour" and limits.login == "10/minute"
