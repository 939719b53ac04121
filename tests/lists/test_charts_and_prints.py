"""Charts drawn on the server (issue 14, point 4) and the print views (point 5)."""

import csv
import io
from datetime import timedelta
from urllib.parse import unquote

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from checklists import services as checklist_services
from organizations.charts import Chart, bar_svg
from organizations.models import Role
from supervision import services
from supervision.models import Problem, Source, Status
from tests.lists.test_lists import _problems


def _csv(html, name):
    start = html.index(f'download="{name}.csv" href="data:text/csv;charset=utf-8,') + len(
        f'download="{name}.csv" href="data:text/csv;charset=utf-8,'
    )
    data = unquote(html[start : html.index('"', start)].replace("&amp;", "&"))
    return list(csv.reader(io.StringIO(data.lstrip("\ufeff"))))


def test_bar_svg_escapes_labels_and_scales_to_the_maximum():
    svg = bar_svg([("<村>", 50, "50%", "green"), ("空", None, "未下发", "")], maximum=100, title="完成率")
    assert "&lt;村&gt;" in svg
    assert "<村>" not in svg
    assert svg.count("<rect") == 3  # two backgrounds, one bar: nothing due draws no bar


def test_a_charts_table_is_written_as_the_templates_loop_wrote_it(settings):
    """Chart.table_body is the loop it replaced in charts/_figure.html: the first cell linked
    where the row has a link, the others right-aligned, each cell escaped and localized."""
    from decimal import Decimal

    from django.template import engines

    loop = engines["django"].from_string(
        "{% for row, link in chart.table_rows %}<tr>{% for cell in row %}<td{% if not forloop.first %} "
        'class="right"{% endif %}>{% if forloop.first and link %}<a href="{{ link }}">{{ cell }}</a>{% else %}'
        "{{ cell }}{% endif %}</td>{% endfor %}</tr>{% endfor %}"
    )
    settings.USE_THOUSAND_SEPARATOR = True  # localized as in a template
    rows = [["<塘边村>", 3, None, Decimal("87.5"), "12%"], ["A & B", 1234567, 0, Decimal("0"), "—"], ["空", 0]]
    for links in ([], [f"?org=X1&year={timezone.localdate().year}", None, '?org="q"']):
        chart = Chart("t", "", ["h"], rows, links=links)
        for language in ("zh-hans", "en"):
            with translation.override(language):
                assert chart.table_body == loop.render({"chart": chart})


@pytest.fixture
def staff(world, user_with_role):
    return user_with_role(Role.STAFF, world.county_a)


def test_the_board_charts_overdue_by_child_and_states_with_their_tables(world, staff, client):
    # given 3 overdue problems in town A1, 2 in time in town A2 and one closed
    _problems(world, 3, deadline_in=-2)
    _problems(world, 2, deadline_in=30, organization=world.village_a2a)
    _problems(world, 1, deadline_in=-2, status=Status.CLOSED, organization=world.village_a2a)
    client.force_login(staff)
    # when
    html = client.get(reverse("supervision:board"), {"org": "A"}).content.decode()
    # then the overdue chart and its table say 3 for A1, 0 for A2 and the department
    assert 'id="chart-overdue"' in html
    overdue = {row[0]: row[1:] for row in _csv(html, "overdue")[1:]}
    assert overdue["组织A1"] == ["3", "3"]
    assert overdue["组织A2"] == ["0", "2"]
    assert overdue["组织AD"] == ["0", "0"]  # an organization with nothing is listed with zeros
    states = dict(_csv(html, "states")[1:])
    assert states["逾期"] == "3"
    assert states["已销号"] == "1"


def test_the_progress_page_charts_completion_and_the_monthly_trend(world, user_with_role, client):
    staff = user_with_role(Role.STAFF, world.county_a)
    client.force_login(staff)
    html = client.get(reverse("checklists:progress"), {"org": "A"}).content.decode()
    completion = _csv(html, "completion")
    assert [row[0] for row in completion[1:]] == ["组织A1", "组织A2", "组织AD"]
    assert all(row[-1] == "未下发" for row in completion[1:])  # nothing issued: shown, not left out
    assert 'id="chart-trend"' in html


