"""What the server enforces before it answers: signed short-lived widget session tokens, and rate limits.

A token is `base64url(partner|origin|expiry|nonce).base64url(HMAC-SHA256)`: no static key is ever in a page, a
token only works from the origin it was issued to, and it expires. The nonce names the widget session for its
rate limit.
"""

import base64
import hashlib
import hmac
import math
import os
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

from fastapi import Request
from limits import RateLimitItem, RateLimitItemPerMinute, parse_many
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter

from assistant.config import Settings

TOKEN_SECONDS = 30 * 60
# Each limit and the setting that gives it.
NAMED_LIMITS = {
    "ask": "rate_limit_ask",
    "chat": "rate_limit_chat",
    "feedback": "rate_limit_feedback",
    "enquiries": "rate_limit_enquiries",
    "widget_session": "rate_limit_widget_session",
    "login": "rate_limit_login",
    "lockout": "login_lockout",
}


@dataclass(frozen=True)
class WidgetSession:
    partner_id: str
    origin: str
    expires: int
    nonce: str


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def load_secret(configured: str | None, data_dir: Path) -> bytes:
    """The signing key: the configured one, else one generated once and kept in data_dir (mode 0600), so every
    worker on this machine signs alike."""
    if configured:
        return configured.encode()
    path = data_dir / "widget-secret"
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_urlsafe(48))
        except FileExistsError:
            pass  # another worker wrote it first
    return path.read_text().strip().encode()


class TokenSigner:
    def __init__(self, secret: bytes) -> None:
        self._secret = secret

    def _sign(self, payload: bytes) -> str:
        return _b64(hmac.new(self._secret, payload, hashlib.sha256).digest())

    def issue(self, partner_id: str, origin: str, now: float | None = None) -> tuple[str, WidgetSession]:
        issued = time.time() if now is None else now
        session = WidgetSession(partner_id, origin, int(issued + TOKEN_SECONDS), secrets.token_hex(8))
        payload = f"{partner_id}|{origin}|{session.expires}|{session.nonce}".encode()
        return f"{_b64(payload)}.{self._sign(payload)}", session

    def verify(self, token: str, now: float | None = None) -> WidgetSession | None:
        """The session a token stands for, or None if it is forged, malformed or expired."""
        try:
            encoded, signature = token.split(".", 1)
            payload = _unb64(encoded)
            if not hmac.compare_digest(self._sign(payload), signature):
                return None
            partner_id, origin, expires, nonce = payload.decode().split("|")
            session = WidgetSession(partner_id, origin, int(expires), nonce)
        except (ValueError, UnicodeDecodeError):
            return None
        return session if session.expires > (time.time() if now is None else now) else None


def client_address(request: Request) -> str:
    """The client's address: the connecting one, or X-Forwarded-For's when a trusted proxy set it (the app
    installs uvicorn's proxy-headers middleware only for `forwarded_allow_ips`)."""
    return request.client.host if request.client else "unknown"


class RateLimits:
    """Every rate limit of the app, counted by the `limits` package (moving windows) in memory or in Redis.

    Limits are named after the setting that gives them (`ask` is `rate_limit_ask`). In memory, each worker
    process counts alone, so with N workers each enforces 1/N of every limit (`serve` says so at start); with
    `redis_url` every worker and replica shares one count.
    """

    def __init__(self, settings: Settings) -> None:
        self.shared = settings.redis_url is not None
        self.divisor = 1 if self.shared else settings.workers
        self._limiter = MovingWindowRateLimiter(storage_from_string(settings.redis_url or "memory://"))
        self._named = {
            name: self._per_worker(parse_many(getattr(settings, field))) for name, field in NAMED_LIMITS.items()
        }

    def _per_worker(self, items: list[RateLimitItem]) -> list[RateLimitItem]:
        if self.divisor == 1:
            return items
        return [type(i)(max(1, i.amount // self.divisor), i.multiples, i.namespace) for i in items]

    def per_minute(self, amount: int) -> list[RateLimitItem]:
        """A limit of `amount` a minute (a partner's configured limits), shared out like the named ones."""
        return self._per_worker([RateLimitItemPerMinute(amount)])

    def hit(self, name: str, *key: str, items: list[RateLimitItem] | None = None) -> int | None:
        """Count one request against limit `name` for `key`; the seconds to wait when over it, else None."""
        for item in items if items is not None else self._named[name]:
            if not self._limiter.hit(item, name, *key):
                return self._wait(item, name, *key)
        return None

    def blocked(self, name: str, *key: str) -> int | None:
        """Whether `key` is over limit `name` already, without counting: the seconds to wait, or None."""
        for item in self._named[name]:
            if not self._limiter.test(item, name, *key):
                return self._wait(item, name, *key)
        return None

    def _wait(self, item: RateLimitItem, *identifiers: str) -> int:
        reset, _remaining = self._limiter.get_window_stats(item, *identifiers)
        return max(1, math.ceil(reset - time.time()))
