"""The role × action table of DESIGN.md section 2, row by row, and the scoping selector."""

import pytest
from django.utils import timezone

from organizations.models import OrganizationKind, Role
from organizations.permissions import (
    RULES,
    Action,
    Reach,
    acts_anywhere,
    has_permission,
    organizations_where,
    top_organization,
)
from organizations.selectors import organizations_visible
from tests.organizations.factories import (
    OrganizationFactory,
    PairingFactory,
    PersonFactory,
    RoleAssignmentFactory,
    UserFactory,
)


def test_town_secretary_sees_own_town_and_below_only(world, user_with_role):
    secretary = user_with_role(Role.SECRETARY, world.town_a1)
    visible = set(organizations_visible(secretary).values_list("code", flat=True))
    assert visible == {"A1", "A1a", "A1b"}


@pytest.mark.parametrize("action", list(Action))
def test_town_secretary_has_no_power_over_a_sibling_town_or_anything_above(world, user_with_role, action):
    secretary = user_with_role(Role.SECRETARY, world.town_a1)
    for organization in [world.town_a2, world.village_a2a, world.county_a, world.city, world.department]:
        assert not has_permission(secretary, action, organization), (action, organization.code)


# (action, role, where the role is held, organization acted on, allowed?)
TABLE = [
    (Action.VIEW, Role.VIEWER, "county_a", "village_a1a", True),
    (Action.VIEW, Role.VIEWER, "county_a", "village_b1a", False),
    (Action.VIEW, Role.JUDGE, "town_a1", "town_a1", True),
    (Action.CREATE_TEMPLATE, Role.STAFF, "county_a", "county_a", True),
    (Action.CREATE_TEMPLATE, Role.SECRETARY, "county_a", "county_a", False),
    (Action.ISSUE_CHECKLIST, Role.STAFF, "county_a", "village_a1a", True),
    (Action.ISSUE_CHECKLIST, Role.ADMIN, "county_a", "village_a1a", False),
    (Action.SET_UP_ASSESSMENT, Role.STAFF, "county_a", "town_a1", True),
    (Action.SET_UP_ASSESSMENT, Role.VIEWER, "county_a", "town_a1", False),
    (Action.CLAIM_CHECKLIST, Role.SECRETARY, "village_a1a", "village_a1a", True),
    (Action.CLAIM_CHECKLIST, Role.SECRETARY, "town_a1", "village_a1a", False),  # not that organization's
    (Action.CLAIM_CHECKLIST, Role.CLERK, "village_a1a", "village_a1a", False),
    (Action.SUBMIT_RECORD, Role.SECRETARY, "village_a1a", "village_a1a", True),
    (Action.SUBMIT_RECORD, Role.CLERK, "town_a1", "town_a1", True),
    (Action.SUBMIT_RECORD, Role.CLERK, "town_a1", "village_a1a", False),
    (Action.SUBMIT_RECORD, Role.STAFF, "county_a", "village_a1a", False),
    (Action.APPROVE_RECORD, Role.CLERK, "town_a1", "village_a1a", True),
    (Action.APPROVE_RECORD, Role.STAFF, "county_a", "village_a1a", True),
    (Action.APPROVE_RECORD, Role.CLERK, "town_a1", "town_a1", False),  # not its own: only "above"
    (Action.APPROVE_RECORD, Role.SECRETARY, "town_a1", "village_a1a", False),
    (Action.LIST_PROBLEM, Role.SUPERVISOR, "county_a", "town_a1", True),
    (Action.LIST_PROBLEM, Role.STAFF, "county_a", "village_a1a", True),
    (Action.LIST_PROBLEM, Role.SUPERVISOR, "town_a1", "town_a1", False),
    (Action.LIST_PROBLEM, Role.CLERK, "county_a", "town_a1", False),
    (Action.DECIDE_EXTENSION, Role.STAFF, "county_a", "town_a1", True),
    (Action.DECIDE_EXTENSION, Role.SECRETARY, "county_a", "town_a1", False),
    (Action.ISSUE_NOTICE, Role.STAFF, "county_a", "county_a", True),
    (Action.ISSUE_NOTICE, Role.SUPERVISOR, "county_a", "village_a1a", False),
    (Action.ISSUE_NOTICE, Role.STAFF, "town_a1", "county_a", False),
    (Action.DECIDE_ADMONISHMENT, Role.STAFF, "county_a", "village_a1a", True),
    (Action.DECIDE_ADMONISHMENT, Role.STAFF, "village_a1a", "village_a1a", False),
    (Action.DECIDE_ADMONISHMENT, Role.SUPERVISOR, "county_a", "village_a1a", False),
    (Action.DRAW_SAMPLE, Role.SUPERVISOR, "county_a", "county_a", True),
    (Action.DRAW_SAMPLE, Role.STAFF, "town_a1", "village_a1a", True),
    (Action.DRAW_SAMPLE, Role.SECRETARY, "town_a1", "village_a1a", False),
    (Action.CLOSE_PROBLEM, Role.SUPERVISOR, "county_a", "village_a2a", True),
    (Action.CLOSE_PROBLEM, Role.VIEWER, "county_a", "village_a2a", False),
    (Action.RECORD_FOLLOW_UP, Role.SUPERVISOR, "county_a", "village_a1a", True),
    (Action.RECORD_FOLLOW_UP, Role.STAFF, "town_a1", "village_a1a", True),
    (Action.RECORD_FOLLOW_UP, Role.JUDGE, "county_a", "village_a1a", False),
    (Action.SCORE_ON_PANEL, Role.JUDGE, "county_a", "town_a1", True),
    (Action.SCORE_ON_PANEL, Role.STAFF, "county_a", "town_a1", False),
    (Action.MANAGE_ACCOUNTS, Role.ADMIN, "town_a1", "village_a1b", True),
    (Action.MANAGE_ACCOUNTS, Role.ADMIN, "town_a1", "county_a", False),
    (Action.MANAGE_ACCOUNTS, Role.STAFF, "county_a", "town_a1", False),
    (Action.MAINTAIN_ORGANIZATIONS, Role.STAFF, "county_a", "village_a1a", True),
    (Action.MAINTAIN_ORGANIZATIONS, Role.ADMIN, "town_a1", "village_a1a", True),
    (Action.MAINTAIN_ORGANIZATIONS, Role.SECRETARY, "town_a1", "village_a1a", False),
    (Action.MAINTAIN_ORGANIZATIONS, Role.STAFF, "town_a1", "town_a2", False),
    (Action.CLAIM_PROBLEM, Role.SECRETARY, "village_a1a", "village_a1a", True),
    (Action.CLAIM_PROBLEM, Role.CLERK, "village_a1a", "village_a1a", False),
    (Action.CLAIM_PROBLEM, Role.SECRETARY, "town_a1", "village_a1a", False),
    (Action.SET_UP_REVIEW, Role.STAFF, "county_a", "town_a1", True),
    (Action.SET_UP_REVIEW, Role.SECRETARY, "town_a1", "town_a1", False),
    (Action.SET_UP_REVIEW, Role.STAFF, "town_a1", "county_a", False),
    (Action.READ_REVIEW_RESULTS, Role.SECRETARY, "town_a1", "town_a1", True),
    (Action.READ_REVIEW_RESULTS, Role.VIEWER, "county_a", "town_a1", True),
    (Action.READ_REVIEW_RESULTS, Role.SECRETARY, "village_a1a", "town_a1", False),  # a reportee, not the organizer
    (Action.READ_REVIEW_RESULTS, Role.CLERK, "town_a1", "town_a1", False),
    (Action.READ_REVIEW_RESULTS, Role.JUDGE, "county_a", "county_a", False),
    (Action.FILE_PROJECT, Role.SECRETARY, "village_a1a", "village_a1a", True),
    (Action.FILE_PROJECT, Role.SECRETARY, "town_a1", "village_a1a", False),
    (Action.FILE_PROJECT, Role.CLERK, "village_a1a", "village_a1a", False),
    (Action.REVIEW_PROJECT, Role.STAFF, "county_a", "town_a1", True),
    (Action.REVIEW_PROJECT, Role.STAFF, "town_a1", "town_a1", False),  # never its own
    (Action.FILE_APPEAL, Role.SECRETARY, "town_a1", "town_a1", True),
    (Action.FILE_APPEAL, Role.VIEWER, "town_a1", "town_a1", False),
    (Action.READ_ASSESSMENT, Role.VIEWER, "city", "town_a1", True),
    (Action.READ_ASSESSMENT, Role.SECRETARY, "town_a1", "town_a1", False),
]


