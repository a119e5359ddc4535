"""Rate limits: a thin adapter over the `limits` package (moving windows, in memory or in Redis)."""

import math
import time
from dataclasses import asdict

from limits import RateLimitItem, RateLimitItemPerMinute, parse_many
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter

from assistant.config import Settings


class RateLimits:
    """Every rate limit of the app, counted by the `limits` package (moving windows) in memory or in Redis.

    Limits are named as `Settings.rate_limits` names them (`ask`, `login`, `lockout`, ...). In memory, each worker
    process counts alone, so with N workers each enforces 1/N of every limit (`serve` says so at start); with
    `redis_url` every worker and replica shares one count.
    """

    def __init__(self, settings: Settings) -> None:
        self.divisor = 1 if settings.redis_url else settings.workers
        self._limiter = MovingWindowRateLimiter(storage_from_string(settings.redis_url or "memory://"))
        limits = asdict(settings.rate_limits)  # each named after what it limits: `ask`, `login`, `lockout`, ...
        self._named = {name: self._per_worker(parse_many(limit)) for name, limit in limits.items()}

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

    def clear(self, name: str, *key: str) -> None:
        """Forget `key`'s count under limit `name` (a sign-in that succeeded ends the run of failures)."""
        for item in self._named[name]:
            self._limiter.clear(item, name, *key)

    def blocked(self, name: str, *key: str) -> int | None:
        """Whether `key` is over limit `name` already, without counting: the seconds to wait, or None."""
        for item in self._named[name]:
            if not self._limiter.test(item, name, *key):
                return self._wait(item, name, *key)
        return None

    def _wait(self, item: RateLimitItem, *identifiers: str) -> int:
        reset, _remaining = self._limiter.get_window_stats(item, *identifiers)
        return max(1, math.ceil(reset - time.time()))
