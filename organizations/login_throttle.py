"""Login throttling (issue 13): wrong passwords are counted per account and per client in the
cache (Redis in production, so that the count holds across gunicorn workers), over a fixed window
from the first failure. Past the limit every login of that account, or from that client, is
refused, the right password too, until the window ends or an administrator unlocks the account
(organizations.services.account_unlock). The cache keys are keyed hashes: no names or addresses
are kept there."""

import hashlib
import hmac
import math
import time

from django.conf import settings
from django.contrib.auth.backends import ModelBackend
from django.core.cache import cache


def client_address(request):
    """The client's address: REMOTE_ADDR, or the header a trusted proxy sets (CLIENT_ADDRESS_HEADER)."""
    if request is None:
        return ""
    value = request.META.get(settings.CLIENT_ADDRESS_HEADER) or request.META.get("REMOTE_ADDR", "")
    return value.split(",")[0].strip()


def _key(kind, value):
    digest = hmac.new(settings.SECRET_KEY.encode(), f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()[:32]
    return f"login-failures:{kind}:{digest}"


def _account_key(username):
    return _key("account", (username or "").strip().casefold())


def _keys(request, username):
    return [
        (_account_key(username), settings.LOGIN_FAILURES_PER_ACCOUNT),
        (_key("client", client_address(request)), settings.LOGIN_FAILURES_PER_CLIENT),
    ]


def wait_minutes(request, username, *, now=None):
    """0, or how many minutes (rounded up) before this account or client may try again."""
    now = time.time() if now is None else now
    waits = [0]
    for key, allowed in _keys(request, username):
        if (cache.get(key) or 0) >= allowed:
            since = cache.get(f"{key}:since") or now
            waits.append(max(1, math.ceil((since + settings.LOGIN_FAILURE_WINDOW_SECONDS - now) / 60)))
    return max(waits)


def failure(request, username):
    """Count one wrong password for the account and the client (atomic in the cache)."""
    window = settings.LOGIN_FAILURE_WINDOW_SECONDS
    for key, _allowed in _keys(request, username):
        if cache.add(key, 0, timeout=window):
            cache.set(f"{key}:since", time.time(), timeout=window)
        try:
            cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.set(key, 1, timeout=window)


def account_clear(username):
    """Forget the account's failures (a successful login, or an administrator's unlock)."""
    key = _account_key(username)
    cache.delete_many([key, f"{key}:since"])


def client_clear(address):
    key = _key("client", address)
    cache.delete_many([key, f"{key}:since"])


def account_locked(username):
    return (cache.get(_account_key(username)) or 0) >= settings.LOGIN_FAILURES_PER_ACCOUNT


class ThrottledModelBackend(ModelBackend):
    """Django's backend, refusing while the account or client is locked, whatever the login
    page (the platform's, the admin's): a right password then logs in no one."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if username is None:
            username = kwargs.get(self.UserModel.USERNAME_FIELD)
        if request is not None and wait_minutes(request, username):
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)


def on_login_failed(sender, credentials, request=None, **kwargs):
    if request is not None:
        failure(request, credentials.get("username", ""))


def on_logged_in(sender, request, user, **kwargs):
    account_clear(user.get_username())
