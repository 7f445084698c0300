"""Several limits of one request counted in one storage round trip.

Flask-Limiter checks each limit of a view on its own: with the survey's per-phone and
per-address limits that is two checks and a Redis call each, on every tap of every
customer. `RequestLimits` counts them together, in the same keys and fixed windows
Flask-Limiter uses (its settings: RATELIMIT_ENABLED, the storage, the in-memory fallback
while Redis is away), with one Lua script when the storage is Redis. As Flask-Limiter
does, the limits are tried in order and counting stops at the first one breached.
"""
from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from threading import Lock

from flask import current_app, request
from flask_limiter import RateLimitExceeded
from limits import parse_many, RateLimitItem
from limits.storage import MemoryStorage, RedisStorage
from limits.strategies import FixedWindowRateLimiter

from app.extensions import limiter

log = logging.getLogger(__name__)

#: KEYS: the counters; ARGV: for each, its window in seconds then its amount. Returns the
#: 1-based index of the first limit breached (the ones after it are not counted), or 0.
_COUNT_ALL = """
for i, key in ipairs(KEYS) do
  local current = redis.call("incrby", key, 1)
  if current == 1 then
    redis.call("expire", key, ARGV[2 * i - 1])
  end
  if current > tonumber(ARGV[2 * i]) then
    return i
  end
end
return 0
"""

#: After Redis fails, count in this process for 1, 2, 4 … 64 s before trying Redis again.
_MAX_BACKOFF_SECONDS = 64


@dataclass(frozen=True)
class RequestLimit:
    """A limit string read from the config, counted under `scope` per `key()` for `methods`."""

    setting: str
    scope: str
    key: Callable[[], str]
    methods: frozenset[str] | None = None
    exempt_when: Callable[[], bool] | None = None


@dataclass(frozen=True)
class _Breached:
    """What RateLimitExceeded reads of the limit that was hit."""

    limit: RateLimitItem
    error_message: None = None


class RequestLimits:
    def __init__(self, *limits: RequestLimit) -> None:
        self.limits = limits
        self._parsed: dict[str, tuple[RateLimitItem, ...]] = {}
        self._scripts: dict[int, object] = {}
        self._fallback = FixedWindowRateLimiter(MemoryStorage())
        self._redis_down_until = 0.0
        self._failures = 0
        self._lock = Lock()

    def __call__(self, view):
        """Decorate a view: count its request against every limit, 429 when one is breached."""

        @functools.wraps(view)
        def limited(*args, **kwargs):
            self.check()
            return view(*args, **kwargs)

        return limited

    def _items(self, setting: str) -> tuple[RateLimitItem, ...]:
        items = self._parsed.get(setting)
        if items is None:
            items = self._parsed[setting] = tuple(parse_many(setting))
        return items

    def check(self) -> None:
        if not limiter.enabled or not current_app.config.get("RATELIMIT_ENABLED", True):
            return
        counted: list[tuple[RateLimitItem, tuple[str, ...], RequestLimit]] = []
        prefix = current_app.config.get("RATELIMIT_KEY_PREFIX") or ""
        method = request.method
        for limit in self.limits:
            if limit.methods is not None and method not in limit.methods:
                continue
            if limit.exempt_when is not None and limit.exempt_when():
                continue
            identifiers = (prefix, limit.key(), limit.scope) if prefix else (limit.key(), limit.scope)
            for item in self._items(current_app.config[limit.setting]):
                counted.append((item, identifiers, limit))
        if not counted:
            return
        # Flask-Limiter's order: the smallest limit first.
        counted.sort(key=lambda entry: entry[0])
        breached = self._count(counted)
        if breached is not None:
            item, identifiers, limit = counted[breached]
            log.info("ratelimit %s (%s) exceeded at %s", item, identifiers[-2], limit.scope)
            raise RateLimitExceeded(_Breached(item))  # type: ignore[arg-type]

    def _count(self, counted: list[tuple[RateLimitItem, tuple[str, ...], RequestLimit]]) -> int | None:
        storage = limiter.storage
        if isinstance(storage, RedisStorage) and time.monotonic() >= self._redis_down_until:
            try:
                script = self._script(storage)
                breached = int(script(
                    [storage.prefixed_key(item.key_for(*identifiers)) for item, identifiers, _limit in counted],
                    [value for item, _identifiers, _limit in counted for value in (item.get_expiry(), item.amount)],
                ))
                self._failures = 0
                return breached - 1 if breached else None
            except Exception:  # noqa: BLE001 - a Redis outage must not stop customers
                if not current_app.config.get("RATELIMIT_IN_MEMORY_FALLBACK_ENABLED"):
                    if current_app.config.get("RATELIMIT_SWALLOW_ERRORS"):
                        log.exception("Failed to rate limit. Swallowing error")
                        return None
                    raise
                with self._lock:
                    self._redis_down_until = time.monotonic() + min(2 ** self._failures, _MAX_BACKOFF_SECONDS)
                    self._failures += 1
                log.warning("Rate limit storage unreachable - counting in this process for now")
        strategy = self._fallback if isinstance(storage, RedisStorage) else limiter.limiter
        for index, (item, identifiers, _limit) in enumerate(counted):
            if not strategy.hit(item, *identifiers):
                return index
        return None

    def _script(self, storage: RedisStorage):
        script = self._scripts.get(id(storage))
        if script is None:
            script = self._scripts[id(storage)] = storage.get_connection().register_script(_COUNT_ALL)
        return script


@dataclass(frozen=True)
class WindowState:
    """One counted request against a fixed-window limit: what the RateLimit-* headers say."""

    limit: int
    remaining: int
    #: Seconds until the window starts over.
    reset_seconds: int
    window_seconds: int
    breached: bool


_key_fallback = FixedWindowRateLimiter(MemoryStorage())


def count_request(setting: str, scope: str, key: str) -> WindowState | None:
    """Count this request against the limit ``setting`` names (one limit, e.g. "600 per minute") for ``key``.

    None when rate limiting is off. The counters live where Flask-Limiter keeps its own (Redis with REDIS_URL);
    while Redis is away they count in this process, as the survey's do.
    """
    if not limiter.enabled or not current_app.config.get("RATELIMIT_ENABLED", True):
        return None
    from limits import parse

    item = parse(current_app.config[setting])
    prefix = current_app.config.get("RATELIMIT_KEY_PREFIX") or ""
    identifiers = (prefix, key, scope) if prefix else (key, scope)
    try:
        strategy = limiter.limiter
        allowed = strategy.hit(item, *identifiers)
        stats = strategy.get_window_stats(item, *identifiers)
    except Exception:  # noqa: BLE001 - a Redis outage must not stop the integrations
        log.warning("Rate limit storage unreachable - counting %s in this process for now", scope)
        allowed = _key_fallback.hit(item, *identifiers)
        stats = _key_fallback.get_window_stats(item, *identifiers)
    return WindowState(
        limit=item.amount, remaining=max(0, stats.remaining), reset_seconds=max(0, int(stats.reset_time - time.time() + 0.999)),
        window_seconds=item.get_expiry(), breached=not allowed,
    )
