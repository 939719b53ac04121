"""The year-end aggregation computed by hand from DESIGN.md 5, on SQLite and PostgreSQL."""

from datetime import date
from decimal import Decimal

import pytest
from django.utils import timezone

from scoring import aggregation, services
from scoring.models import JudgeSheet, SchemeResult, SchemeState
from supervision import services as supervision

from .conftest import done, issue_checklist, make_scheme, review_total, this_year

D = Decimal


def _score(sheet, values):
    indicators = list(sheet.scheme.indicators.order_by("position"))
    services.sheet_save(
        actor=sheet.judge, sheet=sheet, scores=dict(zip([i.pk for i in indicators], map(D, values), strict=True))
    )
    services.sheet_submit(actor=sheet.judge, sheet=sheet)


@pytest.fixture
def scored(world, towns, staff, judges):
    """Weights checklist 40 / panel 40 / mass 20; quota 1 for 优秀; all deductions capped at 5.
    Indicators I1 (max 30) and I2 (max 20): maxima sum to 50, so the panel sum is scaled × 2.

    panel (5 judges for T1–T3: drop one highest and one lowest; 3 judges for T4: plain mean)
      T1: I1 30 28 27 25 10 → (28+27+25)/3 = 26.67;  I2 20 18 18 16 5 → 17.33;  (26.67+17.33)/50×100 = 88.00
      T2: I1 24 ×5 → 24.00;  I2 16 ×5 → 16.00  → 80.00
      T3: I1 27 ×5 → 27.00;  I2 18 ×5 → 18.00  → 90.00
      T4: I1 24 20 22 → 22.00;  I2 16 16 16 → 16.00  → 76.00
    checklist (one monthly item of 10 points; at 06-30, six occurrences are required)
      T1 6 on time → 100.00;  T2 4 on time + 1 late → 10 × (4 + 0.5)/6 = 7.5 → 75.00;  T3 100.00;
      T4 has no checklist: the component is left out
    mass (the secretary's review score): T1 90, T2 95, T3 85; T4 none
    deductions: T1 1 (by hand); T2 通报 3 + 4 = 7, over the cap → 5
    totals: T1 (40×100 + 40×88 + 20×90)/100 = 93.20 − 1 = 92.20
            T2 (40×75 + 40×80 + 20×95)/100 = 81.00 − 5 = 76.00
            T3 (40×100 + 40×90 + 20×85)/100 = 93.00
            T4 panel only: 76.00
    rank: T3 1, T1 2, T2 3, T4 3 (a tie shares the rank)
    grade: T3 优秀; T1 ≥ 90 but beyond the quota of 1 → 良好; T2 and T4 一般
    """
    scheme = make_scheme(staff, world, quota_count=1, deduction_cap=D(5))
    services.members_add(actor=staff, scheme=scheme, organizations=list(towns.values()))
    services.indicator_add(actor=staff, scheme=scheme, code="I1", name="组织建设", max_score=D(30))
    services.indicator_add(actor=staff, scheme=scheme, code="I2", name="党员教育", max_score=D(20))
    five = services.panel_add(actor=staff, scheme=scheme, name="第一评委团")
    three = services.panel_add(actor=staff, scheme=scheme, name="第二评委团")
    assert (
        services.panel_assign(
            actor=staff, panel=five, judges=judges, organizations=[towns[t] for t in ("T1", "T2", "T3")]
        )
        == []
    )
    services.panel_assign(actor=staff, panel=three, judges=judges[:3], organizations=[towns["T4"]])
    services.scheme_advance(actor=staff, scheme=scheme, to=SchemeState.SCORING)

    def sheets(town):
        return list(JudgeSheet.objects.filter(scheme=scheme, organization=towns[town]).order_by("judge_id"))

    for sheet, values in zip(sheets("T1"), [(30, 20), (28, 18), (27, 18), (25, 16), (10, 5)], strict=True):
        _score(sheet, values)
    for sheet in sheets("T2"):
        _score(sheet, (24, 16))
    for sheet in sheets("T3"):
        _score(sheet, (27, 18))
    for sheet, values in zip(sheets("T4"), [(24, 16), (20, 16), (22, 16)], strict=True):
        _score(sheet, values)

    template = issue_checklist(staff, world, [towns["T1"], towns["T2"], towns["T3"]])
    done(template, towns["T1"], range(1, 7))
    done(template, towns["T2"], [1, 2, 3, 4])
    done(template, towns["T2"], [5], late=True)
    done(template, towns["T3"], range(1, 7))
    review_total(towns["T1"], 90)
    review_total(towns["T2"], 95)
    review_total(towns["T3"], 85)
    services.deduction_add(actor=staff, scheme=scheme, organization=towns["T1"], points=D(1), reason="材料报送不及时")
    for number, points in ((1, 3), (2, 4)):
        supervision.notice_issue(
            actor=staff,
            issuer=world.county_a,
            prefix="A组通字",
            year=this_year(),
            title=f"通报{number}",
            issued_on=date(this_year(), 6, 1),  # before the scoring date (06-30)
            content="通报内容",
            entries=[{"organization": towns["T2"], "points": D(points), "reason": f"问题{number}"}],
        )
    return scheme


