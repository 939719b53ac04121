"""Read everything in the area (issue 14.2): a leader (viewer) or staff above opens every page of
every kind of record in the subtree — templates, checklists, items, entries, meetings, duty
records, problems, follow-ups, visits, samples, notices — and organizations with no data are
listed with zeros and 未下发. Writes stay with the roles that may take them."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from checklists import services as checklist_services
from checklists.models import DutyKind, DutyReport, Frequency, LedgerEntry, MeetingKind, Occurrence
from organizations.models import OrganizationKind, PartyType, Role
from supervision import services as supervision_services
from supervision.models import Aspect, FollowUpMethod, Source


@pytest.fixture
def records(world, user_with_role):
    """One record of every kind in county A (town A1, village A1a); county B has none."""
    today = timezone.localdate()
    staff = user_with_role(Role.STAFF, world.county_a)
    supervisor = user_with_role(Role.SUPERVISOR, world.county_a)
    secretary = user_with_role(Role.SECRETARY, world.village_a1a)
    template = checklist_services.template_create(
        actor=staff, owner=world.county_a, year=today.year, name="本年清单", target_types=[PartyType.BRANCH]
    )
    checklist_services.template_item_create(
        actor=staff,
        template=template,
        code="Z01",
        category="组织生活",
        title="支委会",
        requirement="每月召开",
        frequency=Frequency.MONTHLY,
        score=Decimal("10"),
        meeting_kind=MeetingKind.COMMITTEE_MEETING,
    )
    checklist_services.checklist_issue(
        actor=staff, template=template, root=world.county_a, claim_deadline=today + timedelta(days=5)
    )
    checklist = template.checklists.get(organization=world.village_a1a)
    occurrence = Occurrence.objects.filter(item__checklist=checklist).order_by("deadline").first()
    entry = checklist_services.entry_submit(actor=secretary, occurrence=occurrence, date=today, content="已召开")
    meeting = checklist_services.meeting_submit(
        actor=secretary,
        organization=world.village_a1a,
        kind=MeetingKind.COMMITTEE_MEETING,
        date=today,
        topic="学习",
        expected=5,
        present=5,
        absences=[],
        minutes="会议纪要",
    )
    # Last month's duty records: a month is sent up from its last day on.
    last_month = (today.replace(day=1) - timedelta(days=1)).replace(day=1)
    checklist_services.duty_record_add(
        actor=secretary,
        organization=world.village_a1a,
        date=last_month,
        kind=DutyKind.HEART_TALK,
        content="谈心谈话",
    )
    checklist_services.duty_report_submit(actor=secretary, organization=world.village_a1a, month=last_month)
    problem = supervision_services.problem_list(
        actor=supervisor,
        organization=world.village_a1a,
        source=Source.SUPERVISION,
        category="组织生活",
        description="会议记录不全",
        found_on=today,
        found_by="督导组",
        deadline=today + timedelta(days=20),
    )
    follow_up = supervision_services.follow_up_record(
        actor=supervisor,
        organization=world.village_a1a,
        method=FollowUpMethod.choices[0][0],
        date=today,
        findings="回访情况良好",
    )
    visit, _problems = supervision_services.visit_record(
        actor=supervisor,
        organization=world.village_a1a,
        date=today,
        answers={aspect: {"ok": True, "note": "五个方面已查"} for aspect in Aspect},
    )
    sample = supervision_services.sample_draw(
        actor=supervisor, root=world.county_a, kinds=[OrganizationKind.VILLAGE], size=1
    )
    notice = supervision_services.notice_issue(
        actor=staff,
        issuer=world.county_a,
        prefix="组通字",
        year=today.year,
        title="关于台账问题的通报",
        issued_on=today,
        content="通报内容",
        entries=[{"organization": world.village_a1a, "person": None, "points": Decimal("1"), "reason": "台账不全"}],
    )
    return {
        "template": template,
        "checklist": checklist,
        "item": checklist.items.get(),
        "entry": LedgerEntry.objects.get(pk=entry.pk),
        "meeting": meeting,
        "duty_report": DutyReport.objects.get(organization=world.village_a1a),
        "problem": problem,
        "follow_up": follow_up,
        "visit": visit,
        "sample": sample,
        "notice": notice,
    }


def pages(world, r):
    """Every page of every kind of record in county A, with a text each must show."""
    village = world.village_a1a.code
    return [
        (reverse("checklists:home"), r["template"].name),
        (reverse("checklists:template", args=[r["template"].pk]), "支委会"),
        (reverse("checklists:checklist", args=[r["checklist"].pk]), "支委会"),
        (reverse("checklists:item", args=[r["item"].pk]), "支委会"),
        (reverse("checklists:entry", args=[r["entry"].pk]), "已召开"),
        (reverse("checklists:meeting", args=[r["meeting"].pk]), "会议纪要"),
        (reverse("checklists:meetings", args=[village]), "学习"),
        (reverse("checklists:duty") + f"?org={village}", "谈心谈话"),
        (reverse("checklists:duty"), world.village_a1a.name),
        (reverse("checklists:duty_report", args=[r["duty_report"].pk]), "谈心谈话"),
        (reverse("checklists:review"), world.village_a1a.name),
        (reverse("checklists:progress") + f"?org={world.county_a.code}", world.town_a1.name),
        (reverse("supervision:board") + f"?org={village}", "会议记录不全"),
        (reverse("supervision:problem", args=[r["problem"].pk]), "会议记录不全"),
        (reverse("supervision:problem_print", args=[r["problem"].pk]), "会议记录不全"),
        (reverse("supervision:follow_ups"), "回访情况良好"),
        (reverse("supervision:follow_ups") + "?month=" + timezone.localdate().strftime("%Y-%m"), "五个方面已查"),
        (reverse("supervision:sample", args=[r["sample"].pk]), world.county_a.name),
        (reverse("supervision:notices"), "关于台账问题的通报"),
        (reverse("supervision:notice", args=[r["notice"].pk]), "台账不全"),
        (reverse("supervision:admonishments"), ""),
        (reverse("organizations:detail", args=[village]), world.village_a1a.name),
    ]


@pytest.mark.parametrize("where", ["city", "county_a"])
def test_a_leader_above_opens_every_kind_of_record(client, world, records, user_with_role, where):
    client.force_login(user_with_role(Role.VIEWER, getattr(world, where)))
    for url, text in pages(world, records):
        response = client.get(url)
        assert response.status_code == 200, url
        assert text in response.content.decode(), url


def test_county_staff_open_every_kind_of_record(client, world, records, user_with_role):
    client.force_login(user_with_role(Role.STAFF, world.county_a))
    for url, text in pages(world, records):
        response = client.get(url)
        assert response.status_code == 200, url
        assert text in response.content.decode(), url


def test_the_leader_reads_a_template_but_changes_nothing(client, world, records, user_with_role):
    client.force_login(user_with_role(Role.VIEWER, world.city))
    url = reverse("checklists:template", args=[records["template"].pk])
    page = client.get(url).content.decode()
    assert 'name="action" value="issue"' not in page
    assert 'value="add_item"' not in page
    response = client.post(url, {"action": "add_item", "code": "Z09", "title": "新增"})
    assert response.status_code == 403
    assert records["template"].items.count() == 1
    assert client.post(reverse("supervision:follow_ups"), {"action": "record"}).status_code == 403
    assert 'value="record"' not in client.get(reverse("supervision:follow_ups")).content.decode()


def test_outside_the_area_the_records_do_not_exist(client, world, records, user_with_role):
    client.force_login(user_with_role(Role.VIEWER, world.county_b))
    for name in ["template", "checklist", "item", "entry", "meeting", "duty_report", "problem", "sample", "notice"]:
        url_name = {"duty_report": "checklists:duty_report", "problem": "supervision:problem"}.get(name)
        url_name = url_name or (f"supervision:{name}" if name in {"sample", "notice"} else f"checklists:{name}")
        assert client.get(reverse(url_name, args=[records[name].pk])).status_code == 404, name
    follow_ups = client.get(reverse("supervision:follow_ups")).content.decode()
    assert "回访情况良好" not in follow_ups
    assert "五个方面已查" not in follow_ups


def test_the_visited_do_not_read_the_sample(client, world, records, user_with_role):
    client.force_login(user_with_role(Role.SECRETARY, world.town_a1))
    assert client.get(reverse("supervision:sample", args=[records["sample"].pk])).status_code == 404


def test_the_town_secretary_reads_the_review_queue_of_his_villages(client, world, records, user_with_role):
    client.force_login(user_with_role(Role.SECRETARY, world.town_a1))
    response = client.get(reverse("checklists:review") + f"?org={world.town_a1.code}")
    assert response.status_code == 200
    counts = {kind: response.context[kind].paginator.count for kind in ("entries", "meetings", "duty_reports")}
    assert counts == {"entries": 1, "meetings": 1, "duty_reports": 1}
    assert not response.context["acting"]


def test_the_city_lists_counties_with_no_data_with_zeros_and_not_issued(client, world, records, user_with_role):
    client.force_login(user_with_role(Role.VIEWER, world.city))
    progress = client.get(reverse("checklists:progress") + f"?org={world.city.code}")
    rows = {child.code: child for child in progress.context["children"]}
    assert set(rows) == {world.county_a.code, world.county_b.code}
    assert rows[world.county_b.code].total == 0
    assert "未下发" in progress.content.decode()
    board = client.get(reverse("supervision:board") + f"?org={world.city.code}")
    rows = {row.code: row for row in board.context["rows"]}
    assert set(rows) == {world.county_a.code, world.county_b.code}
    assert (rows[world.county_b.code].open, rows[world.county_b.code].overdue) == (0, 0)
    home = client.get(reverse("home")).content.decode()
    assert f'data-child="{world.county_b.code}"' in home
    assert "未下发" in home