@pytest.mark.parametrize(("action", "role", "held_at", "target", "allowed"), TABLE)
def test_role_action_table(world, user_with_role, action, role, held_at, target, allowed):
    user = user_with_role(role, getattr(world, held_at))
    assert has_permission(user, action, getattr(world, target)) is allowed


def test_every_action_of_the_table_is_tested():
    assert {row[0] for row in TABLE} == set(Action)


def test_list_and_single_checks_agree(world, user_with_role):
    clerk = user_with_role(Role.CLERK, world.town_a1)
    approvable = set(organizations_where(clerk, Action.APPROVE_RECORD).values_list("code", flat=True))
    assert approvable == {"A1a", "A1b"}


def test_pairing_reads_the_paired_village_for_its_year_only(world, user_with_role):
    # given a county department paired with a village of another town this year
    department_secretary = user_with_role(Role.SECRETARY, world.department)
    PairingFactory(village=world.village_b1a, unit=world.department)
    # then its people may read that village, but act on nothing there
    assert has_permission(department_secretary, Action.VIEW, world.village_b1a)
    assert not has_permission(department_secretary, Action.SUBMIT_RECORD, world.village_b1a)
    assert not has_permission(department_secretary, Action.VIEW, world.town_b1)


def test_an_old_pairing_gives_no_access(world, user_with_role):
    department_secretary = user_with_role(Role.SECRETARY, world.department)
    PairingFactory(year=timezone.localdate().year - 1, village=world.village_b1a, unit=world.department)
    assert not has_permission(department_secretary, Action.VIEW, world.village_b1a)