def _results(scheme):
    return {r.organization.code: r for r in SchemeResult.objects.filter(scheme=scheme).select_related("organization")}


def test_the_hand_computed_year_end(scored, towns):
    aggregation.store(scored, aggregation.compute(scored))
    results = _results(scored)
    assert {code: (r.checklist, r.panel, r.mass) for code, r in results.items()} == {
        "T1": (D("100.00"), D("88.00"), D("90.00")),
        "T2": (D("75.00"), D("80.00"), D("95.00")),
        "T3": (D("100.00"), D("90.00"), D("85.00")),
        "T4": (None, D("76.00"), None),
    }
    assert {code: (r.deductions, r.total) for code, r in results.items()} == {
        "T1": (D("1.00"), D("92.20")),
        "T2": (D("5.00"), D("76.00")),
        "T3": (D("0.00"), D("93.00")),
        "T4": (D("0.00"), D("76.00")),
    }
    assert {code: r.rank for code, r in results.items()} == {"T3": 1, "T1": 2, "T2": 3, "T4": 3}
    assert {code: (r.grade, r.capped) for code, r in results.items()} == {
        "T3": (0, False),
        "T1": (1, True),
        "T2": (2, False),
        "T4": (2, False),
    }
    assert results["T4"].weights == {"panel": "100.00"}
    # each deduction with its document; the cap applies to their sum (7 → 5)
    lines = list(results["T2"].deduction_lines.order_by("reference").values_list("points", "reference"))
    assert lines == [(D("3.00"), f"A组通字〔{this_year()}〕1号"), (D("4.00"), f"A组通字〔{this_year()}〕2号")]


def test_aggregating_twice_changes_nothing_and_uses_few_queries(scored, django_assert_max_num_queries):
    aggregation.store(scored, aggregation.compute(scored))
    before = list(SchemeResult.objects.filter(scheme=scored).values_list("organization", "total", "rank", "grade"))
    with django_assert_max_num_queries(30):
        aggregation.store(scored, aggregation.compute(scored))
    after = list(SchemeResult.objects.filter(scheme=scored).values_list("organization", "total", "rank", "grade"))
    assert before == after


