"""Every read a view or task needs from the spine, scoped to what the user may see."""

import functools

from django.db import connection
from django.db.models import Case, Count, Exists, IntegerField, OuterRef, Q, Subquery, Value, When
from django.forms.models import model_to_dict
from django.utils import timezone
from django.utils.translation import gettext
from simple_history.utils import get_m2m_reverse_field_name

from . import login_throttle
from .listing import count_of
from .models import Organization, Pairing, PairingReport, Person, Post, PostTitle, RoleAssignment, User
from .permissions import Action, has_permission, organizations_where, viewed_tops


def organizations_visible(user):
    """The one scoping selector: every organization the user may see (DESIGN.md 2)."""
    return organizations_where(user, Action.VIEW)


def organization_get_visible(user, code):
    """The organization with this code if the user may see it, else None: read by its code and
    checked against the roles the request has read (has_permission), without the scope's
    condition to compile into the statement."""
    organization = Organization.objects.filter(code=code).first()
    if organization is None or not has_permission(user, Action.VIEW, organization):
        return None
    return organization


def organization_roots(user):
    """The top-most organizations the user sees: visible ones whose parent is not visible
    (worked out from the roles a request has read, else by the database)."""
    tops = viewed_tops(user)
    if tops is None:
        visible = organizations_visible(user)
        return _with_child_counts(visible.exclude(parent__in=visible.values("pk")).select_related("parent"))
    return _with_child_counts(Organization.objects.filter(pk__in=tops).select_related("parent"))


def organization_children(user, organization, *, visible=None):
    """The children the user sees (`visible`: organizations_visible(user), when already had)."""
    visible = organizations_visible(user) if visible is None else visible
    return _with_child_counts(visible.filter(parent=organization))


def _with_child_counts(queryset):
    return queryset.annotate(child_count=Count("children", distinct=True)).order_by("code")


def organization_search(user, query, *, limit=30):
    return organizations_matching(user, query)[:limit]


def organizations_matching(user, query):
    """Organizations of the user's area whose name holds the words or whose code begins with
    them, in tree order, each with its parents loaded (named with its town)."""
    query = query.strip()
    if not query:
        return Organization.objects.none()
    return (
        organizations_visible(user)
        .filter(Q(name__contains=query) | Q(code__startswith=query))
        .select_related("parent__parent")
        .order_by("path")
    )


def people_matching(user, query):
    """People of organizations in the user's area by name (phones are shown masked)."""
    query = query.strip()
    if not query:
        return Person.objects.none()
    return (
        Person.objects.filter(organization__in=organizations_visible(user), name__contains=query)
        .select_related("organization__parent__parent")
        .order_by("name", "organization__path", "pk")
    )


def organization_ancestors(organization, user):
    """The organization's ancestors, root first, each marked `reachable` when the user may open
    it: a county's staff see 湛江市 in the breadcrumbs, but not as a link to a page they cannot read.
    Reachable is has_permission(VIEW), from the role paths the request has read: no subquery."""
    ancestors = list(Organization.objects.ancestors(organization))
    for ancestor in ancestors:
        ancestor.reachable = has_permission(user, Action.VIEW, ancestor)
    return ancestors


def posts_current(organization, *, on=None):
    """Current posts, in the order of PostTitle (书记 first), then by name."""
    on = on or timezone.localdate()
    rank = Case(*[When(title=title, then=Value(i)) for i, title in enumerate(PostTitle)], output_field=IntegerField())
    return (
        Post.objects.current(on)
        .filter(organization=organization)
        .select_related("person")
        .annotate(rank=rank)
        .order_by("rank", "person__name")
    )


def people_at(organization):
    return Person.objects.filter(organization=organization).order_by("name")


def pairings_of(organization, *, year=None):
    """Pairings in which the organization is the village or the paired unit, newest first, each
    with its report_count: counted in a subquery, since a GROUP BY over the six tables joined
    for the names cost PostgreSQL 2 ms of planning on every organization page (1.4 ms so)."""
    pairings = Pairing.objects.filter(Q(village=organization) | Q(unit=organization))
    if year:
        pairings = pairings.filter(year=year)
    return pairings.select_related("village__parent__parent", "unit", "leader", "responsible").annotate(
        report_count=count_of(PairingReport.objects.all(), "pairing")
    )