def test_a_paired_leader_reads_the_village_through_his_account(world):
    leader_account = UserFactory()
    leader = PersonFactory(organization=world.county_a, user=leader_account)
    PairingFactory(village=world.village_b1a, unit=None, leader=leader)
    assert has_permission(leader_account, Action.VIEW, world.village_b1a)


def test_a_unit_code_with_an_underscore_pairs_only_its_own_villages(world, user_with_role):
    """The paired units are found by their path prefix (LIKE): "_" in a code is a letter there,
    not a wildcard that would also take the sibling UX1's pairing."""
    unit = OrganizationFactory(code="U_1", parent=world.county_a, kind=OrganizationKind.COUNTY_DEPARTMENT)
    sibling = OrganizationFactory(code="UX1", parent=world.county_a, kind=OrganizationKind.COUNTY_DEPARTMENT)
    PairingFactory(village=world.village_b1a, unit=unit)
    PairingFactory(village=world.village_a2a, unit=sibling)
    secretary = user_with_role(Role.SECRETARY, unit)
    visible = set(organizations_visible(secretary).values_list("code", flat=True))
    assert visible == {"U_1", world.village_b1a.code}
    assert not has_permission(secretary, Action.VIEW, world.village_a2a)


def test_a_request_asks_once_whether_anything_lies_below_the_roles_of_the_above_actions(world, user_with_role):
    """Approving, reviewing, deciding … (Reach.ABOVE) are offered when something lies below the
    user's roles: with the same roles, one question a request for all of them."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from organizations.permissions import role_paths_remembered

    staff = user_with_role(Role.STAFF, world.county_a)
    village_staff = user_with_role(Role.STAFF, world.village_a1a)
    above = [action for action, rule in RULES.items() if rule.reach is Reach.ABOVE and Role.STAFF in rule.roles]
    assert len(above) >= 3
    for user, expected in [(staff, True), (village_staff, False)]:
        with role_paths_remembered():
            acts_anywhere(user, Action.VIEW)  # the request reads the roles
            with CaptureQueriesContext(connection) as asked:
                answers = {acts_anywhere(user, action) for action in above}
        assert answers == {expected}
        assert len(asked) == 1


def test_an_organization_by_its_code_only_where_the_user_sees_it(world, user_with_role, django_user_model):
    from organizations.models import Organization
    from organizations.selectors import organization_get_visible

    leader_account = UserFactory()
    PairingFactory(
        village=world.village_b1a, unit=None, leader=PersonFactory(organization=world.city, user=leader_account)
    )
    users = [
        user_with_role(Role.SECRETARY, world.town_a1),
        user_with_role(Role.STAFF, world.county_b),
        user_with_role(Role.STAFF, world.county_a, is_active=False),
        leader_account,
        django_user_model.objects.create_superuser(username="超级", password="x"),
    ]
    for user in users:
        visible = set(organizations_where(user, Action.VIEW))
        for organization in Organization.objects.all():
            found = organization_get_visible(user, organization.code)
            assert found == (organization if organization in visible else None), (user.username, organization.code)
        assert organization_get_visible(user, "no-such-code") is None


def test_an_inactive_account_has_no_powers(world, user_with_role):
    staff = user_with_role(Role.STAFF, world.county_a, is_active=False)
    assert not organizations_visible(staff).exists()


def test_superuser_reads_and_manages_accounts_but_claims_nothing(world):
    superuser = UserFactory(is_superuser=True)
    assert has_permission(superuser, Action.VIEW, world.village_b1a)
    assert has_permission(superuser, Action.MANAGE_ACCOUNTS, world.village_b1a)
    assert not has_permission(superuser, Action.CLAIM_CHECKLIST, world.village_b1a)


def test_a_request_reads_a_users_roles_once_and_forgets_them_when_a_role_changes(world, user_with_role):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from organizations.models import RoleAssignment
    from organizations.permissions import role_paths_remembered

    user = user_with_role(Role.STAFF, world.county_a)
    with role_paths_remembered():  # what RolePathsMiddleware does around each request
        with CaptureQueriesContext(connection) as first:
            assert organizations_where(user, Action.VIEW).filter(pk=world.village_a1a.pk).exists()
        with CaptureQueriesContext(connection) as second:
            assert organizations_where(user, Action.VIEW).filter(pk=world.village_a1a.pk).exists()
        assert len(second) == 1 < len(first)  # only the question itself: the role paths were not read again
        RoleAssignment.objects.filter(user=user).delete()
        assert not organizations_where(user, Action.VIEW).filter(pk=world.village_a1a.pk).exists()
        RoleAssignment.objects.create(user=user, organization=world.town_b1, role=Role.STAFF)
        assert organizations_where(user, Action.VIEW).filter(pk=world.town_b1.pk).exists()
        assert not organizations_where(user, Action.VIEW).filter(pk=world.village_a1a.pk).exists()
        PairingFactory(
            village=world.village_a1a, unit=None, leader=PersonFactory(organization=world.town_b1, user=user)
        )
        assert organizations_where(user, Action.VIEW).filter(pk=world.village_a1a.pk).exists()  # paired meanwhile
    with CaptureQueriesContext(connection) as outside:
        organizations_where(user, Action.VIEW).exists()
    assert len(outside) == len(first)  # outside a request nothing is remembered


def test_granted_on_says_what_organizations_where_says_for_every_action(world, user_with_role, django_user_model):
    """The page helper that checks several actions from one query of the roles agrees with the
    one scoping rule, for each role held at each level, several roles at once, a superuser and
    an inactive account."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from organizations.models import Organization
    from organizations.permissions import granted_on, role_assignments_of, role_paths_remembered

    places = (world.county_a, world.town_a1, world.village_a1a)
    users = [user_with_role(role, place) for role in Role for place in places]
    several = user_with_role(Role.SECRETARY, world.village_a1b)
    user_with_role(Role.STAFF, world.town_a2).role_assignments.update(user=several)
    inactive = user_with_role(Role.STAFF, world.county_a, is_active=False)
    users += [several, inactive, django_user_model.objects.create_superuser(username="超级", password="x")]
    organizations = list(Organization.objects.all())
    actions = [action for action in Action if action is not Action.VIEW]
    for user in users:
        granted = granted_on(user, actions, organizations)
        for action in actions:
            expected = set(organizations_where(user, action).values_list("pk", flat=True))
            assert granted[action] == expected, (user, action)
        with role_paths_remembered():
            role_assignments_of(user)  # the request reads the roles, for the menu
            with CaptureQueriesContext(connection) as asked:
                assert granted_on(user, actions, organizations) == granted
            assert len(asked) == 0, user


