from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from organizations.models import PostTitle, Role
from reviews import services
from reviews.models import GradeSet, Level, State, Verdict
from tests.organizations.factories import PersonFactory, PostFactory


@pytest.fixture
def people(world, user_with_role):
    """County staff (two, for the double paper count), a leader, and the villages' secretaries,
    each the person behind an account."""

    class People:
        staff = user_with_role(Role.STAFF, world.county_a, full_name="县组织部甲")
        staff_two = user_with_role(Role.STAFF, world.county_a, full_name="县组织部乙")
        other_county = user_with_role(Role.STAFF, world.county_b, full_name="外县组织部")
        leader = user_with_role(Role.VIEWER, world.city, full_name="市领导")
        town_secretary = user_with_role(Role.SECRETARY, world.town_a1, full_name="镇书记")
        clerk = user_with_role(Role.CLERK, world.town_a1, full_name="镇台账员")

    p = People()
    p.secretaries = {}
    for village in (world.village_a1a, world.village_a1b, world.village_a2a):
        user = user_with_role(Role.SECRETARY, village, full_name=f"{village.code}书记")
        person = PersonFactory(organization=village, name=f"{village.code}书记", user=user)
        PostFactory(person=person, organization=village, title=PostTitle.SECRETARY)
        p.secretaries[village.code] = (user, person)
    return p


def make_session(world, people, **rules):
    today = timezone.localdate()
    fields = {
        "year": today.year,
        "title": "村党组织书记述职评议",
        "level": Level.VILLAGE_SECRETARIES,
        "starts_on": today - timedelta(days=1),
        "ends_on": today + timedelta(days=5),
        "grade_set": GradeSet.CADRE,
    }
    fields.update(rules)
    return services.session_create(actor=people.staff, organizer=world.county_a, **fields)


def add_venue(session, world, people, groups, *, organization=None, name="县会场"):
    """groups: [(name, weight, expected)] → (venue, {name: group})."""
    venue = services.venue_add(
        actor=people.staff,
        session=session,
        name=name,
        organization=organization or world.county_a,
        held_on=session.starts_on,
    )
    made = {
        group: services.group_add(
            actor=people.staff, venue=venue, name=group, weight=Decimal(weight), expected=expected
        )
        for group, weight, expected in groups
    }
    return venue, made


def add_reportees(session, world, people, venue, villages=("A1a", "A1b", "A2a")):
    from organizations.models import Organization

    services.reportees_add(
        actor=people.staff,
        session=session,
        organizations=Organization.objects.filter(code__in=villages),
        titles=[PostTitle.SECRETARY],
        venues=[venue],
    )
    return {r.organization.code: r for r in session.reportees.select_related("organization")}


def open_session(session, people):
    services.session_advance(actor=people.staff, session=session, to=State.PRE_CHECK)
    for reportee in session.reportees.all():
        services.precheck_record(actor=people.staff, reportee=reportee, verdict=Verdict.CONSISTENT)
    services.session_advance(actor=people.staff, session=session, to=State.OPEN)
    session.refresh_from_db()
    return session


def cast(group, ballots, *, people):
    """ballots: [{reportee: grade index | "abstain" | [scores]}] → one phone ballot each."""
    _batch, codes = services.codes_generate(actor=people.staff, group=group, count=len(ballots))
    for code, ballot in zip(codes, ballots, strict=True):
        answers = {}
        for reportee, value in ballot.items():
            if value == "abstain":
                answers[reportee.pk] = {"abstain": True}
            elif isinstance(value, list):
                answers[reportee.pk] = {"scores": value}
            else:
                answers[reportee.pk] = {"grade": value}
        services.ballot_cast(code=code, answers=answers)


def paper(group, people, header, counts):
    """counts: {reportee: {"grade_0": n, …, "abstained": n}}; entered twice, agreeing."""
    data = {reportee.pk: line for reportee, line in counts.items()}
    services.paper_entry_save(actor=people.staff, group=group, number=1, teller="计票人甲", counts=data, **header)
    return services.paper_entry_save(
        actor=people.staff_two, group=group, number=2, teller="计票人乙", counts=data, **header
    )


def close(session, people):
    """Close the rating; the results job runs on commit, so in a test it is run directly."""
    services.session_advance(actor=people.staff, session=session, to=State.CLOSED)
    services.results_compute_now(session_id=session.pk)
    session.refresh_from_db()
    return session