def pairing_may_report(user, pairing):
    """The paired side reports: the responsible person or the leader (through their accounts),
    or anyone holding a role at the paired unit."""
    if pairing.responsible.user_id == user.pk or (pairing.leader and pairing.leader.user_id == user.pk):
        return True
    if pairing.unit is None:
        return False
    return RoleAssignment.objects.filter(user=user, organization=pairing.unit).exists()


def pairing_reports(pairing):
    return PairingReport.objects.filter(pairing=pairing).select_related("reported_by")


def role_assignments_at(organization):
    return RoleAssignment.objects.filter(organization=organization).select_related("user")


def user_role_assignments(user):
    return (
        RoleAssignment.objects.filter(user=user)
        .select_related("organization__parent__parent")
        .order_by("organization__path", "role")
    )


def organization_timeline(organization, *, limit=30):
    """Who did what, when, to the organization and its people, posts, roles and pairings:
    the newest history rows of each, merged newest first."""
    return history_timeline(
        [
            history_rows(Organization).filter(id=organization.pk),
            history_rows(Person).filter(organization_id=organization.pk),
            history_rows(Post).filter(organization_id=organization.pk),
            history_rows(RoleAssignment).filter(organization_id=organization.pk),
            history_rows(Pairing).filter(Q(village_id=organization.pk) | Q(unit_id=organization.pk)),
        ],
        limit=limit,
    )


@functools.cache
def _historical_model(model):
    return model.history.model


def history_rows(model):
    """The history rows of `model`, for a timeline's streams: `Model.history` builds a new
    manager class on every access (simple-history's descriptor, through inspect.getmembers),
    250 µs against 50 for the historical model's own manager, five times a timeline."""
    return _historical_model(model)._default_manager.all()


def history_timeline(streams, *, limit=30, known=()):
    """The operation log as "who did what, when": the newest history rows of several
    querysets of historical records, merged newest first. Other apps build their timelines
    (checklists, items, entries, problems) with it. A fixed number of queries whatever the
    rows: each changed row's previous record and the many-to-many rows both are compared on
    are loaded for all rows of a model at once (simple-history's prev_record and diff_against
    ask them per row). `known`: records the page already holds, with what their own names read
    (loaded_with), used for the names instead of being read again."""
    rows = _newest_rows(streams, limit)
    instances = [row.instance for row in rows]  # each access builds a new instance
    _load_related(instances, known)
    changed = _changed_fields(rows)
    return [_timeline_entry(row, instance, changed) for row, instance in zip(rows, instances, strict=True)]


def _newest_rows(streams, limit):
    """The newest `limit` history rows of the streams, newest first (on the same date, the
    earlier stream first), with their users. Which rows they are comes from one statement over
    all the streams, of two columns each, and each stream that has one of them is then read
    for those rows only: a stream with none costs nothing more (before, each stream's newest
    rows were read in full, the history table's 30 columns and the user compiled for each)."""
    if len(streams) == 1:
        return list(streams[0].select_related("history_user").order_by("-history_date", "-history_id")[:limit])
    keys = []
    for index, stream in enumerate(streams):
        key = stream.order_by().annotate(_stream=Value(index, output_field=IntegerField()))
        key = key.values_list("history_date", "_stream", "history_id")
        if connection.features.supports_slicing_ordering_in_compound:  # each branch stops at `limit`
            key = key.order_by("-history_date", "-history_id")[:limit]
        keys.append(key)
    newest = list(keys[0].union(*keys[1:], all=True).order_by("-history_date", "_stream", "-history_id")[:limit])
    wanted = {}
    for _date, index, history_id in newest:
        wanted.setdefault(index, []).append(history_id)
    loaded = {
        (index, row.history_id): row
        for index, ids in wanted.items()
        for row in streams[index].filter(history_id__in=ids).select_related("history_user").order_by()
    }
    return [loaded[(index, history_id)] for _date, index, history_id in newest]


