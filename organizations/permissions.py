"""Who may do what: the role × action table of DESIGN.md section 2, in one place.

A role held at organization O acts on O's subtree. Each action names the roles that may take
it and how far the role must sit from the organization concerned:

- SUBTREE: at the organization or any ancestor;
- EXACT:   at that very organization ("the secretary of that organization");
- ABOVE:   at a strict ancestor ("staff above").

`organizations_where(user, action)` turns a rule into one queryset of organizations;
`has_permission` asks it about one organization, so lists and single checks cannot disagree.
"""

import contextvars
from contextlib import contextmanager
from dataclasses import dataclass
from enum import Enum

from django.core.exceptions import PermissionDenied
from django.db import connection
from django.db.models import Q
from django.utils import timezone

from .models import Organization, Pairing, Person, Role, RoleAssignment


class Reach(Enum):
    SUBTREE = "subtree"
    EXACT = "exact"
    ABOVE = "above"


class Action(Enum):
    VIEW = "view"
    CREATE_TEMPLATE = "create_template"
    ISSUE_CHECKLIST = "issue_checklist"
    SET_UP_ASSESSMENT = "set_up_assessment"
    CLAIM_CHECKLIST = "claim_checklist"
    SUBMIT_RECORD = "submit_record"
    APPROVE_RECORD = "approve_record"
    LIST_PROBLEM = "list_problem"
    DECIDE_EXTENSION = "decide_extension"
    CLOSE_PROBLEM = "close_problem"
    RECORD_FOLLOW_UP = "record_follow_up"
    SCORE_ON_PANEL = "score_on_panel"
    MANAGE_ACCOUNTS = "manage_accounts"
    # Not a row of DESIGN.md's table, which is silent on it: keeping the tree, people and posts
    # up to date (Excel import) and exporting people with full phone numbers ("authorized
    # staff", DESIGN.md 2) belong to org-department staff and administrators.
    MAINTAIN_ORGANIZATIONS = "maintain_organizations"
    # "claimed (签收, by the responsible leader)" (DESIGN.md 4): the secretary of the unit.
    CLAIM_PROBLEM = "claim_problem"
    # "set up assessments and reviews: org-department staff" (DESIGN.md 2), for 述职评议.
    SET_UP_REVIEW = "set_up_review"
    # "Results are seen by the organizer" (DESIGN.md 6): the organizing party committee — its
    # staff, secretary and leaders at it or above; a reportee sees only his or her own result.
    READ_REVIEW_RESULTS = "read_review_results"
    # 书记项目 (DESIGN.md 5): the secretary files the 立项书; staff above review and accept it.
    FILE_PROJECT = "file_project"
    REVIEW_PROJECT = "review_project"
    # 申诉 during an assessment's announcement: by the organization's secretary.
    FILE_APPEAL = "file_appeal"
    # The ranking board and explanations of an assessment: staff and leaders of the organizer
    # (the secretaries of the organizations assessed read it too once it is announced).
    READ_ASSESSMENT = "read_assessment"
    # Not rows of DESIGN.md's table either: a 通报 is issued by the organization department
    # (DESIGN.md 4) and names organizations in its staff's area; an admonishment is decided
    # "when staff so decide" (DESIGN.md 4), by staff above; samples for unannounced visits are
    # drawn, and read, by those who make the visits, over their whole area.
    ISSUE_NOTICE = "issue_notice"
    DECIDE_ADMONISHMENT = "decide_admonishment"
    DRAW_SAMPLE = "draw_sample"


@dataclass(frozen=True)
class Rule:
    roles: frozenset
    reach: Reach


ALL_ROLES = frozenset(Role)

