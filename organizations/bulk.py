"""Set-based writes with their operation log (issue 10): hand-written statements for the jobs
that write thousands of rows at once (issuing, the daily deadlines job, imports), and the history
rows of what they wrote in one INSERT … SELECT, as django-simple-history's bulk helpers would
write them one model instance at a time.

Every app's bulk writes go through `history_copy` (or `history_of`), passing the acting user,
so that a row written in bulk is on record like one saved by a form (tests/security/
test_history_of_writes.py lists these as history writers).
"""

from django.db import connection
from django.db.models import Lookup, Max
from django.utils import timezone

# Rows per statement where ids are listed: well under SQLite's 32,766 parameters.
ID_CHUNK = 1000
# Rows per statement where a column's values go as one array (PostgreSQL).
ARRAY_CHUNK = 10_000


def quoted(model, *names):
    """The quoted table and column names of a model's fields, for hand-written statements."""
    quote = connection.ops.quote_name
    return quote(model._meta.db_table), [quote(model._meta.get_field(name).column) for name in names]


def prepared(model, **values):
    """(quoted columns, parameters) of constant values for a model's fields, as the field
    itself would send them (dates, JSON and booleans differ between databases)."""
    fields = [model._meta.get_field(name) for name in values]
    columns = [connection.ops.quote_name(field.column) for field in fields]
    params = [field.get_db_prep_save(value, connection) for field, value in zip(fields, values.values(), strict=True)]
    return columns, params


def last_id(model):
    """The highest id so far: rows inserted after it in this transaction are the new ones
    (ids only grow), so that what was just inserted is selected back without holding its ids."""
    return model.objects.aggregate(last=Max("pk"))["last"] or 0


def history_copy(model, rows_sql, params, *, actor, reason, history_type="+"):
    """Write the history rows of the model's rows selected by `rows_sql` (a SELECT of their
    ids) in one INSERT … SELECT, as they are now: the operation log of bulk_create_with_history
    ("+") or bulk_history_create(update=True) ("~"), set-based. Returns how many were written."""
    historical = model.history.model
    own = [
        field.column
        for field in historical._meta.concrete_fields
        if field.name not in {"history_id", "history_date", "history_change_reason", "history_type", "history_user"}
    ]
    quote = connection.ops.quote_name
    extra, extra_params = prepared(
        historical,
        history_date=timezone.now(),
        history_change_reason=str(reason),
        history_type=history_type,
        history_user=actor.pk if actor else None,
    )
    columns = ", ".join([quote(name) for name in own] + extra)
    selected = ", ".join([f"r.{quote(name)}" for name in own] + ["%s"] * len(extra))
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {quote(historical._meta.db_table)} ({columns}) "
            f"SELECT {selected} FROM {quote(model._meta.db_table)} r WHERE r.id IN ({rows_sql})",
            extra_params + list(params),
        )
        return cursor.rowcount


def arrays():
    """Whether lists go to the database as one array parameter each (PostgreSQL): one
    parameter instead of one a value, which psycopg2 adapts in C and the server plans once.
    SQLite has no arrays; there the statements list their values."""
    return connection.vendor == "postgresql"


def array_type(field):
    """The PostgreSQL array type of a field's values: varchar[] for a CharField (no length, so
    that nothing is cut on the way in), bigint[] for a foreign key to a BigAutoField."""
    return field.db_type(connection).split("(")[0] + "[]"


class AnyOf(Lookup):
    """`field__any_of=values`: the rows whose field is one of the values, for the lookups an
    import makes a chunk of rows at a time. On PostgreSQL `field = ANY(%s)` with the values as one
    array parameter, which psycopg2 adapts in C and the server plans as one value (an IN list of
    2,000 values is 2,000 parameters to quote and plan); elsewhere an IN list as Django's `in`
    gives it. Registered on every field (OrganizationsConfig.ready); a foreign key by its
    column (`person_id__any_of=ids`)."""

    lookup_name = "any_of"
    prepare_rhs = False

    def get_prep_lookup(self):
        field = self.lhs.output_field
        return [field.get_prep_value(value) for value in self.rhs]

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        field = self.lhs.output_field
        values = [field.get_db_prep_value(value, connection, prepared=True) for value in self.rhs]
        if connection.vendor == "postgresql":
            return f"{lhs} = ANY(%s::{array_type(field)})", [*lhs_params, values]
        if not values:
            return "1 = 0", []
        return f"{lhs} IN ({', '.join(['%s'] * len(values))})", [*lhs_params, *values]


def id_list(model, ids):
    """(SQL selecting the given ids, its parameters): for history_copy."""
    if arrays():
        return f"SELECT unnest(%s::{array_type(model._meta.pk)})", [list(ids)]
    table = connection.ops.quote_name(model._meta.db_table)
    return f"SELECT id FROM {table} WHERE id IN ({', '.join(['%s'] * len(ids))})", list(ids)


