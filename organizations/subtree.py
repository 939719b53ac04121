"""Subtree conditions that an index can serve, and roll-ups by child organization.

A subtree is a constant prefix of the materialized path (`path LIKE '/440800/440883/%'`),
which the varchar_pattern_ops index serves on PostgreSQL. A pattern built from another row
(`path LIKE outer.path || '%'`) cannot use any index: each such subquery scans the whole
table (NOTES.md, issue 10). So a roll-up "per child of O" filters once by O's constant
prefix and groups on the child's path segment, computed from each row's own path.

Every roll-up of the project goes through `within` and `rollup_by_child`.
"""

from django.db import connection
from django.db.models import F, Q, Value
from django.db.models.functions import StrIndex, Substr


def _path_of(organization_or_path):
    return organization_or_path if isinstance(organization_or_path, str) else organization_or_path.path


def within(organization_or_path, *, through="", strict=False):
    """Q for rows whose organization (reached through `through`, e.g. "organization__") lies in
    the subtree of the given organization; strict leaves the organization itself out."""
    path = _path_of(organization_or_path)
    condition = Q(**{f"{through}path__startswith": path})
    if strict:
        condition &= ~Q(**{f"{through}path": path})
    return condition


def keyed_to_any(model, organizations, *fields):
    """Q for rows of `model` whose organization through any of these foreign keys (e.g.
    "organization", "responsible_unit") is one of `organizations` (a queryset): the row's id IN
    a UNION of one semi-join a key. Each branch is planned with its own estimate and served by
    the key's index. The keys' IN subqueries OR-ed together became hashed subplans: PostgreSQL
    then scanned the whole table, guessed that half of it matched (4,050 problems of 7,200 for
    the 63 of a county) and joined that guess to every organization of the database for the
    page's related rows (NOTES.md, issue 10)."""
    branches = [
        model._base_manager.filter(**{f"{field}__in": organizations}).values("pk").order_by() for field in fields
    ]
    return Q(pk__in=branches[0].union(*branches[1:]))


def within_either(model, organization_or_path, *fields):
    """Q for rows of `model` whose organization through any of these foreign keys lies in the
    subtree (keyed_to_any on the constant prefix, which the path index serves)."""
    from .models import Organization

    return keyed_to_any(model, Organization.objects.filter(within(organization_or_path)).values("pk"), *fields)


def child_code(organization_or_path, *, through=""):
    """The code of the child of the given organization on the way down to each row's
    organization ("" for the organization itself): the path segment after its prefix."""
    start = len(_path_of(organization_or_path)) + 1
    rest = Substr(F(f"{through}path"), start)
    return Substr(rest, 1, StrIndex(rest, Value("/")) - 1)


def rollup_query(queryset, organization, *, through="", **aggregates):
    """The grouped queryset of rollup_by_child: rows of _child and the aggregates."""
    return (
        queryset.filter(within(organization, through=through, strict=True))
        .annotate(_child=child_code(organization, through=through))
        .values("_child")
        .annotate(**aggregates)
        .order_by()
    )


def rollup_by_child(queryset, organization, *, through="", **aggregates):
    """{child code: {aggregate name: value}} over the strict subtree of `organization`: one
    grouped query whatever the number of children. Children with no rows are absent."""
    rows = rollup_query(queryset, organization, through=through, **aggregates)
    return {row.pop("_child"): row for row in rows}


def children_rolled_up(organization, user, queryset, *, through="", **aggregates):
    """The children of `organization` that the user may view, in code order, each carrying
    the aggregates over its whole subtree (0 for a child with no rows): ONE statement, the
    child list, the user's scope (permissions.viewable_children_sql) and the grouped roll-up
    on the constant prefix together, for the pages that show a roll-up by child."""
    from .models import Organization
    from .permissions import viewable_children_sql

    rollup_sql, rollup_params = rollup_query(
        queryset, organization, through=through, **aggregates
    ).query.sql_with_params()
    scope_sql, scope_params = viewable_children_sql(user, organization, alias="o")
    quote = connection.ops.quote_name
    values = ", ".join(f"COALESCE(r.{quote(name)}, 0) AS {quote(name)}" for name in aggregates)
    children = list(
        Organization.objects.raw(
            f"SELECT o.*, {values} FROM {quote(Organization._meta.db_table)} o "
            f"LEFT JOIN ({rollup_sql}) r ON r.{quote('_child')} = o.code "
            f"WHERE o.parent_id = %s AND {scope_sql} ORDER BY o.code",
            [*rollup_params, organization.pk, *scope_params],
        )
    )
    for child in children:
        child.parent = organization  # for name_with_town, without a query
    return children


def children_with_rollup(children, rollup, defaults):
    """The child organizations in order, each carrying its roll-up values (the defaults, e.g.
    zeros, for a child with no rows), so that no child is silently left out."""
    children = list(children)
    for child in children:
        values = rollup.get(child.code, {})
        for name, default in defaults.items():
            setattr(child, name, values.get(name) or default)
    return children
