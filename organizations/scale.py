"""A province-sized year built in the database itself (`manage.py seed_scale`, issue 10).

Every table is filled by one INSERT … SELECT over generate_series or over rows inserted just
before, so that millions of rows take minutes and no Python loop runs per row. PostgreSQL only.

`insert_select` lists every concrete column of a model: the ones given as SQL expressions, the
rest from the field's default (or NULL), so that a field added later with a default does not
break the builder. History tables are not filled: the timelines of generated rows are empty.

Each app's `scale.py` has `build(spec, stdout)`; seed_scale calls them in INSTALLED_APPS order,
as seed_demo calls the demo builders.
"""

import json
from dataclasses import dataclass

from django.db import connection, models

PREFIX = "SC"  # every generated code starts with it: SCP (province), SCC01, SCX0001, SCT00001, SCV000001
# The codes have fixed widths, so a county's path is the first 19 characters of every path below
# it ("/SCP/SCC01/SCX0001/"): an equality join on the indexed path, no pattern.
COUNTY_PATH = len("/SCP/SCC01/SCX0001/")


@dataclass(frozen=True)
class Spec:
    cities: int
    counties: int
    towns: int
    villages: int

    @property
    def organizations(self):
        return 1 + self.cities + self.counties + self.towns + self.villages


SCALES = {
    # DESIGN.md's target: a province of 30,000 organizations.
    "province": Spec(cities=21, counties=120, towns=1600, villages=28000),
    "city": Spec(cities=1, counties=7, towns=95, villages=1660),
    # The size CI builds: one county of 20 towns.
    "county": Spec(cities=1, counties=1, towns=20, villages=280),
}


def insert_select(model, from_sql, params=(), **columns):
    """INSERT INTO model's table (every concrete column but the serial id) SELECT the given
    SQL expressions, or each other field's default, FROM `from_sql`. Returns the row count.
    Parameters (`params`) belong in `from_sql` only: the expressions come before it in the SQL."""
    names, values, arguments = [], [], []
    for field in model._meta.concrete_fields:
        if isinstance(field, models.AutoField):
            continue
        name = field.column
        key = field.attname if field.attname in columns else field.name
        if key in columns:
            values.append(columns.pop(key))
        elif getattr(field, "auto_now_add", False) or getattr(field, "auto_now", False):
            values.append("now()")
        elif field.has_default() or (field.blank and field.empty_strings_allowed and not field.null):
            default = field.get_default()
            values.append("%s")
            arguments.append(json.dumps(default) if isinstance(field, models.JSONField) else default)
        elif field.null:
            values.append("NULL")
        else:
            raise ValueError(f"{model.__name__}.{field.name} needs a value")
        names.append(connection.ops.quote_name(name))
    if columns:
        raise ValueError(f"{model.__name__} has no fields {sorted(columns)}")
    sql = f"INSERT INTO {model._meta.db_table} ({', '.join(names)}) SELECT {', '.join(values)} {from_sql}"
    with connection.cursor() as cursor:
        cursor.execute(sql, [*arguments, *params])
        return cursor.rowcount


def insert_users(from_sql, params=(), *, username, full_name):
    """Accounts without a usable password (`!`), each at the organization `o` of `from_sql`."""
    from .models import User

    return insert_select(
        User, from_sql, params, username=username, password="'!'", full_name=full_name, organization_id="o.id"
    )


def record_history(model, where, *, reason):
    """The operation log's creation row ("+", by no user, with the service's `reason`) of each
    row of `model` that `where` (SQL on its alias r) selects, written as issuing writes its rows'
    (organizations.bulk.history_copy): the timelines of the pages benchmarked then read the rows
    that a page of real data reads. Write `%` as `%%`."""
    from .bulk import history_copy

    table = connection.ops.quote_name(model._meta.db_table)
    return history_copy(model, f"SELECT r.id FROM {table} r WHERE {where}", [], actor=None, reason=reason)


def analyze(*models_):
    with connection.cursor() as cursor:
        for model in models_:
            cursor.execute(f"ANALYZE {model._meta.db_table}")


def province():
    from .models import Organization

    return Organization.objects.filter(code=f"{PREFIX}P").first()


