"""What an outside review of the reviews app found, each with a test that failed before its fix."""

import logging
from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from organizations.models import Organization, PostTitle, Role
from reviews import services
from reviews.models import Ballot, GradeSet, Level, ReviewResult, State
from tests.organizations.factories import PersonFactory, PostFactory

from .conftest import add_reportees, add_venue, cast, close, make_session, open_session

E, C, U = 0, 1, 3


def _village_session(world, people, user_with_role):
    """A review organized by village A1a itself (its cadres report to its members): the
    village's secretary holds the secretary role at the organizer and is a reportee."""
    secretary, _person = people.secretaries["A1a"]
    director = PersonFactory(organization=world.village_a1a, name="村主任")
    PostFactory(person=director, organization=world.village_a1a, title=PostTitle.COMMITTEE_DIRECTOR)
    staff = user_with_role(Role.STAFF, world.county_a)
    session = services.session_create(
        actor=staff,
        organizer=world.village_a1a,
        year=make_session(world, people).year,
        title="村两委干部述职",
        level=Level.VILLAGE_CADRES,
        starts_on=make_session(world, people).starts_on,
        ends_on=make_session(world, people).ends_on,
    )
    venue = services.venue_add(
        actor=staff, session=session, name="村会场", organization=world.village_a1a, held_on=session.starts_on
    )
    group = services.group_add(actor=staff, venue=venue, name="党员", weight=Decimal(100), expected=3)
    services.reportees_add(
        actor=staff,
        session=session,
        organizations=Organization.objects.filter(pk=world.village_a1a.pk),
        titles=[PostTitle.SECRETARY, PostTitle.COMMITTEE_DIRECTOR],
        venues=[venue],
    )
    people.staff = staff
    open_session(session, people)
    reportees = {r.post_label: r for r in session.reportees.all()}
    cast(group, [{reportees["书记"]: C, reportees["村(居)委会主任"]: U}] * 3, people=people)
    close(session, people)
    return session, secretary, reportees


def test_a_reportee_who_also_holds_a_role_at_the_organizer_sees_only_his_own(world, people, user_with_role, client):
    session, secretary, _reportees = _village_session(world, people, user_with_role)
    client.force_login(secretary)
    for name in ("session", "results", "precheck", "consequences", "results_print"):
        assert client.get(reverse(f"reviews:{name}", args=[session.pk])).status_code == 404, name
    assert client.get(reverse("reviews:live", args=[session.venues.get().pk])).status_code == 404
    client.post(reverse("spreadsheets:export_create"), {"kind": "review_summary", "session": session.pk})
    from spreadsheets.models import ExportJob

    assert not ExportJob.objects.filter(requester=secretary).exists()
    assert session not in list(client.get(reverse("reviews:home")).context["sessions"])


def test_barred_lists_hold_only_reviews_whose_results_the_reader_reads(world, people, user_with_role, client):
    session, _secretary, _reportees = _village_session(world, people, user_with_role)
    services.session_advance(actor=people.staff, session=session, to=State.PUBLISHED)
    from reviews.models import Consequence

    for consequence in Consequence.objects.filter(kind__in=["no_subsidy", "no_awards"]):
        services.consequence_decide(
            actor=people.staff, consequence=consequence, status="adopted", decided_on=session.ends_on.replace(day=1)
        )
    neighbour, _person = people.secretaries["A1b"]
    town_clerk_like = user_with_role(Role.SECRETARY, world.village_a1a)  # another account at the village
    url = reverse("reviews:barred") + f"?org=A1a&year={session.year + 1}"
    client.force_login(people.secretaries["A1a"][0])  # a reportee of that review
    assert "村主任" not in client.get(url).text
    client.force_login(town_clerk_like)  # reads the village's reviews
    assert "村主任" in client.get(url).text
    client.force_login(neighbour)  # outside: the page falls back to the neighbour's own village
    page = client.get(url)
    assert page.context["organization"].code == "A1b"
    assert "村主任" not in page.text


def test_no_more_codes_than_expected_raters_and_paper_counts_within_them(world, people):
    session = make_session(world, people)
    venue, groups = add_venue(session, world, people, [("党员", 100, 4)])
    reportees = add_reportees(session, world, people, venue, villages=("A1a",))
    open_session(session, people)
    with pytest.raises(services.ValidationError, match="应到 4 人"):
        services.codes_generate(actor=people.staff, group=groups["党员"], count=5)
    cast(groups["党员"], [{reportees["A1a"]: E}] * 2, people=people)
    header = {"present": 3, "issued": 3, "collected": 3, "valid": 3, "invalid": 0}
    with pytest.raises(services.ValidationError, match="纸质票实到最多 2 人"):
        services.paper_entry_save(actor=people.staff, group=groups["党员"], number=1, teller="甲", counts={}, **header)


def test_a_veto_share_of_zero_means_no_veto(world, people):
    session = make_session(world, people, veto_numerator=0, veto_denominator=1)
    venue, groups = add_venue(session, world, people, [("党员", 100, 3)])
    reportees = add_reportees(session, world, people, venue, villages=("A1a",))
    open_session(session, people)
    cast(groups["党员"], [{reportees["A1a"]: E}] * 3, people=people)
    close(session, people)
    result = ReviewResult.objects.get()
    assert (result.grade, result.vetoed) == (E, False)


