"""The staff session cookie and the CSRF token tied to it: read by the sign-in routes and by every page."""

import hashlib
import hmac

from fastapi import Request

from assistant.config import Settings

COOKIE = "ca_staff"
# Over https (or with `cookie_secure`), the cookie is Secure and `__Host-`-prefixed: the browser then keeps it only
# from a secure origin, for this host alone and path /, so no subdomain or plain-http page can set or shadow it.
SECURE_COOKIE = "__Host-ca_staff"


def secure_cookie(request: Request, settings: Settings | None = None) -> bool:
    """Whether the session cookie is Secure (and `__Host-`) for this request."""
    settings = settings or request.app.state.settings
    return settings.cookie_secure or request.url.scheme == "https"


def session_token(request: Request, settings: Settings | None = None) -> str | None:
    """The staff session cookie's value, under the name this request's security calls for."""
    return request.cookies.get(SECURE_COOKIE if secure_cookie(request, settings) else COOKIE)


def csrf_token(request: Request) -> str:
    """The CSRF token of this request's session ("" without one): HMAC-SHA256 of the session under the app's key."""
    session = session_token(request)
    if not session:
        return ""
    key: bytes = request.app.state.csrf_key
    return hmac.new(key, session.encode(), hashlib.sha256).hexdigest()
