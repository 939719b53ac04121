"""One-time ballot codes (DESIGN.md 6): 80 random bits from `secrets`, written in Crockford's
base-32 alphabet (no I, L, O or U, so that nothing can be misread; a typed O counts as 0 and
I or L as 1), and stored only as a keyed hash (HMAC-SHA256 with BALLOT_CODE_KEY)."""

import hashlib
import hmac
import secrets

from django.conf import settings

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # 32 symbols: 5 bits each
LENGTH = 16  # 80 bits
GROUP = 4
MISREAD = str.maketrans({"O": "0", "I": "1", "L": "1"})


def code_new():
    raw = "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))
    return "-".join(raw[i : i + GROUP] for i in range(0, LENGTH, GROUP))


def code_normalize(text):
    """What the rater typed or scanned, as the canonical code; "" when it cannot be one."""
    cleaned = "".join(char for char in (text or "").upper() if char.isalnum()).translate(MISREAD)
    if len(cleaned) != LENGTH or any(char not in ALPHABET for char in cleaned):
        return ""
    return cleaned


def code_digest(text):
    """The keyed hash under which a code is stored; the code itself is never kept."""
    key = settings.BALLOT_CODE_KEY.encode()
    return hmac.new(key, code_normalize(text).encode(), hashlib.sha256).hexdigest()
