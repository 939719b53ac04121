"""A whole meeting through the pages, by the right roles only (issue 8's "done when")."""

import io
import re
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from reviews.models import (
    Ballot,
    Consequence,
    ConsequenceKind,
    PaperTally,
    Reportee,
    ReviewResult,
    ReviewSession,
    State,
    Verdict,
)
from spreadsheets.models import ExportJob
from supervision.models import Admonishment, Problem, Source

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _post(client, url, data, **extra):
    return client.post(url, data, **extra)


def _codes(page):
    return re.findall(r'<span class="slip-code">([0-9A-Z-]+)</span>', page.text)


@pytest.fixture
def set_up(world, people, client):
    """A county review of the A villages' secretaries, set up through the pages by county staff."""
    client.force_login(people.staff)
    today = timezone.localdate()
    page = _post(
        client,
        reverse("reviews:session_create"),
        {
            "title": "2026年度村党组织书记述职评议",
            "organizer": "A",
            "year": today.year,
            "level": "village",
            "starts_on": today - timedelta(days=1),
            "ends_on": today + timedelta(days=10),
            "grade_set": "cadre",
            "score_max": 100,
            "veto": "1/2",
            "quorum": "2/3",
        },
    )
    session = ReviewSession.objects.get()
    assert page.url == reverse("reviews:session", args=[session.pk])
    url = reverse("reviews:session", args=[session.pk])
    _post(client, url, {"action": "venue", "name": "县会场", "organization": "A", "held_on": today})
    venue = session.venues.get()
    venue_url = reverse("reviews:venue", args=[venue.pk])
    _post(client, venue_url, {"action": "group", "name": "党员", "weight": "60", "expected": "6"})
    _post(client, venue_url, {"action": "group", "name": "镇干部", "weight": "40", "expected": "4"})
    # county A itself has no secretary in this world: nobody is added, and the page says so
    page = _post(
        client, url, {"action": "reportees", "organization": "A", "titles": ["secretary"], "venues": [venue.pk]}
    )
    assert "没有新的任职人员" in client.get(page.url).text
    for town in ("A1", "A2"):
        _post(
            client,
            url,
            {"action": "reportees", "organization": town, "below": "on", "titles": ["secretary"], "venues": [venue.pk]},
        )
    assert session.reportees.count() == 3
    return session, venue


def test_others_cannot_reach_a_review_and_leaders_only_read(set_up, people, client):
    session, venue = set_up
    urls = [
        reverse("reviews:session", args=[session.pk]),
        reverse("reviews:venue", args=[venue.pk]),
        reverse("reviews:precheck", args=[session.pk]),
        reverse("reviews:reportee", args=[session.reportees.first().pk]),
    ]
    client.force_login(people.other_county)
    assert [client.get(url).status_code for url in urls] == [404, 404, 404, 404]
    secretary, _person = people.secretaries["A1b"]  # a reportee, but not this one's page
    client.force_login(secretary)
    own = session.reportees.get(organization__code="A1b")
    other = session.reportees.get(organization__code="A1a")
    assert client.get(urls[0]).status_code == 404
    assert client.get(reverse("reviews:reportee", args=[other.pk])).status_code == 404
    assert client.get(reverse("reviews:reportee", args=[own.pk])).status_code == 200
    client.force_login(people.clerk)
    assert client.get(urls[0]).status_code == 404
    client.force_login(people.leader)
    assert client.get(urls[0]).status_code == 200
    assert client.post(urls[0], {"action": "venue", "name": "x"}).status_code == 403
    assert client.post(reverse("reviews:advance", args=[session.pk]), {"to": "pre_check"}).status_code == 403
    assert client.post(reverse("reviews:codes", args=[venue.groups.first().pk]), {"count": 3}).status_code == 403


