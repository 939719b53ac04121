"""Slowing down wrong ballot codes from one client without logging who votes. The client is a
keyed hash of its address and browser (so that phones behind one venue's Wi-Fi are told apart),
with a higher ceiling per address alone (so that changing the browser's name does not escape it);
both live only in the cache, for a short window."""

import hashlib
import hmac
import time

from django.conf import settings
from django.core.cache import cache

# An address alone (a venue's Wi-Fi, or one client posing as many browsers) may fail this many
# times more than one browser before it must wait.
ADDRESS_FACTOR = 10


def _key(kind, value):
    digest = hmac.new(settings.BALLOT_CODE_KEY.encode(), value.encode(), hashlib.sha256).hexdigest()[:32]
    return f"ballot-failures:{kind}:{digest}"


def _keys(request):
    address = request.META.get("REMOTE_ADDR", "")
    browser = request.META.get("HTTP_USER_AGENT", "")[:200]
    return [
        (_key("client", f"{address}|{browser}"), settings.BALLOT_CODE_FAILURES),
        (_key("address", address), settings.BALLOT_CODE_FAILURES * ADDRESS_FACTOR),
    ]


def _delay(failures, allowed):
    """After `allowed` wrong codes, 5 s before the next try, doubling each time."""
    over = failures - allowed
    return 0 if over < 0 else min(5 * 2**over, settings.BALLOT_CODE_WINDOW_SECONDS)


def wait_seconds(request, *, now=None):
    """0, or how many seconds this client must wait before trying another code."""
    now = time.time() if now is None else now
    waits = [0]
    for key, allowed in _keys(request):
        record = cache.get(key)
        if record:
            waits.append(int(record["at"] + _delay(record["failures"], allowed) - now + 0.999))
    return max(0, *waits)


def failure(request, *, now=None):
    now = time.time() if now is None else now
    for key, _allowed in _keys(request):
        record = cache.get(key) or {"failures": 0}
        cache.set(key, {"failures": record["failures"] + 1, "at": now}, timeout=settings.BALLOT_CODE_WINDOW_SECONDS)