RULES = {
    # "see anything: any role whose subtree contains it" (+ pairings, see organizations_where).
    Action.VIEW: Rule(ALL_ROLES, Reach.SUBTREE),
    Action.CREATE_TEMPLATE: Rule(frozenset({Role.STAFF}), Reach.SUBTREE),
    Action.ISSUE_CHECKLIST: Rule(frozenset({Role.STAFF}), Reach.SUBTREE),
    Action.SET_UP_ASSESSMENT: Rule(frozenset({Role.STAFF}), Reach.SUBTREE),
    Action.CLAIM_CHECKLIST: Rule(frozenset({Role.SECRETARY}), Reach.EXACT),
    Action.SUBMIT_RECORD: Rule(frozenset({Role.SECRETARY, Role.CLERK}), Reach.EXACT),
    Action.APPROVE_RECORD: Rule(frozenset({Role.STAFF, Role.CLERK}), Reach.ABOVE),
    # Closing is also never by the person who asked for it: the supervision service checks that.
    Action.LIST_PROBLEM: Rule(frozenset({Role.STAFF, Role.SUPERVISOR}), Reach.ABOVE),
    Action.DECIDE_EXTENSION: Rule(frozenset({Role.STAFF, Role.SUPERVISOR}), Reach.ABOVE),
    Action.CLOSE_PROBLEM: Rule(frozenset({Role.STAFF, Role.SUPERVISOR}), Reach.ABOVE),
    Action.RECORD_FOLLOW_UP: Rule(frozenset({Role.STAFF, Role.SUPERVISOR}), Reach.ABOVE),
    # The outer bound only: scoring narrows it to the organizations assigned to the judge.
    Action.SCORE_ON_PANEL: Rule(frozenset({Role.JUDGE}), Reach.SUBTREE),
    Action.MANAGE_ACCOUNTS: Rule(frozenset({Role.ADMIN}), Reach.SUBTREE),
    Action.MAINTAIN_ORGANIZATIONS: Rule(frozenset({Role.STAFF, Role.ADMIN}), Reach.SUBTREE),
    Action.CLAIM_PROBLEM: Rule(frozenset({Role.SECRETARY}), Reach.EXACT),
    Action.SET_UP_REVIEW: Rule(frozenset({Role.STAFF}), Reach.SUBTREE),
    Action.READ_REVIEW_RESULTS: Rule(frozenset({Role.STAFF, Role.SECRETARY, Role.VIEWER}), Reach.SUBTREE),
    Action.FILE_PROJECT: Rule(frozenset({Role.SECRETARY}), Reach.EXACT),
    Action.REVIEW_PROJECT: Rule(frozenset({Role.STAFF}), Reach.ABOVE),
    Action.FILE_APPEAL: Rule(frozenset({Role.SECRETARY}), Reach.EXACT),
    Action.READ_ASSESSMENT: Rule(frozenset({Role.STAFF, Role.VIEWER}), Reach.SUBTREE),
    Action.ISSUE_NOTICE: Rule(frozenset({Role.STAFF}), Reach.SUBTREE),
    Action.DECIDE_ADMONISHMENT: Rule(frozenset({Role.STAFF}), Reach.ABOVE),
    Action.DRAW_SAMPLE: Rule(frozenset({Role.STAFF, Role.SUPERVISOR}), Reach.SUBTREE),
}

# Superusers repair data through the Django admin; on the platform's own pages they may read
# and manage accounts everywhere, but claim, approve or score only through real roles.
SUPERUSER_ACTIONS = frozenset({Action.VIEW, Action.MANAGE_ACCOUNTS, Action.MAINTAIN_ORGANIZATIONS})


def _role_organizations(user, roles):
    return Organization.objects.filter(
        pk__in=RoleAssignment.objects.filter(user=user, role__in=roles).values("organization")
    )


# Within one web request (config.middleware.RolePathsMiddleware), the paths of a user's roles
# are read once for each set of roles instead of once for every scope a page asks for. Any
# role, organization, pairing or person saved or deleted meanwhile forgets them (organizations.apps).
_role_paths_memo = contextvars.ContextVar("role_paths_memo", default=None)


@contextmanager
def role_paths_remembered():
    token = _role_paths_memo.set({})
    try:
        yield
    finally:
        _role_paths_memo.reset(token)


def role_paths_forget(**_signal):
    memo = _role_paths_memo.get()
    if memo is not None:
        memo.clear()


def _role_paths(user, roles):
    memo = _role_paths_memo.get()
    if memo is None:
        return list(_role_organizations(user, roles).values_list("path", flat=True))
    # In a request every role of the user is read once (with the menu's), whatever roles each
    # scope asks for.
    return list(dict.fromkeys(a.organization.path for a in role_assignments_of(user) if a.role in roles))


def _remembered(key, compute):
    """compute(), once a web request for each key (role_paths_remembered), each time outside one."""
    memo = _role_paths_memo.get()
    if memo is None:
        return compute()
    if key not in memo:
        memo[key] = compute()
    return memo[key]


def role_assignments_of(user):
    """The user's roles with their organizations (and those organizations' town and county, for
    names), in path order: read once in a web request, for the menu, the home and every scope."""
    return list(
        _remembered(
            ("assignments", user.pk),
            lambda: tuple(
                RoleAssignment.objects.filter(user=user)
                .select_related("organization__parent__parent")
                .order_by("organization__path", "role")
            ),
        )
    )


def _subtree_filter(paths, *, strict):
    condition = Q(pk__in=[])
    for path in paths:
        below = Q(path__startswith=path)
        condition |= below & ~Q(path=path) if strict else below
    return condition


