"""Mail figures (`make bench`): a mailbox poll of 500 messages from Debian's Dovecot (each stored, triaged, drafted
and acknowledged), a second poll that finds nothing new, and the outbox's throughput to a local SMTP server
(STARTTLS and a sign-in per message, as to a real one). Writes evaluation/results/mail.json.

python -m evaluation.mailbench [--messages 500]
"""

import argparse
import json
import platform
import tempfile
import time
from email.message import EmailMessage
from pathlib import Path

from assistant.config import Settings
from assistant.desk import Desk
from evaluation.mailservers import dovecot, smtp_server, throwaway_ca

TOPICS = (
    "funding for a digital health pilot",
    "joining the network as a small company",
    "access to PIONEER data",
    "events for members this spring",
    "a research partner at a university",
    "setting up in the West Midlands",
)


def message(i: int) -> bytes:
    mail = EmailMessage()
    mail["From"], mail["To"] = f"Person {i} <person{i}@org{i % 40}.example>", "desk@cluster.example"
    mail["Subject"], mail["Message-ID"] = f"Question {i}", f"<bench-{i}@org{i % 40}.example>"
    mail.set_content(f"Hello, we would like to know about {TOPICS[i % len(TOPICS)]} (our reference {i}).")
    return mail.as_bytes()


def measure(count: int) -> dict[str, object]:
    root = Path(tempfile.mkdtemp(prefix="mailbench-"))
    tls = throwaway_ca(root / "tls")
    with smtp_server(tls) as smtp, dovecot(tls) as box:
        settings = Settings(
            database_url=f"sqlite:///{root / 'mail.db'}",
            smtp_url=smtp.url,
            imap_url=box.url,
            mail_ca_file=tls.ca_file,
            acks_per_address_per_day=count,
        )
        desk = Desk.open(settings)
        started = time.perf_counter()
        box.append(*(message(i) for i in range(count)))
        appended = time.perf_counter() - started
        report = desk.mail.poll()
        again = desk.mail.poll()
        started = time.perf_counter()
        sent = desk.run_jobs()
        sending = time.perf_counter() - started
    return {
        "messages": count,
        "deliver_with_imap_append_s": round(appended, 2),
        "poll_s": report.seconds,
        "poll_messages_per_s": round(report.messages / report.seconds, 1),
        "poll_results": dict(report.results),
        "second_poll_s": again.seconds,
        "second_poll_messages": again.messages,
        "outbox_sent": sent,
        "outbox_received_by_server": len(smtp.received),
        "outbox_s": round(sending, 2),
        "outbox_messages_per_s": round(sent / sending, 1),
        "machine": f"{platform.machine()}, {platform.python_version()}",
        "measured_at": time.strftime("%Y-%m-%d %H:%M"),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=500)
    parser.add_argument("--out", type=Path, default=Path("evaluation/results/mail.json"))
    args = parser.parse_args()
    result = measure(args.messages)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
