"""Two server processes (`serve --workers 2`): tokens, rate limits (in a real Redis), conversations and staff
sessions are shared."""

import itertools
from pathlib import Path

import httpx

from assistant.config import Settings
from assistant.desk.accounts import add_staff
from assistant.desk.db import open_database
from assistant.desk.records import CONSENT_VERSION
from evaluation.load import server

ORIGIN = "http://127.0.0.1:9"


def test_two_workers_share_what_they_must(corpus_settings: Settings, tmp_path: Path, redis_url: str) -> None:
    partners = tmp_path / "partners.yaml"
    partners.write_text(
        f"partners:\n  p:\n    name: P\n    allowed_origins: ['{ORIGIN}']\n"
        "    limits: {per_ip_per_minute: 6, per_session_per_minute: 100}\n",
        encoding="utf-8",
    )
    database = f"sqlite:///{tmp_path}/shared.db"
    add_staff(open_database(Settings(data_dir=tmp_path, database_url=database)), "kim@x.example", "x" * 12, "staff")
    env = {
        "CLUSTER_ASSISTANT_DATA_DIR": str(corpus_settings.data_dir),
        "CLUSTER_ASSISTANT_DATABASE_URL": database,
        "CLUSTER_ASSISTANT_PARTNERS_FILE": str(partners),
        "CLUSTER_ASSISTANT_WIDGET_SECRET": "",  # the key generated into data_dir, shared by both
        "CLUSTER_ASSISTANT_REDIS_URL": redis_url,
        "CLUSTER_ASSISTANT_RATE_LIMIT_FEEDBACK": "5/minute",
    }
    with server(env, "--workers", "2") as (url, _process):
        workers = set()
        for _ in range(40):  # new connections, so the kernel spreads them over both processes
            workers.add(httpx.get(f"{url}/healthz", headers={"Connection": "close"}).json()["worker"])
        assert len(workers) == 2, workers

        token = httpx.post(f"{url}/api/widget/session", json={"partner": "p"}, headers={"Origin": ORIGIN}).json()
        auth = {"Origin": ORIGIN, "Authorization": f"Bearer {token['token']}", "Connection": "close"}
        statuses = [
            httpx.post(f"{url}/api/widget/ask", json={"question": "What is Dignio?"}, headers=auth).status_code
            for _ in range(9)
        ]
        assert statuses.count(200) == 6 and statuses.count(429) == 3, statuses  # one limit across both workers
        feedback = {"question": "q", "answer": "a", "rating": "up"}
        statuses = [
            httpx.post(f"{url}/api/feedback", json=feedback, headers={"Connection": "close"}).status_code
            for _ in range(8)
        ]
        assert statuses == [201] * 5 + [429] * 3, statuses  # exactly the limit, whichever worker answered

        asks = [
            httpx.post(
                f"{url}/api/ask",
                json={"question": q, "session_id": "shared-1"},
                headers={"Connection": "close"},
                timeout=30,
            ).json()["answer"]
            for q in ("What is Dignio?", "Who is it for?", "Who is it for?", "Who is it for?")
        ]
        assert all("longterm conditions" in a or "healthcare professionals" in a for a in asks[1:]), asks

        client = httpx.Client(base_url=url, headers={"Connection": "close"})
        assert client.post("/login", data={"email": "kim@x.example", "password": "x" * 12}).status_code == 303
        assert all(client.get("/api/staff/enquiries").status_code == 200 for _ in range(6))