def organizations_where(user, action):
    """Every organization on which `user` may take `action`, as one queryset."""
    if not user.is_authenticated or not user.is_active:
        return Organization.objects.none()
    if user.is_superuser and action in SUPERUSER_ACTIONS:
        return Organization.objects.all()
    rule = RULES[action]
    role_paths = _role_paths(user, rule.roles)
    if rule.reach is Reach.EXACT:
        condition = Q(path__in=role_paths)
    else:
        condition = _subtree_filter(role_paths, strict=rule.reach is Reach.ABOVE)
    if action is Action.VIEW:
        # The paired villages as a list of ids (usually none or a few), not a subquery: OR-ed
        # with a subquery, the path prefix could not use its index and every organization of
        # the database was scanned.
        paired = _paired_village_ids(user, role_paths)
        if paired:
            condition |= Q(pk__in=paired)
    return Organization.objects.filter(condition)


def views_whole_subtree(user, organization):
    """Whether organizations_where(user, Action.VIEW) holds every organization of the subtree
    of `organization`: a role of the user sits at it or above it (or a superuser). A query of
    that subtree then needs no condition of the user's scope beside its own."""
    if not user.is_authenticated or not user.is_active:
        return False
    if user.is_superuser and Action.VIEW in SUPERUSER_ACTIONS:
        return True
    return _reaches(organization.path, _role_paths(user, RULES[Action.VIEW].roles), Reach.SUBTREE)


def viewable_children_sql(user, organization, alias="o"):
    """(SQL condition, parameters) true for a child `alias` of `organization` that
    organizations_where(user, Action.VIEW) holds, for a hand-written statement that lists the
    children with their roll-up in one go. Worked out from the user's role paths and paired
    villages (read once per request, see role_paths_remembered), so the statement carries
    constants, not subqueries: every child when a role sits at the organization or above it,
    else the children a role sits at and the paired villages."""
    if not user.is_authenticated or not user.is_active:
        return "1 = 0", []
    if views_whole_subtree(user, organization):
        return "1 = 1", []
    role_paths = _role_paths(user, RULES[Action.VIEW].roles)
    below = [path for path in role_paths if path.startswith(organization.path)]
    paired = _paired_village_ids(user, role_paths)
    conditions, params = [], []
    if below:
        conditions.append(f"{alias}.path IN ({', '.join(['%s'] * len(below))})")
        params += below
    if paired:
        conditions.append(f"{alias}.id IN ({', '.join(['%s'] * len(paired))})")
        params += paired
    return f"({' OR '.join(conditions) or '1 = 0'})", params


def _paired_village_ids(user, role_paths):
    return list(_remembered(("paired", user.pk, tuple(role_paths)), lambda: tuple(_paired_villages(user, role_paths))))


