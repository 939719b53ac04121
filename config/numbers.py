"""Numbers as people write them."""

from decimal import Decimal


def plain(value):
    """A Decimal without trailing zeros and never in exponent form: 60.00 → "60", 12.50 → "12.5"
    (Decimal.normalize alone gives "6E+1")."""
    return format(Decimal(value).normalize(), "f")
