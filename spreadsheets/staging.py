"""Bounded memory for imports (issue 10): what a sheet's checks must remember across rows lives
in a temporary table, and the writes a plan holds for later in a temporary file, so that the
memory an import needs does not grow with its rows.

- `SeenKeys`: the keys seen so far in a sheet (a code, a person, a post), each with the first row
  that gave it and a small JSON payload; looked up and added a chunk of rows at a time.
- `Spool`: records appended chunk by chunk and read back in the same chunks, pickled to a
  temporary file.
"""

import itertools
import json
import pickle
import tempfile

from django.db import DatabaseError, connection

from organizations.bulk import ARRAY_CHUNK, arrays

_tables = itertools.count(1)


# One encoder for every key and payload: json.dumps with options builds a new encoder each call.
_encode = json.JSONEncoder(ensure_ascii=False, default=str).encode


class SeenKeys:
    """A temporary table of (kind, key) → (first row, payload), in the import's transaction.

    Use as a context manager; the table goes when it ends (or with the transaction's rollback).
    """

    def __init__(self):
        self.table = f"spreadsheet_seen_{next(_tables)}"

    def __enter__(self):
        with connection.cursor() as cursor:
            cursor.execute(
                f"CREATE TEMPORARY TABLE {self.table} ("
                "kind VARCHAR(32) NOT NULL, key TEXT NOT NULL, row_number INTEGER NOT NULL, payload TEXT NOT NULL, "
                "PRIMARY KEY (kind, key))"
            )
        return self

    def __exit__(self, *exc_info):
        if connection.needs_rollback:
            return  # the rollback takes the table with it
        try:
            with connection.cursor() as cursor:
                cursor.execute(f"DROP TABLE IF EXISTS {self.table}")
        except DatabaseError:
            if exc_info[0] is None:
                raise  # else the transaction failed already, and its rollback takes the table

    def get_many(self, kind, keys):
        """{key: (row number, payload)} for the keys already added."""
        encoded = {_encode(key): key for key in keys}
        found = {}
        items = list(encoded)
        # PostgreSQL takes the keys as one array; SQLite lists them, 1,000 at a time.
        size = ARRAY_CHUNK if arrays() else 1000
        for start in range(0, len(items), size):
            chunk = items[start : start + size]
            if arrays():
                # A key at a time through the primary key, whatever the planner makes of a table
                # no autovacuum sees (LIMIT 1 keeps the subquery from being turned into a join):
                # `key = ANY(keys)` was planned as a scan of every key of the kind, 18 ms a chunk
                # at 100,000 rows and growing with the rows.
                sql = (
                    f"SELECT k.key, s.row_number, s.payload FROM unnest(%s::text[]) AS k(key) "
                    f"CROSS JOIN LATERAL (SELECT row_number, payload FROM {self.table} "
                    f"WHERE kind = %s AND key = k.key LIMIT 1) AS s"
                )
                params = [chunk, kind]
            else:
                sql = (
                    f"SELECT key, row_number, payload FROM {self.table} "
                    f"WHERE kind = %s AND key IN ({', '.join(['%s'] * len(chunk))})"
                )
                params = [kind, *chunk]
            with connection.cursor() as cursor:
                cursor.execute(sql, params)
                for key, number, payload in cursor.fetchall():
                    found[encoded[key]] = (number, json.loads(payload))
        return found

    def add_many(self, kind, items):
        """Add [(key, row number, payload)]; each key once."""
        if not items:
            return
        rows = [(_encode(key), number, _encode(payload)) for key, number, payload in items]
        if arrays():
            for start in range(0, len(rows), ARRAY_CHUNK):
                keys, numbers, payloads = map(list, zip(*rows[start : start + ARRAY_CHUNK], strict=True))
                with connection.cursor() as cursor:
                    cursor.execute(
                        f"INSERT INTO {self.table} (kind, key, row_number, payload) "
                        "SELECT %s, * FROM unnest(%s::text[], %s::integer[], %s::text[])",
                        [kind, keys, numbers, payloads],
                    )
            return
        # One multi-row INSERT per 1,000 keys (4,000 parameters, well under SQLite's 32,766):
        # psycopg2's executemany would send one statement a row.
        for start in range(0, len(rows), 1000):
            chunk = rows[start : start + 1000]
            params = []
            for row in chunk:
                params += [kind, *row]
            with connection.cursor() as cursor:
                cursor.execute(
                    f"INSERT INTO {self.table} (kind, key, row_number, payload) VALUES "
                    + ", ".join(["(%s, %s, %s, %s)"] * len(chunk)),
                    params,
                )


class Spool:
    """Chunks of records written to a temporary file and read back in order."""

    def __init__(self):
        self.file = tempfile.TemporaryFile()  # noqa: SIM115 - open until the plan is applied or dropped
        self.chunks = 0
        self.records = 0

    def append(self, records):
        if records:
            pickle.dump(records, self.file, protocol=pickle.HIGHEST_PROTOCOL)
            self.chunks += 1
            self.records += len(records)

    def __len__(self):
        return self.records

    def __iter__(self):
        """The chunks, as appended."""
        self.file.seek(0)
        for _chunk in range(self.chunks):
            yield pickle.load(self.file)
        self.file.seek(0, 2)

    def close(self):
        self.file.close()