def test_a_roll_up_lists_exactly_the_children_the_user_may_view(world, user_with_role):
    """children_rolled_up works the scope out from the user's role paths and pairings
    (viewable_children_sql); it must list the same children as organizations_where(VIEW), for
    roles above, at and below a child, pairings by unit and by leader, old pairings, an
    inactive account and a superuser, at every organization with children."""
    from django.db.models import Count

    from organizations.models import Organization
    from organizations.subtree import children_rolled_up
    from supervision.models import Problem

    year = timezone.localdate().year
    leader_account = UserFactory()
    PairingFactory(
        village=world.village_a2a, unit=None, leader=PersonFactory(organization=world.city, user=leader_account)
    )
    department_secretary = user_with_role(Role.SECRETARY, world.department)
    PairingFactory(village=world.village_b1a, unit=world.department)
    PairingFactory(year=year - 1, village=world.village_a1b, unit=world.department)
    two_villages = user_with_role(Role.SECRETARY, world.village_a1a)
    RoleAssignmentFactory(user=two_villages, organization=world.village_a2a, role=Role.SECRETARY)
    users = [
        user_with_role(Role.VIEWER, world.city),
        user_with_role(Role.STAFF, world.county_a),
        user_with_role(Role.CLERK, world.town_a1),
        two_villages,
        department_secretary,
        leader_account,
        user_with_role(Role.STAFF, world.county_a, is_active=False),
        UserFactory(is_superuser=True),
    ]
    parents = Organization.objects.filter(children__isnull=False).distinct()
    checked = 0
    for user in users:
        for parent in parents:
            listed = [
                child.code
                for child in children_rolled_up(
                    parent, user, Problem.objects.all(), through="organization__", n=Count("pk")
                )
            ]
            expected = sorted(
                organizations_where(user, Action.VIEW).filter(parent=parent).values_list("code", flat=True)
            )
            assert listed == expected, (user.username, parent.code)
            checked += bool(expected)
    assert checked >= 12  # the cases above do reach children