def _previous_rows(model, rows):
    """{history_id: the object's history row just before it} for the rows (prev_record's: the
    object's last row before it, the later history_id first on the same date), in one query:
    the rows that are the previous of one of them; each row then takes the latest of those
    before it. Asked only for the models whose rows record a change, so that a stream's own
    statement carries no subquery to compile (a timeline reads five or more streams)."""
    manager = model._default_manager
    earlier = manager.filter(id=OuterRef("id"), history_date__lt=OuterRef("history_date"))
    previous_ids = (
        manager.filter(history_id__in=[row.history_id for row in rows])
        .annotate(
            previous_history_id=Subquery(earlier.order_by("-history_date", "-history_id").values("history_id")[:1])
        )
        .values("previous_history_id")
    )
    of_object = {}
    for candidate in manager.filter(history_id__in=previous_ids):
        of_object.setdefault(candidate.id, []).append(candidate)
    previous = {}
    for row in rows:
        before = [candidate for candidate in of_object.get(row.id, []) if candidate.history_date < row.history_date]
        if before:
            previous[row.history_id] = max(before, key=lambda candidate: (candidate.history_date, candidate.history_id))
    return previous


def _changed_fields(rows):
    """{(historical model, history_id): names of the fields that a "~" row changed against the
    previous one (each historical table numbers its rows), as diff_against finds them (the
    editable tracked fields and the many-to-many ones), in one query per historical model and
    many-to-many field."""
    by_model = {}
    for row in rows:
        if row.history_type == "~":
            by_model.setdefault(type(row), []).append(row)
    changed = {}
    for model, changed_rows in by_model.items():
        previous = _previous_rows(model, changed_rows)
        changed_rows = [row for row in changed_rows if row.history_id in previous]
        if not changed_rows:
            continue
        for row in changed_rows:
            row.previous_history_id = previous[row.history_id].history_id
        m2m = {field.name: _m2m_rows(model, field, changed_rows) for field in model._history_m2m_fields}
        for row in changed_rows:
            before = previous[row.history_id]
            fields = {field.name for field in before.tracked_fields if field.editable} - set(m2m)
            old, new = model_to_dict(before, fields=fields), model_to_dict(row, fields=fields)
            names = [name for name in fields if old[name] != new[name]]
            names += [
                name
                for name, lines in m2m.items()
                if lines.get(row.previous_history_id, []) != lines.get(row.history_id, [])
            ]
            changed[(model, row.history_id)] = sorted(names)
    return changed


def _m2m_rows(model, field, rows):
    """{history_id: the many-to-many rows recorded with it}, for the rows and their previous ones."""
    through = getattr(rows[0], field.name).model
    columns = [
        column.name
        for column in through._meta.fields
        if column.editable and column.name not in ["id", "m2m_history_id", "history"]
    ]
    order = get_m2m_reverse_field_name(model.instance_type._meta.get_field(field.name))
    ids = {row.history_id for row in rows} | {row.previous_history_id for row in rows}
    lines = {}
    for line in through._default_manager.filter(history_id__in=ids).order_by(order).values("history_id", *columns):
        lines.setdefault(line.pop("history_id"), []).append(line)
    return lines


def loaded_with(instance, *relations):
    """The instance and those of its related records (by field name) that are already loaded
    with it: what a page can give history_timeline as `known`."""
    held = [instance]
    for name in relations:
        field = instance._meta.get_field(name)
        if field.is_cached(instance) and getattr(instance, name) is not None:
            held.append(getattr(instance, name))
    return held