def test_a_document_ingested_by_one_worker_is_answered_by_both(
    corpus_settings: Settings, tmp_path: Path, redis_url: str
) -> None:
    import shutil

    from tests.helpers import staff_client, until

    data = tmp_path / "data"  # a copy of the index: this test adds to it
    shutil.copytree(corpus_settings.data_dir / "chroma", data / "chroma")
    (data / "models").symlink_to(corpus_settings.model_cache_dir.resolve(), target_is_directory=True)
    database = f"sqlite:///{tmp_path}/shared.db"
    add_staff(open_database(Settings(data_dir=data, database_url=database)), "kim@x.example", "x" * 12, "staff")
    env = {
        "CLUSTER_ASSISTANT_DATA_DIR": str(data),
        "CLUSTER_ASSISTANT_DATABASE_URL": database,
        "CLUSTER_ASSISTANT_REDIS_URL": redis_url,
        "CLUSTER_ASSISTANT_JOBS_POLL_SECONDS": "0.2",
    }
    question = "Which bird nests on the Vellumbry lighthouse?"
    with server(env, "--workers", "2") as (url, _process):
        kim = staff_client(url, "kim@x.example", "x" * 12)
        note = (
            "notes.md",
            b"# Lighthouse notes\n\nA pair of puffins nests on the Vellumbry lighthouse.\n",
            "text/markdown",
        )
        job = kim.post("/api/staff/documents", files=[("files", note)]).json()["job"]
        until(lambda: kim.get(f"/api/staff/jobs/{job}").json()["status"] == "done", timeout_s=60)

        def answered_everywhere() -> bool:
            answers = [
                httpx.post(
                    f"{url}/api/ask", json={"question": question}, headers={"Connection": "close"}, timeout=30
                ).json()
                for _ in range(10)
            ]
            return all(not a["abstained"] and "puffins" in a["answer"] for a in answers)

        until(answered_everywhere, timeout_s=20)  # both processes, within seconds of the job's end


def test_a_category_correction_on_one_worker_is_used_by_the_other(
    corpus_settings: Settings, tmp_path: Path, redis_url: str
) -> None:
    """Staff correct an enquiry's category on whichever worker serves them; every enquiry like it afterwards, on
    either worker, is classified from that correction (before the classifier's corrections were shared, only the
    worker that took the correction learned it)."""
    from tests.helpers import staff_client, until

    database = f"sqlite:///{tmp_path}/shared.db"
    add_staff(open_database(Settings(data_dir=tmp_path, database_url=database)), "kim@x.example", "x" * 12, "staff")
    env = {
        "CLUSTER_ASSISTANT_DATA_DIR": str(corpus_settings.data_dir),
        "CLUSTER_ASSISTANT_DATABASE_URL": database,
        "CLUSTER_ASSISTANT_REDIS_URL": redis_url,
        "CLUSTER_ASSISTANT_RATE_LIMIT_ENQUIRIES": "1000/minute",
    }
    message = "Could our choir of beekeepers have the quarterly zither rota before the marmalade fair?"

    def hand_off(n: int) -> int:
        body = {"name": "Ada", "email": f"ada{n}@choir.example", "message": message, "consent": True}
        body["consent_version"] = CONSENT_VERSION
        created = httpx.post(f"{url}/api/enquiries", json=body, headers={"Connection": "close"}, timeout=30)
        assert created.status_code == 201, created.text
        [row] = kim.get("/api/staff/enquiries", params={"q": created.json()["reference"]}).json()
        return int(row["id"])

    senders = itertools.count(1)  # a new address each time: the same one again would merge as a duplicate
    with server(env, "--workers", "2") as (url, _process):
        workers = {httpx.get(f"{url}/healthz", headers={"Connection": "close"}).json()["worker"] for _ in range(40)}
        assert len(workers) == 2, workers
        kim = staff_client(url, "kim@x.example", "x" * 12)
        first = hand_off(0)
        guessed = kim.get(f"/api/staff/enquiries/{first}").json()["category"]
        corrected = "press" if guessed != "press" else "investment"
        changed = kim.post(f"/api/staff/enquiries/{first}", json={"category": corrected})
        assert changed.status_code == 200 and changed.json()["category"] == corrected

        def learned_everywhere() -> bool:
            later = [kim.get(f"/api/staff/enquiries/{hand_off(next(senders))}").json() for _ in range(10)]
            return all(
                e["category"] == corrected and any(f"enquiry {first}" in x for x in e["reasons"]["evidence"])
                for e in later
            )

        until(learned_everywhere, timeout_s=20)  # ten new connections: both workers classify some
