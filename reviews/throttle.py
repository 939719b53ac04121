"""Slowing down wrong ballot codes from one client without logging who votes: the client is a
keyed hash of its address and browser, kept only in the cache for a short window."""

import hashlib
import hmac
import time

from django.conf import settings
from django.core.cache import cache


def _client_key(request):
    client = f"{request.META.get('REMOTE_ADDR', '')}|{request.META.get('HTTP_USER_AGENT', '')[:200]}"
    digest = hmac.new(settings.BALLOT_CODE_KEY.encode(), client.encode(), hashlib.sha256).hexdigest()[:32]
    return f"ballot-failures:{digest}"


def _delay(failures):
    """After BALLOT_CODE_FAILURES wrong codes, 5 s before the next try, doubling each time."""
    over = failures - settings.BALLOT_CODE_FAILURES
    return 0 if over < 0 else min(5 * 2**over, settings.BALLOT_CODE_WINDOW_SECONDS)


def wait_seconds(request, *, now=None):
    """0, or how many seconds this client must wait before trying another code."""
    record = cache.get(_client_key(request))
    if not record:
        return 0
    now = time.time() if now is None else now
    return max(0, int(record["at"] + _delay(record["failures"]) - now + 0.999))


def failure(request, *, now=None):
    key = _client_key(request)
    record = cache.get(key) or {"failures": 0}
    record = {"failures": record["failures"] + 1, "at": time.time() if now is None else now}
    cache.set(key, record, timeout=settings.BALLOT_CODE_WINDOW_SECONDS)
