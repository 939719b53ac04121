"""Words on the supervision pages (issue 11, points 12 and 16)."""

from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

from organizations.models import Organization, OrganizationKind, Role
from supervision import services


def test_a_notice_is_signed_by_the_organization_department(world, user_with_role, client):
    staff = user_with_role(Role.STAFF, world.county_a, full_name="县组织部干部")
    Organization.objects.filter(pk=world.county_a.pk).update(name="吴川市", kind=OrganizationKind.COUNTY_CITY)
    world.county_a.refresh_from_db()
    notice = services.notice_issue(
        actor=staff,
        issuer=world.county_a,
        prefix="吴组通字",
        year=timezone.localdate().year,
        title="关于党建工作落实不力的通报",
        issued_on=timezone.localdate(),
        content="……",
        entries=[{"organization": world.village_a1a, "person": None, "points": 1, "reason": "逾期"}],
    )
    client.force_login(staff)
    page = client.get(reverse("supervision:notice", args=[notice.pk])).text
    assert "中共吴川市委组织部" in page
    assert f"{world.village_a1a.name}（{world.town_a1.name}）" in page


def test_a_sample_counts_the_organizations_drawn_from(world, user_with_role, client):
    staff = user_with_role(Role.STAFF, world.county_a, full_name="县组织部干部")
    sample = services.sample_draw(actor=staff, root=world.county_a, kinds=[OrganizationKind.VILLAGE], size=1, seed=7)
    client.force_login(staff)
    page = client.get(reverse("supervision:sample", args=[sample.pk])).text
    assert "参与抽取的组织数" in page
    assert "参与抽取的组织编码" not in page
    assert f"（{world.town_a1.name}）" in page or f"（{world.town_a2.name}）" in page


def test_the_problem_page_and_its_handover_notice_name_the_village_with_its_town(world, user_with_role, client):
    staff = user_with_role(Role.STAFF, world.county_a, full_name="县组织部干部")
    problem = services.problem_list(
        actor=staff,
        organization=world.village_a1a,
        responsible_unit=world.village_a1a,
        source="supervision",
        category="组织生活",
        description="三会一课记录不全",
        found_on=timezone.localdate(),
        found_by="督导组",
        deadline=timezone.localdate() + timedelta(days=30),
    )
    client.force_login(staff)
    named = f"{world.village_a1a.name}（{world.town_a1.name}）"
    assert named in client.get(reverse("supervision:problem", args=[problem.pk])).text
    assert named in client.get(reverse("supervision:problem_print", args=[problem.pk])).text
    board = client.get(reverse("supervision:board") + f"?org={world.county_a.code}").text
    assert named in board
    # County staff see the city in the breadcrumbs, but not as a link they cannot open.
    assert f"?org={world.city.code}" not in board


def test_visits_and_the_printed_board_name_the_village_with_its_town(world, user_with_role, client):
    """Issue 11 point 12: the list of visits spans the county, and a printed board stands alone."""
    from supervision.models import Aspect

    staff = user_with_role(Role.STAFF, world.county_a, full_name="县组织部干部")
    visit, _ = services.visit_record(
        actor=staff,
        organization=world.village_a1a,
        date=timezone.localdate(),
        answers={aspect: {"ok": True, "note": ""} for aspect in Aspect},
    )
    client.force_login(staff)
    named = f"{world.village_a1a.name}（{world.town_a1.name}）"
    assert named in client.get(reverse("supervision:visits")).text
    assert named in client.get(reverse("supervision:visit", args=[visit.pk])).text
    printed = client.get(reverse("supervision:board") + f"?org={world.village_a1a.code}&print=1").text
    assert f'<h1 class="center">{named}' in printed
