"""One typed, frozen settings object, read from `CLUSTER_ASSISTANT_*` environment variables.

Build it once in `main()` (or an app factory) and pass it down; nothing here runs at import time.
Every field is documented in the README's configuration table; a test keeps the two in step.
"""

import ipaddress
import os
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from assistant.settings_limits import RateLimitFields
from assistant.settings_mail import MailSettings, url_setting

MAX_QUESTION_CHARS = 2000
# Earlier questions a follow-up is resolved against, on every channel: enough for a conversation's thread, and a
# bound on the work an anonymous caller can ask for.
MAX_HISTORY_ITEMS = 10
# Turns of a conversation a hand-off carries (the latest), and answers a chat visitor can still rate: bounds on what
# one anonymous session keeps on the server.
MAX_TRANSCRIPT_TURNS = 100
MAX_RATEABLE_ANSWERS = 50
MAX_SHOWN_MESSAGES = 100  # messages the chat keeps on screen (and on the server); older ones leave from the top
MAX_COMMENT_CHARS = 2000  # a comment on an answer, on every channel


class Settings(BaseSettings, MailSettings, RateLimitFields):
    """Settings for ingest, answering and serving."""

    model_config = SettingsConfigDict(env_prefix="CLUSTER_ASSISTANT_", frozen=True, extra="ignore")

    data_dir: Path = Field(Path("data"), description="Where the index, the exported embedding model and caches live.")
    corpus_dir: Path = Field(
        Path("corpus"), description="The folder `make run` ingests when the index is missing or stale."
    )
    collection: str = Field("cluster", description="Name of the Chroma collection holding the chunks.")
    chroma_url: str | None = Field(
        None,
        description="Address of a Chroma server (e.g. http://127.0.0.1:8000). Unset: an embedded store in data_dir.",
    )
    chroma_allow_remote: bool = Field(
        False,
        description="Allow a Chroma server that is not on loopback. Chroma has no authentication of its own: "
        "set this only when it sits on a private network.",
    )
    embedding_backend: Literal["onnx-int8", "torch"] = Field(
        "onnx-int8",
        description="How MiniLM runs: `onnx-int8` (exported once into data_dir, ~2x faster) or `torch`.",
    )
    passages: int = Field(5, ge=1, le=20, description="How many passages the answer is composed from.")
    min_confidence: float | None = Field(
        None,
        ge=0.0,
        le=1.0,
        description="Abstain below this confidence. Unset: the value calibrated in assistant/engine/calibration.json.",
    )
    llm_url: str | None = Field(
        None,
        description="OpenAI-compatible endpoint (e.g. http://127.0.0.1:11434/v1). Unset: extractive answers only.",
    )
    llm_model: str = Field("llama3.2", description="Model name sent to the LLM endpoint.")
    llm_api_key: str | None = Field(None, description="Bearer token for the LLM endpoint, if it needs one.")
    llm_allow_http_key: bool = Field(
        False,
        description="Send llm_api_key over plain http to a host that is not this machine. Unset: refused at start "
        "(the key would cross the network readable).",
    )
    llm_timeout_s: float = Field(
        20.0,
        gt=0,
        description="Seconds the LLM may take to write an answer, and to send each next word. Past that, the "
        "sentences already checked stand, or the extractive answer.",
    )
    database_url: str | None = Field(
        None,
        description="SQLAlchemy URL of the enquiries database (e.g. postgresql+psycopg://user:pw@host/db). "
        "Unset: SQLite at data_dir/cluster.db.",
    )
    starter_questions: list[str] | None = Field(
        None,
        description='Starter questions shown in the chat, as a JSON list (e.g. ["What is PIONEER?"]). '
        "Unset: drawn from the corpus' section headings, keeping those the assistant can answer.",
    )
    question_log_days: int = Field(
        90, ge=1, description="Days a logged question (no personal data) is kept before it is deleted."
    )
    chat_concurrency: int = Field(4, ge=1, description="Chat answers computed at once; more wait in the queue.")
    chat_queue_size: int = Field(
        64, ge=1, description="Chat requests allowed to wait; beyond that the chat says it is busy."
    )
    partners_file: Path | None = Field(
        None,
        description="YAML file of partners allowed to embed the widget (see partners.example.yaml). "
        "Unset: no partner, so the widget is refused everywhere.",
    )
    widget_secret: str | None = Field(
        None,
        description="Key that signs widget session tokens; give every server the same one. "
        "Unset: generated once into data_dir/widget-secret.",
    )
    taxonomy_file: Path | None = Field(
        None,
        description="YAML taxonomy for staff triage (categories, routes, SLAs, retention). "
        "Unset: the default in assistant/desk/taxonomy.yaml.",
    )
    max_in_flight: int = Field(
        32,
        ge=1,
        description="Questions answered at once per server process over HTTP; beyond that /api/ask answers 503 "
        "with Retry-After at once instead of queueing without bound.",
    )
    redis_url: str | None = Field(
        None,
        description="Redis for rate limits (e.g. redis://127.0.0.1:6379/0), shared by every worker and replica. "
        "Unset: counted in each process's memory (with N workers, each enforces 1/N of every limit).",
    )
    workers: int = Field(
        1, ge=1, description="Worker processes serving the app; `serve --workers N` sets it for its workers."
    )
    forwarded_allow_ips: list[str] = Field(
        default_factory=list,
        description='Proxies trusted to set X-Forwarded-For/-Proto, as a JSON list (e.g. ["10.0.0.5"]); '
        "`serve --forwarded-allow-ips` sets it. Unset: none, so the client address is the connecting one.",
    )
    chat_frame_ancestors: str = Field(
        "'none'",
        description="CSP frame-ancestors of the public chat: the sites allowed to frame it (e.g. "
        '"https://partner.example"). Default: none.',
    )
    staff_host: str | None = Field(
        None,
        description="Host name that alone serves the staff pages, sign-in and staff API (e.g. staff.cluster.example)."
        " Unset: any host.",
    )
    ingest_allowed_networks: list[str] = Field(
        default_factory=list,
        description='Non-public networks ingest may fetch from, as a JSON list of CIDRs (e.g. ["10.1.0.0/16"]). '
        "Unset: only public addresses (loopback, private, link-local and metadata addresses are refused).",
    )
    conversation_days: int = Field(
        1,
        ge=1,
        description=(
            "Days an idle conversation is kept: an API or widget session's earlier questions, a web chat under its "
            "cookie."
        ),
    )
    housekeeping_minutes: int = Field(
        60, ge=1, description="How often retention runs (question log, conversations, resolved enquiries)."
    )
    staff_session_hours: int = Field(8, ge=1, description="Hours a staff sign-in lasts before signing in again.")
    staff_time_zone: str = Field(
        "Europe/London",
        description="Time zone of the times on staff pages, until a staff member's browser reports its own (IANA "
        "name, e.g. Europe/London).",
    )
    cookie_secure: bool = Field(
        False,
        description="Mark the staff session cookie Secure (named __Host-ca_staff) even when requests arrive over "
        "plain http, as they do behind a TLS-terminating proxy. Over https it is always Secure.",
    )
    answer_threads: int = Field(
        2 * (os.cpu_count() or 1),
        ge=1,
        description="Questions computed at once per process (API and widget); others in flight wait their turn. "
        "Default: twice the cores (measured on 2 cores: 2 at once gave p95 119 ms at 16 clients, 4 gave 94 ms).",
    )
    max_request_kb: int = Field(
        256, ge=16, description="Largest request body accepted outside the staff pages, in KiB (413 past it)."
    )
    max_conversations: int = Field(
        100_000, ge=100, description="Most API and widget conversations kept; the longest idle go first."
    )
    staff_password_min_chars: int = Field(12, ge=8, description="Shortest password `staff add` accepts.")
    max_upload_mb: int = Field(
        20, ge=1, description="Largest document staff may upload, in MB (the original is kept in the database)."
    )
    # Background jobs (e-mail, mailbox polls, retention) run in every server process, each job once.
    jobs_enabled: bool = Field(
        True, description="Run background jobs in `serve` (off: run `cluster-assistant jobs run` separately)."
    )
    jobs_lease_seconds: float = Field(
        120.0,
        gt=0,
        description="How long a claimed job is held before another "
        "worker may take it over (a crashed worker's jobs resume then).",
    )
    jobs_poll_seconds: float = Field(1.0, gt=0, description="How often an idle worker looks for due jobs.")
    host: str = Field("127.0.0.1", description="Address `serve` listens on.")
    port: int = Field(7860, ge=1, le=65535, description="Port `serve` listens on.")

    @field_validator("llm_url")
    @classmethod
    def _llm_url(cls, value: str | None) -> str | None:
        return url_setting(value, "LLM_URL", ("http", "https"), "http://host:port/v1 (an OpenAI-compatible endpoint)")

    @field_validator("ingest_allowed_networks")
    @classmethod
    def _networks(cls, value: list[str]) -> list[str]:
        for network in value:
            ipaddress.ip_network(network, strict=False)  # raises ValueError with the reason
        return value

    @property
    def chroma_path(self) -> Path:
        return self.data_dir / "chroma"

    @property
    def model_cache_dir(self) -> Path:
        return self.data_dir / "models"

    @property
    def database(self) -> str:
        return self.database_url or f"sqlite:///{(self.data_dir / 'cluster.db').resolve()}"