def history_of(model, ids, *, actor, reason, history_type="+"):
    """history_copy for rows given by their ids, a chunk at a time (ARRAY_CHUNK ids as one
    array on PostgreSQL, ID_CHUNK listed on SQLite)."""
    ids = list(ids)
    size = ARRAY_CHUNK if arrays() else ID_CHUNK
    written = 0
    for start in range(0, len(ids), size):
        sql, params = id_list(model, ids[start : start + size])
        written += history_copy(model, sql, params, actor=actor, reason=reason, history_type=history_type)
    return written


def bulk_create_recorded(model, objects, *, actor, reason, batch_size=ID_CHUNK):
    """bulk_create the objects (their ids set, on PostgreSQL and SQLite alike) and write their
    history rows set-based: what bulk_create_with_history leaves, without building a history
    instance per row."""
    created = model.objects.bulk_create(objects, batch_size=batch_size)
    history_of(model, [instance.pk for instance in created], actor=actor, reason=reason)
    return created


def bulk_update_recorded(model, objects, fields, *, actor, reason, batch_size=ID_CHUNK):
    """bulk_update the objects' fields and write their history rows ("~") set-based."""
    model.objects.bulk_update(objects, fields, batch_size=batch_size)
    history_of(model, [instance.pk for instance in objects], actor=actor, reason=reason, history_type="~")


# Values that get_db_prep_save gives back as they are, by the internal type of a field (of the
# field a foreign key points to): text for text fields, whole numbers for integer fields.
UNCHANGED = {
    "CharField": str,
    "TextField": str,
    "AutoField": int,
    "BigAutoField": int,
    "IntegerField": int,
    "BigIntegerField": int,
    "PositiveIntegerField": int,
    "PositiveSmallIntegerField": int,
    "SmallIntegerField": int,
}


def _column(field, values):
    """A column's values as the field would send them: get_db_prep_save for each value, but for
    those it would give back unchanged (text, whole numbers), which pass as they are."""
    target = field.target_field if field.is_relation else field
    unchanged = UNCHANGED.get(target.get_internal_type())
    if unchanged is None:
        return [field.get_db_prep_save(value, connection) for value in values]
    return [
        value if value is None or type(value) is unchanged else field.get_db_prep_save(value, connection)
        for value in values
    ]


def insert_recorded(model, names, rows, *, actor, reason, batch_size=500):
    """Insert rows of plain values (one tuple per row, in the order of the field `names`; every
    other column takes its field's constant default) and write their history rows; returns the
    new ids in the order of the rows. For imports of many thousand rows: no model instance is
    built for a row or its history. On PostgreSQL one INSERT … SELECT FROM unnest(column arrays)
    per ARRAY_CHUNK rows (as Django's own bulk_create does there), elsewhere a multi-row INSERT
    per `batch_size` rows; both … RETURNING id, in the order of the rows."""
    quote = connection.ops.quote_name
    fields = [model._meta.get_field(name) for name in names]
    others = [field for field in model._meta.concrete_fields if not field.primary_key and field.name not in names]
    shared = [field.name for field in others if field.has_default() and callable(field.default)]
    assert not shared, f"name {shared} too: a callable default would give every row the same value"
    now = timezone.now()
    constants = [
        field.get_db_prep_save(
            now if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False) else field.get_default(),
            connection,
        )
        for field in others
    ]
    table, pk = quote(model._meta.db_table), quote(model._meta.pk.column)
    columns = ", ".join(quote(field.column) for field in [*fields, *others])
    rows = list(rows)
    ids = []
    if arrays():
        selected = ", ".join(
            [f"v.c{index}" for index in range(len(fields))] + [f"%s::{field.db_type(connection)}" for field in others]
        )
        unnest = ", ".join(f"%s::{array_type(field)}" for field in fields)
        names_of = ", ".join(f"c{index}" for index in range(len(fields)))
        sql = (
            f"INSERT INTO {table} ({columns}) SELECT {selected} "
            f"FROM unnest({unnest}) WITH ORDINALITY AS v({names_of}, n) ORDER BY v.n RETURNING {pk}"
        )
        for start in range(0, len(rows), ARRAY_CHUNK):
            chunk = rows[start : start + ARRAY_CHUNK]
            values = [_column(field, [row[index] for row in chunk]) for index, field in enumerate(fields)]
            with connection.cursor() as cursor:
                cursor.execute(sql, constants + values)
                ids.extend(row[0] for row in cursor.fetchall())
    else:
        row_marks = "(" + ", ".join(["%s"] * (len(fields) + len(others))) + ")"
        for start in range(0, len(rows), batch_size):
            chunk = rows[start : start + batch_size]
            values = [_column(field, [row[index] for row in chunk]) for index, field in enumerate(fields)]
            params = []
            for row in zip(*values, strict=True):
                params.extend(row)
                params.extend(constants)
            with connection.cursor() as cursor:
                cursor.execute(
                    f"INSERT INTO {table} ({columns}) VALUES {', '.join([row_marks] * len(chunk))} RETURNING {pk}",
                    params,
                )
                ids.extend(row[0] for row in cursor.fetchall())
    history_of(model, ids, actor=actor, reason=reason)
    return ids
