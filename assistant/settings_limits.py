"""The rate-limit settings of `Settings` (one object; its fields are grouped by role in modules of their own):
each in the `limits` package's notation, checked when `Settings` is built, and all of them as one typed value."""

from dataclasses import dataclass
from typing import Annotated

from pydantic import AfterValidator, BaseModel, Field


def _rate_limit(value: str) -> str:
    """A limit in the `limits` package's notation ("10/minute", "5/15minutes;100/day"), checked at start."""
    from limits import parse_many

    try:
        parse_many(value)
    except ValueError:
        raise ValueError(f"'{value}' is not a rate limit such as '10/minute' or '5/15minutes;100/day'") from None
    return value


RateLimit = Annotated[str, AfterValidator(_rate_limit)]


@dataclass(frozen=True)
class RateLimitSettings:
    """The app's rate limits, by what they limit (each per client address unless said): questions (`ask`), chat
    events, ratings, hand-offs, new widget sessions, sign-in requests, webhook mail; failed sign-ins for one
    account from one address (`lockout`) and attempts for one account from all addresses (`account`)."""

    ask: str
    chat: str
    feedback: str
    enquiries: str
    widget_session: str
    login: str
    inbound_mail: str
    lockout: str
    account: str


class RateLimitFields(BaseModel):
    rate_limit_ask: RateLimit = Field(
        "30/minute;600/hour", description="Questions per client address on POST /api/ask (limits' notation)."
    )
    rate_limit_chat: RateLimit = Field(
        "60/minute;1200/hour",
        description="Chat page events and Gradio API calls (queue/join, call, run) per client address.",
    )
    rate_limit_feedback: RateLimit = Field("30/minute", description="Ratings per client address on POST /api/feedback.")
    rate_limit_enquiries: RateLimit = Field(
        "5/minute;30/day", description="Hand-offs per client address (POST /api/enquiries and the widget's)."
    )
    rate_limit_widget_session: RateLimit = Field("30/minute", description="New widget sessions per client address.")
    rate_limit_login: RateLimit = Field("10/minute", description="Sign-in attempts per client address on POST /login.")
    rate_limit_inbound_mail: RateLimit = Field(
        "120/minute", description="Messages per client address on POST /api/inbound-mail."
    )
    login_lockout: RateLimit = Field(
        "5/15minutes",
        description="Failed sign-ins for one account from one address before that address is refused for it; "
        "the owner signing in from elsewhere is never locked out.",
    )
    login_account_slowdown: RateLimit = Field(
        "20/minute",
        description="Sign-in attempts for one account from all addresses together; past it, attempts wait (429 "
        "with Retry-After): many addresses guessing one password are slowed, and the owner waits at most that long.",
    )

    @property
    def rate_limits(self) -> RateLimitSettings:
        """Every rate limit, by what it limits."""
        return RateLimitSettings(
            ask=self.rate_limit_ask,
            chat=self.rate_limit_chat,
            feedback=self.rate_limit_feedback,
            enquiries=self.rate_limit_enquiries,
            widget_session=self.rate_limit_widget_session,
            login=self.rate_limit_login,
            inbound_mail=self.rate_limit_inbound_mail,
            lockout=self.login_lockout,
            account=self.login_account_slowdown,
        )
