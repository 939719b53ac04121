"""Results computed by hand from DESIGN.md 6 (defaults: 100 / 80 / 60 / 0 points, ≥ 90 / ≥ 70 /
≥ 60, veto when the worst grade reaches one half over the groups counted, quorum two thirds,
every score rounded half up to two decimals before it is compared), on SQLite and PostgreSQL."""

from decimal import Decimal

import pytest

from reviews.models import Outcome, ReviewResult
from reviews.selectors import results_table, session_share

from .conftest import add_reportees, add_venue, cast, close, make_session, open_session, paper

E, C, B, U = 0, 1, 2, 3  # 优秀 称职 基本称职 不称职
AB = "abstain"


@pytest.fixture
def scenario(world, people):
    """One venue, three groups: 上级领导 (weight 35, 6 expected, phone), 党员 (65, 9, paper) and
    群众 (20, 12, phone, but only 7 ballots: 7 < ⅔ × 12 = 8, below quorum).

    R1 (A1a) 上级领导: 优秀 ×3, 称职 ×2, 弃权 → (300 + 160) / 5 = 92.00
             党员:     优秀 4, 称职 5 → 800 / 9 = 88.888… → 88.89
             群众:     不称职 ×7 — not counted
             total = (35 × 92.00 + 65 × 88.89) / 100 = 89.9785 → 89.98 → 称职 (just under 90);
             worst over counted groups 0 / 14 → no veto (the 群众 不称职 do not count)
    R2 (A1b) 上级领导: 不称职 ×3, 优秀 ×3 → 50.00;  党员: 不称职 4, 优秀 4, 弃权 1 → 400 / 8 = 50.00
             total 50.00; worst 7 of 14 rated = exactly one half → veto → 不称职
    R3 (A2a) 上级领导: 优秀 ×6 → 100.00;  党员: 基本称职 9 → 60.00
             total = (3500 + 3900) / 100 = 74.00 → 称职
    Share rated 称职 or better: 2 of 3 = 66.7 %.
    """
    session = make_session(world, people)
    venue, groups = add_venue(session, world, people, [("上级领导", 35, 6), ("党员", 65, 9), ("群众", 20, 12)])
    r = add_reportees(session, world, people, venue)
    r1, r2, r3 = r["A1a"], r["A1b"], r["A2a"]
    open_session(session, people)
    leaders = [E, E, E, C, C, AB]
    cast(
        groups["上级领导"],
        [{r1: leaders[i], r2: [U, U, U, E, E, E][i], r3: E} for i in range(6)],
        people=people,
    )
    header = {"present": 9, "issued": 9, "collected": 9, "valid": 9, "invalid": 0}
    paper(
        groups["党员"],
        people,
        header,
        {
            r1: {"grade_0": 4, "grade_1": 5},
            r2: {"grade_0": 4, "grade_3": 4, "abstained": 1},
            r3: {"grade_2": 9},
        },
    )
    cast(groups["群众"], [{r1: U, r2: E, r3: U}] * 7, people=people)
    close(session, people)
    return session, r1, r2, r3, groups


def _result(reportee):
    return ReviewResult.objects.get(reportee=reportee)


def test_the_hand_computed_meeting(scenario):
    session, r1, r2, r3, _groups = scenario
    one, two, three = _result(r1), _result(r2), _result(r3)
    assert (one.outcome, one.total, one.grade, one.vetoed) == (Outcome.RESULT, Decimal("89.98"), C, False)
    assert (two.total, two.grade, two.vetoed) == (Decimal("50.00"), U, True)
    assert (three.total, three.grade, three.vetoed) == (Decimal("74.00"), C, False)
    assert one.counted_groups == 2
    assert session_share(session) == Decimal("66.7")


