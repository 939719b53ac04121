"""Checks on the SQL a roll-up sends: every subtree condition must be one an index can serve."""

import re

from django.db import connection
from django.test.utils import CaptureQueriesContext

# A LIKE whose pattern is not a literal or a parameter is built from another row's column:
# `path LIKE REPLACE(…outer.path…) || '%'` scans the whole table (NOTES.md, issue 10).
CORRELATED_LIKE = re.compile(r"LIKE\s+(?!%s|'|\$\d)", re.IGNORECASE)


def correlated_likes(run):
    """Run `run()` and return the SQL statements it sent that hold a correlated LIKE."""
    with CaptureQueriesContext(connection) as captured:
        run()
    return [query["sql"] for query in captured.captured_queries if CORRELATED_LIKE.search(query["sql"])]
