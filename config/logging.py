"""Log filters."""

import logging


class BallotPathFilter(logging.Filter):
    """Drop every request-log line about /vote/: a ballot leaves no time, address or trace."""

    def filter(self, record):
        request = getattr(record, "request", None)
        path = getattr(request, "path", "") or ""
        if not path and record.args and isinstance(record.args, tuple):
            path = " ".join(str(arg) for arg in record.args[:1])
        return "/vote/" not in path and "/vote/" not in str(record.msg)