def test_the_whole_meeting_through_the_pages(set_up, world, people, client, django_capture_on_commit_callbacks):
    session, venue = set_up
    advance = reverse("reviews:advance", args=[session.pk])
    r1 = session.reportees.get(organization__code="A1a")
    r2 = session.reportees.get(organization__code="A1b")
    r3 = session.reportees.get(organization__code="A2a")
    party, cadres = venue.groups.get(name="党员"), venue.groups.get(name="镇干部")

    # the reportee uploads his own report, under the evidence rules
    secretary, _person = people.secretaries["A1a"]
    client.force_login(secretary)
    page = client.post(
        reverse("reviews:reportee", args=[r1.pk]),
        {"action": "report", "report": SimpleUploadedFile("述职报告.pdf", PDF, "application/pdf")},
    )
    assert page.status_code == 302
    r1.refresh_from_db()
    assert r1.report.original_name == "述职报告.pdf"

    # pre-report check: the rating cannot open while a check is pending
    Problem.objects.create(
        organization=world.village_a1a,
        responsible_unit=world.village_a1a,
        year=session.year,
        source=Source.SUPERVISION,
        category="组织生活",
        description="支委会记录不全",
        found_on=timezone.localdate() - timedelta(days=40),
        found_by="督导组",
        original_deadline=timezone.localdate() - timedelta(days=5),
        deadline=timezone.localdate() - timedelta(days=5),
    )
    client.force_login(people.staff)
    client.post(advance, {"to": "pre_check"})
    page = client.get(reverse("reviews:precheck", args=[session.pk]))
    assert "逾期" in page.text  # the overdue problem beside A1a's report
    client.post(reverse("reviews:reportee", args=[r1.pk]), {"action": "precheck", "verdict": "partly", "notes": ""})
    r1.refresh_from_db()
    assert r1.check_verdict == Verdict.PENDING  # notes are required unless consistent
    client.post(
        reverse("reviews:reportee", args=[r1.pk]),
        {"action": "precheck", "verdict": "partly", "notes": "报告称无逾期问题，平台有1个逾期问题"},
    )
    client.post(reverse("reviews:reportee", args=[r2.pk]), {"action": "precheck", "verdict": "consistent"})
    page = client.post(advance, {"to": "open"}, follow=True)
    assert "述前考核未完成" in page.text
    assert ReviewSession.objects.get().state == State.PRE_CHECK
    client.post(reverse("reviews:reportee", args=[r3.pk]), {"action": "precheck", "verdict": "consistent"})
    client.post(advance, {"to": "open"})
    assert ReviewSession.objects.get().state == State.OPEN

    # phone ballots for 镇干部: slips printed once, one code tried twice
    page = client.post(reverse("reviews:codes", args=[cadres.pk]), {"count": 4})
    codes = _codes(page)
    assert len(codes) == 4
    assert page.text.count("<svg") >= 4
    client.logout()
    grades = {r1: "0", r2: "3", r3: "1"}
    for code in codes:
        client.post(reverse("vote"), {"step": "code", "code": code})
        data = {"step": "cast", "code": code, **{f"r{r.pk}_grade": g for r, g in grades.items()}}
        assert "已提交" in client.post(reverse("vote"), data).text
    again = client.post(reverse("vote"), {"step": "code", "code": codes[0]})
    assert "已被使用" in again.text
    assert Ballot.objects.count() == 4

    # live tally: counts only, no result while rating is open
    client.force_login(people.leader)
    live = client.get(reverse("reviews:live", args=[venue.pk]))
    assert "4</strong> / 4" in live.text
    assert "平均分" not in live.text
    assert "称职" not in live.text

    # paper count for 党员, entered twice; the first attempt of entry 2 differs in one cell
    header = {"teller": "甲", "present": "6", "issued": "6", "collected": "6", "valid": "6", "invalid": "0"}
    lines = {f"r{r1.pk}_grade_0": "6", f"r{r2.pk}_grade_3": "6", f"r{r3.pk}_grade_1": "6"}
    client.force_login(people.staff)
    client.post(reverse("reviews:paper", args=[party.pk, 1]), {**header, **lines})
    page = client.post(reverse("reviews:paper", args=[party.pk, 1]), {**header, "valid": "7", **lines})
    assert "有效" in page.text  # valid + invalid must equal collected: refused, what was typed kept
    assert 'value="7"' in page.text
    client.force_login(people.staff_two)
    wrong = {**lines, f"r{r3.pk}_grade_1": "5", f"r{r3.pk}_grade_2": "1"}
    page = client.post(reverse("reviews:paper", args=[party.pk, 2]), {**header, "teller": "乙", **wrong})
    assert "两次录入不一致" in page.text
    assert "A2a书记" in page.text
    assert not PaperTally.objects.exists()
    client.post(reverse("reviews:paper", args=[party.pk, 2]), {**header, "teller": "乙", **lines})
    assert PaperTally.objects.get().valid == 6

    # 点评 with a point listed as a problem
    client.force_login(people.staff)
    deadline = timezone.localdate() + timedelta(days=30)
    client.post(
        reverse("reviews:reportee", args=[r2.pk]),
        {
            "action": "comment",
            "commented_by": "县委书记",
            "comment": "抓党建主责意识不强。",
            "problem": "述职评议点评：党员教育管理不到位",
            "category": "党员教育",
            "deadline": deadline,
        },
    )
    problem = Problem.objects.get(source=Source.REVIEW_COMMENT)
    assert (problem.organization, problem.deadline) == (world.village_a1b, deadline)
    assert list(Reportee.objects.get(pk=r2.pk).problems.all()) == [problem]

    # close: the results are worked out by the job, after the commit
    with django_capture_on_commit_callbacks(execute=True):
        client.post(advance, {"to": "closed"})
    results = {r.reportee_id: r for r in ReviewResult.objects.all()}
    # r1: 党员 100 (6 优秀), 镇干部 100 → 100.00 优秀; r2: 0 and 0 → vetoed 不称职; r3: 80 → 称职
    assert (results[r1.pk].total, results[r1.pk].grade) == (100, 0)
    assert (results[r2.pk].grade, results[r2.pk].vetoed) == (3, True)
    assert (results[r3.pk].total, results[r3.pk].grade) == (80, 1)

    # the reportee sees nothing before publication, then only his or her own
    reportee_user, _person = people.secretaries["A1b"]
    client.force_login(reportee_user)
    assert "公布后" in client.get(reverse("reviews:mine")).text
    assert client.get(reverse("reviews:results", args=[session.pk])).status_code == 404
    client.force_login(people.staff)
    client.post(advance, {"to": "published"})
    client.force_login(reportee_user)
    mine = client.get(reverse("reviews:mine"))
    assert "不称职" in mine.text
    assert "A1a书记" not in mine.text
    assert "A2a书记" not in mine.text

    # consequences: recommended from 不称职, decided, carried out; the talk is an admonishment
    kinds = set(Consequence.objects.values_list("kind", flat=True))
    assert kinds == {ConsequenceKind.NO_SUBSIDY, ConsequenceKind.NO_AWARDS, ConsequenceKind.TALK}
    talk = Consequence.objects.get(kind=ConsequenceKind.TALK)
    assert Admonishment.objects.get(pk=talk.admonishment_id).problem is None
    client.force_login(people.staff)
    consequences = reverse("reviews:consequences", args=[session.pk])
    subsidy = Consequence.objects.get(kind=ConsequenceKind.NO_SUBSIDY)
    client.post(consequences, {"pk": subsidy.pk, "status": "adopted", "decided_on": timezone.localdate()})
    client.post(consequences, {"pk": subsidy.pk, "status": "done", "done_on": timezone.localdate()})
    assert Consequence.objects.get(pk=subsidy.pk).status == "done"
    page = client.get(reverse("reviews:barred") + f"?org=A&year={session.year + 1}")
    assert "A1b书记" in page.text

    # exports: the summary of every reportee × group × grade, and the results with consequences
    with django_capture_on_commit_callbacks(execute=True):
        for kind in ("review_summary", "review_results"):
            client.post(reverse("spreadsheets:export_create"), {"kind": kind, "session": session.pk})
        client.post(
            reverse("spreadsheets:export_create"),
            {"kind": "review_barred", "org": "A", "year": session.year + 1, "bar": "no_subsidy"},
        )
    jobs = {job.kind: job for job in ExportJob.objects.all()}
    summary = list(load_workbook(io.BytesIO(jobs["review_summary"].file.read())).active.values)
    assert summary[0][:6] == ("序号", "姓名", "职务", "组织", "会场", "测评组别")
    assert "不称职" in summary[0]
    assert len(summary) == 1 + 3 * 2  # a row per reportee and group
    results_sheet = list(load_workbook(io.BytesIO(jobs["review_results"].file.read())).active.values)
    assert any("不得享受绩效补贴" in (row[8] or "") for row in results_sheet[1:])
    barred = list(load_workbook(io.BytesIO(jobs["review_barred"].file.read())).active.values)
    assert [row[0] for row in barred[1:]] == ["A1b书记"]
    # and someone outside the county cannot export this session
    client.force_login(people.other_county)
    client.post(reverse("spreadsheets:export_create"), {"kind": "review_summary", "session": session.pk})
    assert ExportJob.objects.filter(requester=people.other_county).count() == 0


def test_a_failing_form_keeps_what_was_typed(set_up, people, client):
    _session, venue = set_up
    page = client.post(
        reverse("reviews:venue", args=[venue.pk]),
        {"action": "group", "name": "群众代表", "weight": "0", "expected": "12"},
    )
    assert page.status_code == 200
    assert 'value="群众代表"' in page.text
    assert 'value="12"' in page.text
    page = client.post(reverse("reviews:session_create"), {"title": "x", "organizer": "B", "veto": "3/2"})
    assert "“B”不在您的管理范围内" in page.text
    assert 'value="x"' in page.text