def test_the_signed_checklist_prints_items_responsible_persons_signature_and_time(
    world, client, user_with_role, django_capture_on_commit_callbacks
):
    from checklists.models import Frequency

    staff = user_with_role(Role.STAFF, world.county_a)
    secretary = user_with_role(Role.SECRETARY, world.village_a1a, full_name="李书记")
    today = timezone.localdate()
    template = checklist_services.template_create(
        actor=staff, owner=world.county_a, year=today.year, name="村党组织责任清单", target_types=["branch"]
    )
    checklist_services.template_item_create(
        actor=staff,
        template=template,
        code="Z01",
        category="组织生活",
        title="支委会",
        requirement="每月召开",
        evidence="会议记录",
        frequency=Frequency.ONCE,
        deadline=today,
        score=10,
        meeting_kind="",
        position=1,
    )
    with django_capture_on_commit_callbacks(execute=True):
        checklist_services.checklist_issue(
            actor=staff, template=template, root=world.county_a, claim_deadline=today + timedelta(days=5)
        )
    checklist = template.checklists.get(organization=world.village_a1a)
    checklist_services.checklist_claim(actor=secretary, checklist=checklist, signature="李书记")
    checklist.refresh_from_db()
    client.force_login(staff)
    html = client.get(reverse("checklists:checklist_print", args=[checklist.pk])).content.decode()
    assert "支委会" in html
    assert "李书记" in html
    assert timezone.localtime(checklist.claimed_at).strftime("%Y-%m-%d %H:%M") in html
    assert f"组织A1a（{world.town_a1.name}）" in html
    # outside the area: 404
    client.force_login(user_with_role(Role.STAFF, world.county_b))
    assert client.get(reverse("checklists:checklist_print", args=[checklist.pk])).status_code == 404


def test_an_extension_decision_prints_with_who_decided_and_the_new_deadline(world, client, user_with_role):
    supervisor = user_with_role(Role.SUPERVISOR, world.county_a)
    staff = user_with_role(Role.STAFF, world.county_a, full_name="王部长")
    secretary = user_with_role(Role.SECRETARY, world.village_a1a)
    today = timezone.localdate()
    problem = services.problem_list(
        actor=supervisor,
        organization=world.village_a1a,
        source=Source.SUPERVISION,
        category="阵地建设",
        description="党群服务中心未按时开放",
        found_on=today,
        found_by="督导组",
        deadline=today + timedelta(days=3),
    )
    services.problem_claim(actor=secretary, problem=problem)
    extension = services.extension_request(
        actor=secretary, problem=problem, new_deadline=today + timedelta(days=20), reason="需要采购设备"
    )
    services.extension_decide(actor=staff, extension=extension, approve=True, comment="同意延期")
    client.force_login(staff)
    html = client.get(reverse("supervision:extension_print", args=[extension.pk])).content.decode()
    assert "需要采购设备" in html
    assert "同意延期" in html
    assert "王部长" in html
    assert (today + timedelta(days=20)).strftime("%Y-%m-%d") in html
    client.force_login(user_with_role(Role.STAFF, world.county_b))
    assert client.get(reverse("supervision:extension_print", args=[extension.pk])).status_code == 404


def test_the_board_of_an_area_prints_every_child_and_the_totals(world, staff, client):
    _problems(world, 3, deadline_in=-2)
    client.force_login(staff)
    page = client.get(reverse("supervision:board"), {"org": "A", "print": "1"})
    assert page.templates[0].name == "supervision/board_print.html"
    assert page.context["totals"] == {"open": 3, "overdue": 3, "closed": 0}
    assert len(page.context["problems"]) == Problem.objects.count()


@pytest.mark.parametrize("page_name", ["checklists:progress", "supervision:board"])
def test_charted_pages_keep_their_query_count_as_villages_are_added(world, staff, client, page_name):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from organizations.models import OrganizationKind
    from tests.organizations.factories import OrganizationFactory

    client.force_login(staff)

    def queries():
        with CaptureQueriesContext(connection) as captured:
            assert client.get(reverse(page_name), {"org": "A1"}).status_code == 200
        return len(captured)

    few = queries()
    for number in range(5):
        OrganizationFactory(code=f"A1v{number}", kind=OrganizationKind.VILLAGE, parent=world.town_a1)
    assert queries() == few
