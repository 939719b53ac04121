"""Issuing runs as a background job: progress on the page, one at a time, a dead run replaced,
a failed one reported, and batches that give the same checklists as one pass."""

from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from checklists import services
from checklists.models import Checklist, ChecklistItem, IssueRun, Occurrence

from .conftest import YEAR


def _issue(client, template, root, deadline=None):
    deadline = deadline or date(YEAR, 2, 28)
    return client.post(
        reverse("checklists:template", args=[template.pk]),
        {"action": "issue", "root": root.code, "claim_deadline": deadline.isoformat()},
        follow=True,
    )


def test_the_page_starts_the_job_and_shows_what_it_did(
    world, people, branch_template, client, django_capture_on_commit_callbacks
):
    client.force_login(people.staff)
    with django_capture_on_commit_callbacks(execute=True):
        started = _issue(client, branch_template, world.county_a).content.decode()
    assert "已开始下发" in started
    assert "正在下发" in started
    assert "hx-trigger" in started
    run = IssueRun.objects.get()
    assert (run.status, run.progress, run.checklists_created, run.items_added) == ("done", 100, 4, 16)
    page = client.get(reverse("checklists:template", args=[branch_template.pk])).content.decode()
    assert "新增清单 4 份" in page
    assert Checklist.objects.filter(template=branch_template).count() == 4
    status = client.get(reverse("checklists:issue_status", args=[branch_template.pk]), HTTP_HX_REQUEST="true")
    assert status["HX-Refresh"] == "true"


def test_one_run_at_a_time_and_a_dead_one_is_replaced(world, people, branch_template, client):
    client.force_login(people.staff)
    _issue(client, branch_template, world.county_a)  # on_commit not run: the run stays running
    run = IssueRun.objects.get()
    page = client.get(reverse("checklists:issue_status", args=[branch_template.pk]), HTTP_HX_REQUEST="true")
    assert "hx-trigger" in page.content.decode()
    assert "HX-Refresh" not in page
    second = _issue(client, branch_template, world.county_a).content.decode()
    assert "请等待完成后再操作" in second
    assert IssueRun.objects.count() == 1
    IssueRun.objects.filter(pk=run.pk).update(heartbeat_at=timezone.now() - timedelta(hours=1))
    _issue(client, branch_template, world.county_a)
    run.refresh_from_db()
    assert run.status == "failed"
    assert IssueRun.objects.filter(status="running").count() == 1


def test_a_failing_run_is_reported_and_issuing_again_completes_it(
    world, people, branch_template, client, monkeypatch, django_capture_on_commit_callbacks
):
    client.force_login(people.staff)
    real = services._items_issue
    calls = []

    def fail_the_second_batch(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("磁盘已满")
        return real(*args, **kwargs)

    monkeypatch.setattr(services, "ISSUE_BATCH", 2)
    monkeypatch.setattr(services, "_items_issue", fail_the_second_batch)
    with pytest.raises(RuntimeError), django_capture_on_commit_callbacks(execute=True):
        _issue(client, branch_template, world.county_a)
    run = IssueRun.objects.get()
    assert run.status == "failed"
    assert "磁盘已满" in run.error
    assert Checklist.objects.count() == 2  # the first batch stands; the second rolled back whole
    page = client.get(reverse("checklists:template", args=[branch_template.pk])).content.decode()
    assert "磁盘已满" in page
    monkeypatch.setattr(services, "_items_issue", real)
    with django_capture_on_commit_callbacks(execute=True):
        _issue(client, branch_template, world.county_a)
    assert IssueRun.objects.first().checklists_created == 2
    assert Checklist.objects.count() == 4
    assert ChecklistItem.objects.count() == 16


def test_batches_give_what_one_pass_gives(world, people, branch_template, monkeypatch):
    monkeypatch.setattr(services, "ISSUE_BATCH", 1)
    seen = []
    created, added = services.checklist_issue(
        actor=people.staff,
        template=branch_template,
        root=world.county_a,
        claim_deadline=date(YEAR, 2, 28),
        progress=seen.append,
    )
    assert (created, added) == (4, 16)
    assert seen == [25, 50, 75, 99]
    assert Occurrence.objects.filter(item__checklist__organization=world.village_a1a).count() == 18


def test_issuing_is_for_the_templates_owner_only(world, people, branch_template, client, user_with_role):
    from organizations.models import Role

    client.force_login(user_with_role(Role.STAFF, world.county_b))
    # another county's template is not shown to exist (issue 13, 7)
    assert _issue(client, branch_template, world.county_b).status_code == 404
    assert client.get(reverse("checklists:issue_status", args=[branch_template.pk])).status_code == 404
    client.force_login(people.staff)
    page = _issue(client, branch_template, world.county_b).content.decode()  # outside the staff's area
    assert IssueRun.objects.count() == 0
    assert 'value="B"' in page
