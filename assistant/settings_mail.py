"""The mail settings of `Settings` (one object; its fields are grouped by role in modules of their own): the
servers, checked when `Settings` is built with the setting's name in the error, and the caps that keep the desk
from mailing strangers."""

import ipaddress
from pathlib import Path
from urllib.parse import urlsplit

from pydantic import BaseModel, Field, field_validator, model_validator


def url_setting(value: str | None, name: str, schemes: tuple[str, ...], shape: str) -> str | None:
    """`value` when it is an address of one of `schemes` with a host; else a `ValueError` naming the setting."""
    if value is None or value == "":
        return None
    parts = urlsplit(value)
    if parts.scheme not in schemes or not parts.hostname:
        raise ValueError(f"CLUSTER_ASSISTANT_{name} must be {shape}")
    return value


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class MailSettings(BaseModel):
    # Mail (off until a server is configured: the outbox still fills, and the console says why nothing left).
    smtp_url: str | None = Field(
        None,
        description="Outgoing mail server: smtp://user:pass@host:587 (STARTTLS) or "
        "smtps://user:pass@host:465. Unset: replies are kept, not sent.",
    )
    smtp_plain_relay: bool = Field(
        False,
        description="Send in plain SMTP, without STARTTLS, to a relay on this machine (Postfix, a local relay): "
        "smtp_url must then be smtp:// on loopback. Unset: STARTTLS or TLS, always.",
    )
    mail_from: str = Field("Cluster Assistant <assistant@localhost>", description="From address of mail we send.")
    imap_url: str | None = Field(
        None,
        description="Mailbox to read enquiries from, over TLS: imaps://user:pass@host:993/INBOX. Unset: no polling.",
    )
    mail_ca_file: Path | None = Field(
        None, description="CA certificates to trust for the mail servers, beside the system's (for a private CA)."
    )
    mail_poll_seconds: int = Field(60, ge=1, description="How often the mailbox is read.")
    acks_per_address_per_day: int = Field(
        3,
        ge=0,
        description="Acknowledgements sent to one address in 24 hours "
        "at most: the public forms must not mail-bomb a stranger.",
    )
    acks_per_domain_per_day: int = Field(
        30,
        ge=0,
        description="Acknowledgements sent to one mail domain in 24 "
        "hours at most (a +tag or a new mailbox per message does not escape "
        "it).",
    )
    acks_per_hour: int = Field(
        200,
        ge=0,
        description="Acknowledgements sent in one hour at most, to anyone: a "
        "flood of forged enquiries cannot turn the desk into a mail cannon.",
    )
    mail_per_sender_per_hour: int = Field(
        20,
        ge=1,
        description="E-mails taken in from one sender (mailbox, "
        "+tags aside) in an hour; more are refused and left in the "
        "mailbox.",
    )
    inbound_mail_secret: str | None = Field(
        None,
        min_length=24,
        description="Shared secret for POST "
        "/api/inbound-mail (sent as 'Authorization: Bearer …'), at least 24 "
        "characters. Unset: the webhook is off.",
    )
    max_inbound_mail_kb: int = Field(10_240, ge=16, description="Largest e-mail accepted, in KiB.")
    max_attachment_kb: int = Field(
        5_120, ge=1, description="Largest attachment kept, in KiB (larger: listed, not kept)."
    )
    mail_retry_seconds: float = Field(
        60.0,
        gt=0,
        description="First wait before re-sending a refused message; it doubles each time, to at most an hour.",
    )
    mail_max_attempts: int = Field(8, ge=1, description="Attempts to send one message before it is marked failed.")
    console_url: str = Field(
        "",
        description="The staff console's address (https://staff.cluster.example), for "
        "links in notifications. Unset: links are paths.",
    )

    @field_validator("smtp_url")
    @classmethod
    def _smtp_url(cls, value: str | None) -> str | None:
        return url_setting(
            value, "SMTP_URL", ("smtp", "smtps"), "smtp://user:pass@host:587 (STARTTLS) or smtps://…:465"
        )

    @field_validator("imap_url")
    @classmethod
    def _imap_url(cls, value: str | None) -> str | None:
        checked = url_setting(value, "IMAP_URL", ("imaps",), "imaps://user:pass@host:993/INBOX (TLS only)")
        if checked and not urlsplit(checked).username:
            raise ValueError(
                "CLUSTER_ASSISTANT_IMAP_URL must name the mailbox's user: imaps://user:pass@host:993/INBOX"
            )
        return checked

    @model_validator(mode="after")
    def _plain_relay_on_loopback(self) -> "MailSettings":
        """Plain SMTP only to a relay on this machine: anywhere else the mail (and any password) would cross the
        network readable."""
        if self.smtp_plain_relay:
            host = urlsplit(self.smtp_url or "").hostname or ""
            if not self.smtp_url or urlsplit(self.smtp_url).scheme != "smtp" or not _loopback(host):
                raise ValueError(
                    "CLUSTER_ASSISTANT_SMTP_PLAIN_RELAY is for a relay on this machine: set "
                    "CLUSTER_ASSISTANT_SMTP_URL to smtp://127.0.0.1:25 (or localhost), or turn it off."
                )
        return self