def test_group_scores_quorum_and_abstentions(scenario):
    _session, r1, r2, _r3, _groups = scenario
    rows = {row.group.name: row for row in r1.group_results.select_related("group")}
    assert (rows["上级领导"].rated, rows["上级领导"].abstained, rows["上级领导"].mean) == (5, 1, Decimal("92.00"))
    assert (rows["党员"].rated, rows["党员"].mean, rows["党员"].valid_ballots) == (9, Decimal("88.89"), 9)
    assert (rows["群众"].valid_ballots, rows["群众"].counted) == (7, False)
    assert rows["上级领导"].counted
    assert rows["党员"].counted
    two = {row.group.name: row for row in r2.group_results.select_related("group")}
    assert (two["党员"].rated, two["党员"].abstained, two["党员"].mean) == (8, 1, Decimal("50.00"))


def test_veto_only_over_more_than_the_share_when_strict(world, people):
    """Veto "more than one third" (strict), points 100 / 90 / 80 / 50, one group of 7:
    Ra: 优秀 4, 不称职 2, 弃权 1 → (400 + 100) / 6 = 83.33 → 称职; worst 2/6 = exactly ⅓ → no veto
    Rb: 优秀 4, 不称职 3 → (400 + 150) / 7 = 78.57 → 称职 by score, but 3/7 > ⅓ → veto → 不称职"""
    session = make_session(
        world, people, points=[100, 90, 80, 50], veto_numerator=1, veto_denominator=3, veto_strict=True
    )
    venue, groups = add_venue(session, world, people, [("党员", 100, 7)])
    r = add_reportees(session, world, people, venue, villages=("A1a", "A1b"))
    ra, rb = r["A1a"], r["A1b"]
    open_session(session, people)
    a = [E, E, E, E, U, U, AB]
    b = [E, E, E, E, U, U, U]
    cast(groups["党员"], [{ra: a[i], rb: b[i]} for i in range(7)], people=people)
    close(session, people)
    assert (_result(ra).total, _result(ra).grade, _result(ra).vetoed) == (Decimal("83.33"), C, False)
    assert (_result(rb).total, _result(rb).grade, _result(rb).vetoed) == (Decimal("78.57"), U, True)


def test_no_group_at_quorum_gives_no_result(world, people):
    session = make_session(world, people)
    venue, groups = add_venue(session, world, people, [("党员", 100, 9)])
    r = add_reportees(session, world, people, venue, villages=("A1a",))
    open_session(session, people)
    cast(groups["党员"], [{r["A1a"]: E}] * 5, people=people)  # 5 < ⅔ × 9 = 6
    close(session, people)
    result = _result(r["A1a"])
    assert (result.outcome, result.total, result.grade) == (Outcome.NO_QUORUM, None, None)


def test_score_ballots_with_dimensions_and_the_top_grade_cap(world, people):
    """Scores 0–100 on 德能勤绩廉, the ballot's score is the mean of its dimensions; cap 2/5 on 优秀:
    quota = ⌊5 × 2/5⌋ = 2 of the 5 reportees.
    Each of 5 ballots gives every dimension the same score s, except R5's first ballot:
      R1 96, R2 95, R3 93, R4 91 (all 优秀 by score), R5 85 → R5's first ballot 德能勤绩廉
      = 80, 85, 90, 95, 100 → 90.00; others 84 → (90 + 4 × 84) / 5 = 85.20
    Ranked: R1, R2 keep 优秀; R3, R4 fall to 称职 (capped); R5 称职, not capped."""
    from organizations.models import PostTitle
    from tests.organizations.factories import PersonFactory, PostFactory

    for code in ("A1a2", "A1a3", "A1a4", "A1a5"):
        person = PersonFactory(organization=world.village_a1a, name=f"委员{code}")
        PostFactory(person=person, organization=world.village_a1a, title=PostTitle.COMMITTEE_MEMBER)
    session = make_session(
        world, people, scored=True, dimensions=["德", "能", "勤", "绩", "廉"], cap_numerator=2, cap_denominator=5
    )
    venue, groups = add_venue(session, world, people, [("党员", 100, 5)])
    from organizations.models import Organization
    from reviews import services

    services.reportees_add(
        actor=people.staff,
        session=session,
        organizations=Organization.objects.filter(code="A1a"),
        titles=[PostTitle.SECRETARY, PostTitle.COMMITTEE_MEMBER],
        venues=[venue],
    )
    reportees = list(session.reportees.order_by("order"))
    assert len(reportees) == 5
    open_session(session, people)
    scores = [96, 95, 93, 91, 84]
    ballots = []
    for index in range(5):
        ballot = {reportee: [score] * 5 for reportee, score in zip(reportees, scores, strict=True)}
        if index == 0:
            ballot[reportees[4]] = [80, 85, 90, 95, 100]
        ballots.append(ballot)
    cast(groups["党员"], ballots, people=people)
    close(session, people)
    results = [_result(reportee) for reportee in reportees]
    assert [r.total for r in results] == [Decimal(96), Decimal(95), Decimal(93), Decimal(91), Decimal("85.20")]
    assert [r.grade for r in results] == [E, E, C, C, C]
    assert [r.capped for r in results] == [False, False, True, True, False]


