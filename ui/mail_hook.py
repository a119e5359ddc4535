"""`POST /api/inbound-mail`: mail forwarded by a provider's webhook (raw RFC 822, as `message/rfc822` or any type),
for installations that receive mail that way instead of from a mailbox. Off until a shared secret is set; the
caller sends it as `Authorization: Bearer <secret>`. Rate-limited and size-capped at the edge (ui/edge.py)."""

import hmac

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from assistant.errors import NotAllowed, NotFound
from ui.edge import desk_of

router = APIRouter(tags=["mail"])


@router.post(
    "/api/inbound-mail",
    status_code=202,
    summary="Receive one e-mail (raw RFC 822) from a mail provider's webhook",
    response_description='{"result": "created" | "reply" | "duplicate" | "ignored"}',
)
async def inbound_mail(request: Request) -> JSONResponse:
    desk = desk_of(request)
    secret = desk.settings.inbound_mail_secret
    if not secret:
        raise NotFound("Inbound mail by webhook is off.")
    sent = request.headers.get("authorization", "").removeprefix("Bearer ").strip()
    if not hmac.compare_digest(sent.encode(), secret.encode()):
        raise NotAllowed("Wrong or missing shared secret.")
    raw = await request.body()
    # Storing runs triage (the model): off the event loop, like answering.
    result = await run_in_threadpool(desk.mail.receive, raw, "webhook")
    return JSONResponse({"result": result}, status_code=202)
