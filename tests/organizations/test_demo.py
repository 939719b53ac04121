import pytest
from django.core.management import call_command

from organizations.models import (
    Organization,
    OrganizationKind,
    Pairing,
    Person,
    Post,
    PostTitle,
    Role,
    RoleAssignment,
    User,
)


@pytest.mark.django_db
def test_seed_demo_builds_zhanjiang_and_is_idempotent(capsys):
    call_command("seed_demo")
    first = capsys.readouterr().out
    counts = [
        Organization.objects.count(),
        Person.objects.count(),
        Post.objects.count(),
        User.objects.count(),
        RoleAssignment.objects.count(),
        Pairing.objects.count(),
    ]

    call_command("seed_demo")
    assert [
        Organization.objects.count(),
        Person.objects.count(),
        Post.objects.count(),
        User.objects.count(),
        RoleAssignment.objects.count(),
        Pairing.objects.count(),
    ] == counts

    counties = Organization.objects.filter(parent__code="440800").exclude(kind=OrganizationKind.COUNTY_DEPARTMENT)
    assert set(counties.values_list("name", flat=True)) == {"吴川市", "遂溪县", "徐闻县"}
    for county in counties:
        towns = Organization.objects.filter(parent=county, kind__in=["town", "township", "subdistrict"])
        assert towns.count() == 15
    assert Organization.objects.filter(name="梅录街道", kind="subdistrict").exists()
    assert Organization.objects.filter(name="角尾乡", kind="township").exists()
    # "一肩挑": some village secretaries are also the committee director
    both = Post.objects.filter(title=PostTitle.COMMITTEE_DIRECTOR, person__posts__title=PostTitle.SECRETARY)
    assert both.exists()
    assert Post.objects.filter(title=PostTitle.FIRST_SECRETARY).exists()
    # a user for every role, and the printed way to log in as each
    assert set(RoleAssignment.objects.values_list("role", flat=True)) == set(Role)
    assert "zhanjiang2026" in first
    for username in [
        "admin",
        "wc_admin",
        "wc_staff",
        "ml_secretary",
        "ml_clerk",
        "wc_judge",
        "wc_supervisor",
        "zj_viewer",
    ]:
        assert username in first
    # Wuchuan has two 塘边村: the printed logins say which one (issue 11 point 12).
    assert "@ 塘边村（梅录街道）" in first
    # The demo's problems name their 责任人 and one cites its checklist item (issue 11 point 7).
    from supervision.models import Problem

    assert not Problem.objects.filter(responsible_person=None, visit=None).exists()
    assert Problem.objects.exclude(checklist_item=None).exists()
    # A reviewer finds evidence to judge: a photo and a PDF on an entry waiting in 梅录街道 (point 17).
    from checklists.models import Attachment, LedgerEntry, ReviewStatus

    waiting = LedgerEntry.objects.filter(status=ReviewStatus.SUBMITTED, organization__parent__code="440883001")
    kinds = set(Attachment.objects.filter(entries__in=waiting).values_list("content_type", flat=True))
    assert {"image/jpeg", "application/pdf"} <= kinds
    # The demo's judge has sheets still to fill, not only submitted ones.
    from scoring.models import JudgeSheet

    assert JudgeSheet.objects.filter(judge__username="wc_judge", status="open").exists()