def build(spec, stdout):
    """The tree (province → cities → counties → towns → villages, spread evenly), a user per
    organization (its secretary, no usable password), the roles and a staff account per county;
    returns the logins a benchmark uses."""
    from .models import Organization, OrganizationKind, PartyType, Person, PoliticalStatus, Post, RoleAssignment, User

    Organization.objects.create(
        code=f"{PREFIX}P",
        name="规模省",
        kind=OrganizationKind.PROVINCE,
        party_type=PartyType.COMMITTEE,
        path=f"/{PREFIX}P/",
    )
    # Each level: n rows spread over the level above in order (row k under parent ⌈k·p/n⌉).
    levels = [
        ("C", 2, spec.cities, "P", None, 1, "市", OrganizationKind.CITY),
        ("X", 4, spec.counties, "C", 2, spec.cities, "县", OrganizationKind.COUNTY),
        ("T", 5, spec.towns, "X", 4, spec.counties, "镇", OrganizationKind.TOWN),
        ("V", 6, spec.villages, "T", 5, spec.towns, "村", OrganizationKind.VILLAGE),
    ]
    for letter, width, count, parent_letter, parent_width, parents, suffix, kind in levels:
        parent_code = (
            f"'{PREFIX}P'"
            if parent_width is None
            else f"'{PREFIX}{parent_letter}' || lpad((((n - 1) * {parents}) / {count} + 1)::text, {parent_width}, '0')"
        )
        party_type = PartyType.BRANCH if kind == OrganizationKind.VILLAGE else PartyType.COMMITTEE
        insert_select(
            Organization,
            f"""FROM generate_series(1, %s) AS n
                JOIN organizations_organization parent ON parent.code = {parent_code}""",
            [count],
            code=f"'{PREFIX}{letter}' || lpad(n::text, {width}, '0')",
            name=f"'规模' || n || '{suffix}'",
            kind=f"'{kind}'",
            party_type=f"'{party_type}'",
            parent_id="parent.id",
            path=f"parent.path || '{PREFIX}{letter}' || lpad(n::text, {width}, '0') || '/'",
        )
    analyze(Organization)
    # One account per organization, its secretary; staff for each county and city; an admin.
    insert_users(
        f"FROM organizations_organization o WHERE o.code LIKE '{PREFIX}%%'",
        username="'scale-' || lower(o.code)",
        full_name="'书记' || o.code",
    )
    insert_users(
        f"FROM organizations_organization o "
        f"WHERE o.code LIKE '{PREFIX}%%' AND o.kind IN ('province', 'city', 'county')",
        username="'scale-staff-' || lower(o.code)",
        full_name="'干事' || o.code",
    )
    analyze(User)
    insert_select(
        Person,
        "FROM organizations_user u JOIN organizations_organization o ON o.id = u.organization_id "
        "WHERE u.username LIKE 'scale-%%'",
        name="u.full_name",
        political_status=f"'{PoliticalStatus.PARTY_MEMBER}'",
        organization_id="o.id",
        user_id="u.id",
    )
    insert_select(
        Post,
        "FROM organizations_person p JOIN organizations_user u ON u.id = p.user_id "
        "WHERE u.username LIKE 'scale-%%' AND u.username NOT LIKE 'scale-staff-%%'",
        person_id="p.id",
        organization_id="p.organization_id",
        title="'secretary'",
        start_date="make_date(extract(year FROM now())::int - 2, 1, 1)",
    )
    insert_select(
        RoleAssignment,
        "FROM organizations_user u JOIN organizations_organization o ON o.id = u.organization_id "
        "WHERE u.username LIKE 'scale-%%'",
        user_id="u.id",
        organization_id="o.id",
        role="CASE WHEN u.username LIKE 'scale-staff-%%' THEN 'staff' ELSE 'secretary' END",
    )
    scale_rows = f"r.organization_id IN (SELECT id FROM organizations_organization WHERE code LIKE '{PREFIX}%%')"
    record_history(Organization, f"r.code LIKE '{PREFIX}%%'", reason="created")
    record_history(Person, scale_rows, reason="created")
    record_history(Post, scale_rows, reason="appointed")
    record_history(RoleAssignment, scale_rows, reason="role assigned")
    analyze(
        Person, Post, RoleAssignment, *(model.history.model for model in (Organization, Person, Post, RoleAssignment))
    )
    accounts = User.objects.filter(username__startswith="scale-").count()
    stdout.write(f"  组织 {spec.organizations:,} 个，账号 {accounts:,} 个")