def test_has_permission_says_what_organizations_where_says_and_asks_nothing_more_in_a_request(
    world, user_with_role, django_user_model
):
    """has_permission works from the role paths and paired villages that a request reads once;
    for every action, each role at each level, several roles, pairings by unit and by leader,
    an old pairing, a superuser and an inactive account, it answers as the one scoping rule
    (and so do acts_anywhere, top_organization and the roots of the org tree)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from organizations.models import Organization
    from organizations.permissions import role_paths_remembered
    from organizations.selectors import organization_roots

    year = timezone.localdate().year
    places = (world.county_a, world.town_a1, world.village_a1a, world.department)
    users = [user_with_role(role, place) for role in Role for place in places]
    several = user_with_role(Role.SECRETARY, world.village_a1b)
    RoleAssignmentFactory(user=several, organization=world.town_a2, role=Role.STAFF)
    RoleAssignmentFactory(user=several, organization=world.village_a2a, role=Role.CLERK)  # inside another
    leader_account = UserFactory()
    PairingFactory(
        village=world.village_b1a, unit=None, leader=PersonFactory(organization=world.city, user=leader_account)
    )
    PairingFactory(village=world.village_a2a, unit=world.department)
    PairingFactory(year=year - 1, village=world.village_a1b, unit=world.department)
    inactive = user_with_role(Role.STAFF, world.county_a, is_active=False)
    users += [
        several,
        leader_account,
        inactive,
        django_user_model.objects.create_superuser(username="超级", password="x"),
    ]
    organizations = list(Organization.objects.all())
    for user in users:
        visible = organizations_where(user, Action.VIEW)
        roots = set(visible.exclude(parent__in=visible.values("pk")))
        with role_paths_remembered():
            assert set(organization_roots(user)) == roots, user.username
        for action in Action:
            expected = set(organizations_where(user, action).values_list("pk", flat=True))
            with role_paths_remembered():
                has_permission(user, action, organizations[0])  # the request reads the roles
                with CaptureQueriesContext(connection) as asked:
                    granted = {o.pk for o in organizations if has_permission(user, action, o)}
                with CaptureQueriesContext(connection) as asked_anywhere:
                    anywhere = acts_anywhere(user, action)
                with CaptureQueriesContext(connection) as asked_top:
                    top = top_organization(user, action)
            assert granted == expected, (user.username, action)
            assert len(asked) == 0
            assert anywhere == bool(expected), (user.username, action)
            assert top == organizations_where(user, action).order_by("path").first(), (user.username, action)
            if RULES[action].reach is not Reach.ABOVE and not user.is_superuser:
                assert len(asked_anywhere) == 0
                # the paired villages themselves, where some are paired with the user
                assert len(asked_top) <= (1 if action is Action.VIEW else 0)
            else:
                assert len(asked_anywhere) <= 1


def test_a_request_reads_every_role_of_the_user_once_whatever_the_actions_asked(world, user_with_role):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from organizations.permissions import role_paths_remembered

    user = user_with_role(Role.SECRETARY, world.village_a1a)
    RoleAssignmentFactory(user=user, organization=world.county_a, role=Role.STAFF)
    with role_paths_remembered():
        assert has_permission(user, Action.VIEW, world.village_a2a)  # the roles read here
        with CaptureQueriesContext(connection) as asked:
            assert has_permission(user, Action.CLAIM_CHECKLIST, world.village_a1a)
            assert not has_permission(user, Action.CLAIM_CHECKLIST, world.village_a2a)
            assert has_permission(user, Action.ISSUE_CHECKLIST, world.town_a2)
            assert set(organizations_where(user, Action.CLAIM_CHECKLIST)) == {world.village_a1a}
        assert len(asked) == 1  # only the last question itself
