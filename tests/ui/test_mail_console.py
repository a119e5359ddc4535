"""Mail through the served app: the inbound webhook (secret, size cap), mail health for staff in /healthz, and in
Chromium an e-mailed enquiry answered from the console with the reply reaching a real SMTP server, threaded."""

from collections.abc import Iterator
from email.message import EmailMessage

import httpx
import pytest
from playwright.sync_api import Page, expect

from assistant.desk import Desk
from assistant.desk.accounts import add_staff
from assistant.desk.db import open_database
from assistant.engine.assistant import Assistant
from evaluation.mailservers import smtp_server, throwaway_ca
from tests.helpers import serve_app, staff_client, until

PASSWORD = "a long enough password"
SECRET = "a-webhook-secret-of-some-length"


@pytest.fixture(scope="module")
def site(assistant: Assistant, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:  # type: ignore[type-arg]
    root = tmp_path_factory.mktemp("mail-site")
    tls = throwaway_ca(root / "tls")
    with smtp_server(tls) as smtp:
        mail = {
            "smtp_url": smtp.url,
            "mail_ca_file": tls.ca_file,
            "inbound_mail_secret": SECRET,
            "max_inbound_mail_kb": 64,
            "mail_from": "West Midlands HTN <desk@cluster.example>",
        }
        settings = assistant.settings.model_copy(update={"data_dir": root / "data", "jobs_poll_seconds": 0.2, **mail})
        sessions = open_database(settings)
        add_staff(sessions, "kim@cluster.example", PASSWORD, "staff")
        with serve_app(create_app_for(settings, assistant, sessions)) as url:
            yield {"url": url, "smtp": smtp, "sessions": sessions}


def create_app_for(settings, assistant, sessions):  # type: ignore[no-untyped-def]
    from ui.app import create_app

    return create_app(settings, Desk.open(settings, assistant, sessions))


def enquiry_mail(message_id: str, subject: str, text: str) -> bytes:
    message = EmailMessage()
    message["From"], message["To"] = "Ada Byron <ada@uni.example>", "desk@cluster.example"
    message["Subject"], message["Message-ID"] = subject, message_id
    message.set_content(text)
    return message.as_bytes()


def post(url: str, raw: bytes, secret: str | None = SECRET) -> httpx.Response:
    headers = {"Content-Type": "message/rfc822"} | ({"Authorization": f"Bearer {secret}"} if secret else {})
    return httpx.post(f"{url}/api/inbound-mail", content=raw, headers=headers)


def test_the_webhook_needs_its_secret_and_stores_each_message_once(site: dict) -> None:  # type: ignore[type-arg]
    url, smtp = site["url"], site["smtp"]
    raw = enquiry_mail("<hook-1@uni.example>", "Webhook test", "Do you run events for members this spring?")
    assert post(url, raw, secret=None).status_code == 403
    assert post(url, raw, secret="wrong").status_code == 403
    assert post(url, raw).json() == {"result": "created"}
    assert post(url, raw).json() == {"result": "duplicate"}
    assert post(url, b"From: x@y.example\r\n\r\n" + b"a" * 70_000).status_code == 413
    assert post(url, b"no headers at all").status_code == 422
    until(lambda: smtp.find(**{"In-Reply-To": "<hook-1@uni.example>"}))  # the acknowledgement, sent by the jobs
    assert httpx.get(f"{url}/healthz").json().get("mail") is None  # not for the public
    health = staff_client(url, "kim@cluster.example", PASSWORD).get("/healthz").json()["mail"]
    assert health["sending"] and health["webhook"] and not health["receiving"] and health["sent"] >= 1


def test_an_emailed_enquiry_is_answered_from_the_console(page: Page, site: dict) -> None:  # type: ignore[type-arg]
    url, smtp = site["url"], site["smtp"]
    text = "Is there funding for a digital health pilot in Birmingham hospitals?"
    raw = enquiry_mail("<pilot-1@uni.example>", "Funding for a digital pilot", text)
    assert post(url, raw).json() == {"result": "created"}
    page.goto(f"{url}/login")
    page.get_by_label("E-mail").fill("kim@cluster.example")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    row = page.get_by_role("table", name="Enquiries").locator("tbody tr").filter(has_text="Funding for a digital pilot")
    expect(row).to_contain_text("email")
    row.get_by_role("link").click()
    reply = page.get_by_label("Reply to Ada Byron")
    reply.fill(reply.input_value().replace("Kind regards,", "We will call you this week.\n\nKind regards,"))
    page.get_by_role("button", name="Send", exact=True).click()
    expect(page.get_by_role("status")).to_have_text(
        "Reply queued to be sent by e-mail: its delivery shows in the conversation."
    )
    sent = until(
        lambda: [m for m in smtp.find(**{"In-Reply-To": "<pilot-1@uni.example>"}) if "Auto-Submitted" not in m]
    )
    [message] = sent  # type: ignore[misc]
    assert "We will call you this week." in message.get_content() and message["To"] == "ada@uni.example"
    assert "<pilot-1@uni.example>" in message["References"]
    page.reload()
    page.get_by_text("Audit trail").click()
    expect(page.locator("#audit")).to_contain_text("Kim approved the reply after editing the draft")
    expect(page.locator("#audit")).to_contain_text("The assistant sent the reply by e-mail to the enquirer")
    expect(page.locator(".kind-mail_out").last.locator(".delivery")).to_contain_text("sent")
    page.get_by_role("link", name="Mail").click()
    expect(page.get_by_role("table", name="Outbox")).to_contain_text("ada@uni.example")