def _load_related(instances, known=()):
    """Load what the records' names need in one query per related model, organizations with
    their parents: a timeline names 高岭村（梅录街道）, not 高岭村 (issue 11 point 12), without a
    query per row and level. A `known` record is taken as it is where what its name reads is
    loaded with it (_names_loaded), and read like the others where not."""
    held = {(type(record), record.pk): record for record in known if _names_loaded(record)}
    wanted = {}
    for instance in instances:
        for field in _name_fields(type(instance)):
            value = getattr(instance, field.attname)
            if value is not None and (field.related_model, value) not in held:
                wanted.setdefault(field.related_model, set()).add(value)
    loaded = {model: _related_objects(model, ids) for model, ids in wanted.items()}
    for (model, pk), record in held.items():
        loaded.setdefault(model, {})[pk] = record
    for instance in instances:
        for field in _name_fields(type(instance)):
            related = loaded.get(field.related_model, {}).get(getattr(instance, field.attname))
            if related is not None:
                field.set_cached_value(instance, related)


def _names_loaded(record):
    """Whether a record's name (and, for an organization, name_with_town, down to the depth of
    `parent__parent`) can be written without a query."""
    if isinstance(record, Organization):
        parent_field = Organization._meta.get_field("parent")
        if record.parent_id is None:
            return True
        if not parent_field.is_cached(record):
            return False
        return record.parent.parent_id is None or parent_field.is_cached(record.parent)
    return all(
        getattr(record, field.attname) is None
        or (field.is_cached(record) and _names_loaded(getattr(record, field.name)))
        for field in _name_fields(type(record))
    )


def _name_fields(model):
    """The foreign and one-to-one keys that the model's name (__str__) reads: those that its
    `name_relations` lists where it says (a checklist item's name is its code and title, yet
    its checklist and template item were read for it), else every one."""
    fields = [field for field in model._meta.concrete_fields if field.many_to_one or field.one_to_one]
    names = getattr(model, "name_relations", None)
    return fields if names is None else [field for field in fields if field.name in names]


def _related_objects(model, ids):
    if model is Organization:
        return Organization.objects.select_related("parent__parent").order_by().in_bulk(ids)
    paths = [
        f"{field.name}__parent__parent" if field.related_model is Organization else field.name
        for field in _name_fields(model)
    ]
    return model._default_manager.select_related(*paths).order_by().in_bulk(ids)


def _timeline_entry(row, instance, changed):
    changed = changed.get((type(row), row.history_id), [])
    return {
        "at": row.history_date,
        "user": row.history_user,
        "type": row.history_type,
        "object": instance,
        "model": instance._meta.verbose_name,
        # Reasons are written in the writer's language (a job or a command may have had none):
        # shown in the reader's, the stored text being the msgid of a translated verb.
        "reason": gettext(row.history_change_reason) if row.history_change_reason else "",
        "changed": [instance._meta.get_field(name).verbose_name for name in changed],
    }


# --- accounts, for users holding the admin role ---------------------------------------------


def accounts_manageable(admin_user):
    """Accounts whose home organization or at least one role lies inside the admin's subtrees."""
    scope = organizations_where(admin_user, Action.MANAGE_ACCOUNTS)
    in_scope = RoleAssignment.objects.filter(user=OuterRef("pk"), organization__in=scope)
    return (
        User.objects.filter(is_superuser=False)
        .filter(Q(organization__in=scope) | Exists(in_scope))
        .select_related("organization__parent__parent")
        .annotate(role_count=Count("role_assignments"))
        .order_by("username")
    )


def account_fully_in_scope(admin_user, user):
    """An admin may change an account (password, name, enabled) only when every role the
    account holds lies inside the admin's subtrees, so a town admin cannot take over a
    county account that happens to hold a role in the town as well. Admins never manage
    superusers, and an admin's own account is managed from above."""
    if user.is_superuser or user.pk == admin_user.pk:
        return False
    scope = organizations_where(admin_user, Action.MANAGE_ACCOUNTS)
    if user.organization_id and not scope.filter(pk=user.organization_id).exists():
        return False
    return not RoleAssignment.objects.filter(user=user).exclude(organization__in=scope).exists()


def account_login_locked(account):
    """Whether wrong passwords have locked the account's login (organizations/login_throttle.py)."""
    return login_throttle.account_locked(account.get_username())