def test_thresholds_follow_a_highest_score_other_than_100(world, people):
    """Scores out of 10: the default thresholds are 9 / 7 / 6, so 10, 10, 9 → 9.67 → 优秀."""
    session = make_session(world, people, scored=True, score_max=10)
    assert session.thresholds == [9.0, 7.0, 6.0]
    venue, groups = add_venue(session, world, people, [("党员", 100, 3)])
    reportees = add_reportees(session, world, people, venue, villages=("A1a",))
    open_session(session, people)
    cast(groups["党员"], [{reportees["A1a"]: [10]}, {reportees["A1a"]: [10]}, {reportees["A1a"]: [9]}], people=people)
    close(session, people)
    result = ReviewResult.objects.get()
    assert (result.total, result.grade, result.vetoed) == (Decimal("9.67"), E, False)


@pytest.mark.parametrize(
    "rules",
    [
        {"points": "inf,80,60,0"},
        {"points": "NaN,80,60,0"},
        {"points": "100000,80,60,0"},
        {"thresholds": "200,150,120"},
        {"points": "60,80,100,0"},
    ],
)
def test_odd_rules_are_refused_with_a_message(world, people, client, rules):
    client.force_login(people.staff)
    data = {
        "title": "t",
        "organizer": "A",
        "year": timezone.localdate().year,
        "level": "village",
        "starts_on": str(timezone.localdate() + timedelta(days=30)),
        "ends_on": str(timezone.localdate() + timedelta(days=31)),
        "grade_set": "cadre",
        "score_max": 100,
        "veto": "1/2",
        "quorum": "2/3",
        **rules,
    }
    page = client.post(reverse("reviews:session_create"), data)
    assert page.status_code == 200
    assert "errorlist" in page.text or 'class="error"' in page.text


def test_nobody_reports_at_no_venue(world, people):
    session = make_session(world, people)
    add_venue(session, world, people, [("党员", 100, 3)])
    services.reportees_add(
        actor=people.staff,
        session=session,
        organizations=Organization.objects.filter(code="A1a"),
        titles=[PostTitle.SECRETARY],
        venues=[],
        own_venue=False,
    )
    with pytest.raises(services.ValidationError, match="没有安排测评会场"):
        services.session_advance(actor=people.staff, session=session, to=State.PRE_CHECK)


def test_a_filled_in_form_is_never_lost_to_the_slow_down(world, people, client, settings):
    settings.BALLOT_CODE_FAILURES = 2
    session = make_session(world, people)
    venue, groups = add_venue(session, world, people, [("党员", 100, 3)])
    reportees = add_reportees(session, world, people, venue, villages=("A1a",))
    open_session(session, people)
    _batch, (code,) = services.codes_generate(actor=people.staff, group=groups["党员"], count=1)
    client.post(reverse("vote"), {"step": "code", "code": code})
    for _attempt in range(4):  # other phones on the same Wi-Fi and browser mistype
        client.post(reverse("vote"), {"step": "code", "code": "ABCD-EFGH-JKMN-PQRS"})
    page = client.post(reverse("vote"), {"step": "cast", "code": code, f"r{reportees['A1a'].pk}_grade": "0"})
    assert "已提交" in page.text
    assert Ballot.objects.count() == 1


def test_missing_answers_are_marked_on_every_card(world, people, client):
    session = make_session(world, people)
    venue, groups = add_venue(session, world, people, [("党员", 100, 3)])
    add_reportees(session, world, people, venue)
    open_session(session, people)
    _batch, (code,) = services.codes_generate(actor=people.staff, group=groups["党员"], count=1)
    page = client.post(reverse("vote"), {"step": "cast", "code": code})
    assert page.text.count("请选择一个等次，或选择弃权") == 3
    assert page.text.count("rating has-error") == 3


def test_the_request_log_keeps_no_line_about_ballots():
    from config.logging import BallotPathFilter

    record = logging.LogRecord(
        "django.server", logging.INFO, "", 0, '"%s" %s %s', ("POST /vote/ HTTP/1.1", "200", "924"), None
    )
    other = logging.LogRecord(
        "django.server", logging.INFO, "", 0, '"%s" %s %s', ("GET /reviews/ HTTP/1.1", "200", "9"), None
    )
    assert BallotPathFilter().filter(record) is False
    assert BallotPathFilter().filter(other) is True


def test_crafted_ids_get_404_not_500(world, people, client):
    session = make_session(world, people)
    venue, _groups = add_venue(session, world, people, [("党员", 100, 3)])
    client.force_login(people.staff)
    url = reverse("reviews:venue", args=[venue.pk])
    assert client.post(url, {"action": "remove_group", "group": "abc"}).status_code == 404
    assert client.post(url, {"action": "void", "batch": "abc"}).status_code == 404


def test_a_three_grade_set_uses_100_80_0(world, people):
    session = make_session(world, people, grade_set=GradeSet.SATISFACTION)
    assert (session.points, session.thresholds) == ([100, 80, 0], [90.0, 70.0])