def test_the_job_runs_once_at_a_time_and_marks_the_scheme_aggregated(scored, staff, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        run = services.aggregation_start(actor=staff, scheme=scored)
        with pytest.raises(services.ValidationError, match="正在进行"):
            services.aggregation_start(actor=staff, scheme=scored)
    assert len(callbacks) == 1
    callbacks[0]()
    run.refresh_from_db()
    scored.refresh_from_db()
    assert (run.status, run.progress, scored.state) == ("done", 100, SchemeState.AGGREGATED)
    assert SchemeResult.objects.filter(scheme=scored).count() == 4


def test_a_dead_run_lets_a_new_one_start(scored, staff):
    from datetime import timedelta

    from scoring.models import AggregationRun

    stale = AggregationRun.objects.create(scheme=scored, requested_by=staff)
    AggregationRun.objects.filter(pk=stale.pk).update(heartbeat_at=timezone.now() - timedelta(hours=1))
    services.aggregation_start(actor=staff, scheme=scored)
    stale.refresh_from_db()
    assert stale.status == "failed"


def test_scores_outside_the_range_are_refused_and_drafts_kept(scored, towns):
    sheet = JudgeSheet.objects.filter(scheme=scored, organization=towns["T1"]).first()
    services.sheet_reopen(actor=scored.created_by, sheet=sheet, reason="评委录入有误")
    i1, i2 = scored.indicators.order_by("position")
    with pytest.raises(services.ValidationError) as refused:
        services.sheet_save(actor=sheet.judge, sheet=sheet, scores={i1.pk: D("29"), i2.pk: D("25")})
    assert "党员教育" in str(refused.value)
    assert sheet.scores.get(indicator=i1).score == D("30")  # the failed save changed nothing


def test_the_scoring_date_of_a_past_year_is_inclusive(world, towns, staff):
    scheme = make_scheme(staff, world, scoring_date=date(this_year(), 1, 31), weight_panel=0, weight_checklist=80)
    services.members_add(actor=staff, scheme=scheme, organizations=[towns["T1"]])
    template = issue_checklist(staff, world, [towns["T1"]])
    done(template, towns["T1"], [1])
    results = {row.organization_id: row for row in aggregation.compute(scheme)}
    assert results[towns["T1"].pk].components["checklist"] == D("100.00")


def test_means_are_exact_cents_rounded_half_up(world, towns, staff, judges):
    """Two judges give T1 1.00 and 1.01 on an indicator of 3 (a plain mean under 5 judges):
    1.005 rounds half up to 1.01, not to the 1.00 binary floating point would give; 0.10, 0.20
    and 0.35 from three judges on T2 make 0.65 / 3 = 0.2166… → 0.22. The panel component scales by
    100 / 3: T1 1.01 × 100 / 3 = 33.666… → 33.67; T2 0.22 × 100 / 3 = 7.333… → 7.33."""
    scheme = make_scheme(staff, world, weight_checklist=0, weight_mass=0, weight_panel=100)
    services.members_add(actor=staff, scheme=scheme, organizations=[towns["T1"], towns["T2"]])
    services.indicator_add(actor=staff, scheme=scheme, code="I1", name="组织建设", max_score=D(3))
    two = services.panel_add(actor=staff, scheme=scheme, name="第一评委团")
    three = services.panel_add(actor=staff, scheme=scheme, name="第二评委团")
    services.panel_assign(actor=staff, panel=two, judges=judges[:2], organizations=[towns["T1"]])
    services.panel_assign(actor=staff, panel=three, judges=judges[2:5], organizations=[towns["T2"]])
    services.scheme_advance(actor=staff, scheme=scheme, to=SchemeState.SCORING)
    for town, values in (("T1", ["1.00", "1.01"]), ("T2", ["0.10", "0.20", "0.35"])):
        sheets = JudgeSheet.objects.filter(scheme=scheme, organization=towns[town]).order_by("judge_id")
        for sheet, value in zip(sheets, values, strict=True):
            _score(sheet, [value])
    aggregation.store(scheme, aggregation.compute(scheme))
    results = _results(scheme)
    assert (results["T1"].panel, results["T2"].panel) == (D("33.67"), D("7.33"))
    assert (results["T1"].rank, results["T2"].rank) == (1, 2)


def test_a_rerun_after_a_change_reranks(scored, towns):
    aggregation.store(scored, aggregation.compute(scored))
    services.deduction_add(
        actor=scored.created_by, scheme=scored, organization=towns["T3"], points=D(2), reason="信息报送迟报"
    )
    aggregation.store(scored, aggregation.compute(scored))
    results = _results(scored)
    # T3 93.00 − 2 = 91.00 falls below T1's 92.20
    assert {code: (r.total, r.rank) for code, r in results.items()} == {
        "T1": (D("92.20"), 1),
        "T3": (D("91.00"), 2),
        "T2": (D("76.00"), 3),
        "T4": (D("76.00"), 3),
    }
    assert list(results["T3"].deduction_lines.values_list("points", flat=True)) == [D("2.00")]


def test_the_management_command_runs_the_same_aggregation(scored, staff):
    from io import StringIO

    from django.core.management import CommandError, call_command

    from scoring.models import AggregationRun

    out = StringIO()
    call_command("aggregate_scheme", str(scored.pk), "--user", staff.username, stdout=out)
    assert "4 results" in out.getvalue()
    assert _results(scored)["T1"].total == D("92.20")
    assert AggregationRun.objects.get().requested_by == staff
    AggregationRun.objects.create(scheme=scored, requested_by=staff)  # one running elsewhere
    with pytest.raises(CommandError, match="正在进行"):
        call_command("aggregate_scheme", str(scored.pk), stdout=out)
    with pytest.raises(CommandError, match="no scheme"):
        call_command("aggregate_scheme", "999999", stdout=out)
