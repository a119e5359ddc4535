"""Widget sessions: signed, short-lived tokens bound to a partner and an origin.

A token is `base64url(partner|origin|expiry|nonce).base64url(HMAC-SHA256)`: no static key is ever in a page, a
token only works from the origin it was issued to, and it expires. The nonce names the widget session for its
rate limit.
"""

import base64
import hashlib
import hmac
import os
import secrets
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from assistant.errors import UnsafeConfiguration
from assistant.private import private_dir

TOKEN_SECONDS = 30 * 60


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


MIN_SECRET_BYTES = 32  # HMAC-SHA256 keys shorter than its block of output are guessable sooner


def load_secret(configured: str | None, data_dir: Path) -> bytes:
    """The signing key: the configured one (at least `MIN_SECRET_BYTES`), else one generated once and kept in
    data_dir (mode 0600), so every worker on this machine signs alike.

    The file is written whole to a temporary name and renamed into place (atomic on POSIX): a worker starting
    while another writes it reads either no file or the whole key, never an empty one. The first rename wins;
    every worker then reads that one.
    """
    if configured:
        if len(configured.encode()) < MIN_SECRET_BYTES:
            raise UnsafeConfiguration(
                f"CLUSTER_ASSISTANT_WIDGET_SECRET must be at least {MIN_SECRET_BYTES} bytes; generate one with "
                "`python -c 'import secrets; print(secrets.token_urlsafe(48))'`."
            )
        return configured.encode()
    path = data_dir / "widget-secret"
    if not path.exists():
        private_dir(data_dir)
        fd, temporary = tempfile.mkstemp(dir=data_dir, prefix=".widget-secret.")  # created 0600
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(48))
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.link(temporary, path)  # fails if another worker's key is already in place: keep theirs
        except FileExistsError:
            pass
        finally:
            os.unlink(temporary)
    secret = path.read_text().strip().encode()
    if len(secret) < MIN_SECRET_BYTES:
        raise UnsafeConfiguration(f"{path} holds no usable key; delete it and restart to generate a new one.")
    return secret


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