def test_tied_reportees_at_the_cap_boundary_are_treated_alike(world, people):
    """Cap 1/3 of 3 reportees = 1 place; the two best are tied at 95: neither fits alone, so
    neither keeps 优秀 (the boundary treats equals alike)."""
    session = make_session(world, people, scored=True, cap_numerator=1, cap_denominator=3)
    venue, groups = add_venue(session, world, people, [("党员", 100, 3)])
    r = add_reportees(session, world, people, venue)
    open_session(session, people)
    cast(groups["党员"], [{r["A1a"]: [95], r["A1b"]: [95], r["A2a"]: [70]}] * 3, people=people)
    close(session, people)
    assert [_result(r[c]).grade for c in ("A1a", "A1b", "A2a")] == [C, C, C]
    assert _result(r["A1a"]).capped
    assert not _result(r["A2a"]).capped


def test_paper_and_phone_ballots_of_one_group_add_up(world, people):
    """党员 (expected 6): 3 by phone (优秀 ×3) + 3 valid on paper (称职 3) → 6 valid ballots, at quorum;
    mean = (300 + 240) / 6 = 90.00 → 优秀."""
    session = make_session(world, people)
    venue, groups = add_venue(session, world, people, [("党员", 100, 6)])
    r = add_reportees(session, world, people, venue, villages=("A1a",))
    open_session(session, people)
    cast(groups["党员"], [{r["A1a"]: E}] * 3, people=people)
    header = {"present": 3, "issued": 3, "collected": 3, "valid": 3, "invalid": 0}
    paper(groups["党员"], people, header, {r["A1a"]: {"grade_1": 3}})
    close(session, people)
    assert (_result(r["A1a"]).total, _result(r["A1a"]).grade) == (Decimal("90.00"), E)


def test_computing_twice_changes_nothing(scenario):
    from reviews import services

    session, _r1, *_ = scenario
    before = list(ReviewResult.objects.filter(reportee__session=session).values_list("reportee", "total", "grade"))
    services.results_compute_now(session_id=session.pk)
    after = list(ReviewResult.objects.filter(reportee__session=session).values_list("reportee", "total", "grade"))
    assert before == after


def test_no_distribution_is_shown_for_fewer_than_five_ballots(world, people):
    session = make_session(world, people)
    venue, groups = add_venue(session, world, people, [("上级领导", 30, 4), ("党员", 70, 6)])
    r = add_reportees(session, world, people, venue, villages=("A1a",))
    open_session(session, people)
    cast(groups["上级领导"], [{r["A1a"]: E}, {r["A1a"]: C}, {r["A1a"]: C}, {r["A1a"]: E}], people=people)
    cast(groups["党员"], [{r["A1a"]: E}] * 6, people=people)
    close(session, people)
    (row,) = results_table(session)
    shown = {result.group.name: result.show_distribution for result in row.group_results.all()}
    assert shown == {"上级领导": False, "党员": True}
