"""A crash between the mail server accepting a message and the outbox marking it sent: after a restart the message
is sent again with the same Message-ID, and no other message is sent twice."""

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from sqlalchemy import select

from assistant.config import Settings
from assistant.desk import Desk, NewEnquiry
from assistant.desk.db import open_database
from assistant.desk.records import CONSENT_VERSION
from assistant.desk.tables import OutboxMessage
from assistant.engine.assistant import Assistant
from evaluation.mailservers import smtp_server, throwaway_ca


def test_a_message_interrupted_by_a_crash_is_resent_with_the_same_message_id(
    assistant: Assistant, corpus_settings: Settings, tmp_path: Path
) -> None:
    tls = throwaway_ca(tmp_path / "tls")
    with smtp_server(tls) as smtp:
        settings = corpus_settings.model_copy(
            update={
                "database_url": f"sqlite:///{tmp_path / 'mail.db'}",
                "smtp_url": smtp.url,
                "mail_ca_file": tls.ca_file,
                "jobs_lease_seconds": 1.0,
            }
        )
        desk = Desk.open(settings, assistant, open_database(settings))
        for i in range(3):
            desk.enquiries.receive(
                NewEnquiry(f"Person {i}", f"p{i}@org.example", f"Question {i} about funding.", "api", CONSENT_VERSION)
            )
        configured = {
            "DATA_DIR": settings.data_dir,
            "DATABASE_URL": settings.database,
            "SMTP_URL": smtp.url,
            "MAIL_CA_FILE": tls.ca_file,
            "JOBS_LEASE_SECONDS": 1,
        }
        env = {**os.environ, "HF_HUB_OFFLINE": "1"} | {f"CLUSTER_ASSISTANT_{k}": str(v) for k, v in configured.items()}
        command = [sys.executable, "-m", "ui.cli", "jobs", "run", "--until-idle"]
        worker = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

        def crash_on_the_second(_message: object) -> None:
            if len(smtp.received) == 2:  # accepted by the server; the worker dies before it can mark it sent
                os.kill(worker.pid, signal.SIGKILL)

        smtp.on_message = crash_on_the_second
        assert worker.wait(120) == -signal.SIGKILL
        smtp.on_message = None
        with desk.sessions() as session:
            assert [r.status for r in session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))] == [
                "sent",
                "queued",
                "queued",
            ]
        time.sleep(1.2)  # the dead worker's lease runs out
        restarted = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120, check=False)
        assert restarted.returncode == 0, restarted.stderr
        with desk.sessions() as session:
            rows = session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
        sent = Counter(str(m["Message-ID"]) for m in smtp.received)
        assert [r.status for r in rows] == ["sent"] * 3
        assert sent == {rows[0].message_id: 1, rows[1].message_id: 2, rows[2].message_id: 1}