def _paired_villages(user, role_paths):
    """Pairing gives read-only access to the paired village for the pairing's year: the ids of
    the villages paired this year with the user as a leader, or with a unit under one of their
    roles. Written by hand: every page with a scope asks it, and the ORM took 0.8 ms to write
    the statement that runs in 0.4 (a province's county staff)."""
    like = connection.operators["startswith"]  # LIKE %s, with ESCAPE where the backend needs it
    units = "".join(f" OR u.path {like}" for _path in role_paths)
    sql = (
        f"SELECT p.village_id FROM {Pairing._meta.db_table} p "
        f"LEFT JOIN {Person._meta.db_table} l ON l.id = p.leader_id "
        f"LEFT JOIN {Organization._meta.db_table} u ON u.id = p.unit_id "
        f"WHERE p.year = %s AND (l.user_id = %s{units})"
    )
    params = [
        timezone.localdate().year,
        user.pk,
        *(connection.ops.prep_for_like_query(path) + "%" for path in role_paths),
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [village for (village,) in cursor.fetchall()]


def subtree_paths(user, action):
    """For a SUBTREE action: the path prefixes under which `user` may act, or None for
    everywhere (superusers, and the command line, where `user` is None). Lets bulk work such
    as an import test thousands of organizations without a query each."""
    if user is None or (user.is_superuser and action in SUPERUSER_ACTIONS):
        return None
    if not user.is_active:
        return []
    assert RULES[action].reach is Reach.SUBTREE, action
    return _role_paths(user, RULES[action].roles)


def path_within(path, prefixes):
    return prefixes is None or any(path.startswith(prefix) for prefix in prefixes)


def granted_on(user, actions, organizations):
    """{action: the ids of `organizations` (with their paths loaded) on which `user` may take
    it}, as organizations_where(user, action).filter(pk__in=…) would say for each, from the
    user's roles (role_assignments_of: no query of its own in a web request) for all the
    actions: for a page offering several actions on one or two organizations. Not for VIEW,
    whose pairings need a query of their own."""
    granted, roles = {}, None
    for action in actions:
        assert action is not Action.VIEW, "organizations_where(user, Action.VIEW) holds the pairings"
        if not user.is_authenticated or not user.is_active:
            granted[action] = set()
            continue
        if user.is_superuser and action in SUPERUSER_ACTIONS:
            granted[action] = {organization.pk for organization in organizations}
            continue
        if roles is None:
            roles = [(assignment.role, assignment.organization.path) for assignment in role_assignments_of(user)]
        rule = RULES[action]
        paths = [path for role, path in roles if role in rule.roles]
        granted[action] = {
            organization.pk for organization in organizations if _reaches(organization.path, paths, rule.reach)
        }
    return granted


def _reaches(path, role_paths, reach):
    if reach is Reach.EXACT:
        return path in role_paths
    strict = reach is Reach.ABOVE
    return any(path.startswith(role_path) and not (strict and path == role_path) for role_path in role_paths)


def has_permission(user, action, organization):
    """Whether organizations_where(user, action) holds `organization` (its path loaded), from
    the paths of the user's roles and, for VIEW, the paired villages: no query of its own in a
    web request, where those are read once (role_paths_remembered); a page asking for several
    permissions paid a query and its compiling for each."""
    if not user.is_authenticated or not user.is_active:
        return False
    if user.is_superuser and action in SUPERUSER_ACTIONS:
        return True
    rule = RULES[action]
    role_paths = _role_paths(user, rule.roles)
    if _reaches(organization.path, role_paths, rule.reach):
        return True
    return action is Action.VIEW and organization.pk in _paired_village_ids(user, role_paths)


def acts_anywhere(user, action):
    """organizations_where(user, action).exists() ("may the user do this somewhere?", e.g. to
    offer a button), without a query of its own in a web request when the action's reach holds
    the role's own organization: a role held is then an organization reached."""
    if not user.is_authenticated or not user.is_active:
        return False
    rule = RULES[action]
    if user.is_superuser and action in SUPERUSER_ACTIONS:
        return organizations_where(user, action).exists()
    role_paths = _role_paths(user, rule.roles)
    if rule.reach is Reach.ABOVE:
        return _anything_below(role_paths)
    return bool(role_paths) or (action is Action.VIEW and bool(_paired_village_ids(user, role_paths)))


def _anything_below(role_paths):
    """Whether an organization lies strictly below one of the paths: asked once a request for
    each set of paths, however many ABOVE actions a page offers (a county's staff approve,
    review, decide … with the same roles)."""
    return _remembered(
        ("below", tuple(role_paths)),
        lambda: bool(role_paths) and Organization.objects.filter(_subtree_filter(role_paths, strict=True)).exists(),
    )


def top_organization(user, action):
    """organizations_where(user, action).order_by("path").first(), the organization a page opens
    on when none is asked for, from the roles a web request has read: no query of its own there
    when the rule's reach holds the role's own organization (the top of each role's subtree is
    its organization) and no village is paired. Paths compare character by character, as the
    database's C collation orders them."""
    rule = RULES[action]
    if (
        _role_paths_memo.get() is None
        or not user.is_authenticated
        or not user.is_active
        or rule.reach is Reach.ABOVE
        or (user.is_superuser and action in SUPERUSER_ACTIONS)
    ):
        return organizations_where(user, action).order_by("path").first()
    return min(_tops_of_reach(user, action), key=lambda organization: organization.path, default=None)


def viewed_tops(user):
    """The ids of the organizations the user sees whose parent they do not see (the roots of
    their org tree), from the roles and paired villages a web request has read: a query only
    for the paired villages' paths. None outside a request and for a superuser (ask the
    database)."""
    if _role_paths_memo.get() is None or user.is_superuser:
        return None
    if not user.is_authenticated or not user.is_active:
        return []
    role_paths = _role_paths(user, RULES[Action.VIEW].roles)
    paired = set(_paired_village_ids(user, role_paths))

    def parent_seen(organization):
        parent_path = organization.ancestor_paths()[-1]
        return organization.parent_id in paired or _reaches(parent_path, role_paths, Reach.SUBTREE)

    return sorted({o.pk for o in _tops_of_reach(user, Action.VIEW) if o.parent_id is None or not parent_seen(o)})


def _tops_of_reach(user, action):
    """The organizations of the user's roles that the action's rule counts and, for VIEW, the
    paired villages (a query, only when some are paired): the tops of the subtrees that
    organizations_where(user, action) joins, for a rule that reaches a role's own organization."""
    rule = RULES[action]
    tops = [a.organization for a in role_assignments_of(user) if a.role in rule.roles]
    if action is Action.VIEW:
        paired = _paired_village_ids(user, _role_paths(user, rule.roles))
        if paired:
            tops += Organization.objects.filter(pk__in=paired)
    return tops


def require_permission(user, action, organization):
    if not has_permission(user, action, organization):
        raise PermissionDenied
