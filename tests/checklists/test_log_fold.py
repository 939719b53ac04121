"""The operation log of a checklist, an item, an entry, a problem and an organization is folded
at the foot of the page and read when opened (organizations/timelines.py)."""

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from checklists import services
from checklists.models import Occurrence
from supervision import services as supervision_services
from tests.log_fold import assert_log_folded


@pytest.fixture
def outsider(people):
    """The neighbouring village's secretary: A1a's records are outside their area."""
    client = Client()
    client.force_login(people.neighbour)
    return client


@pytest.fixture
def staff(people, client):
    client.force_login(people.staff)
    return client


def test_the_checklist_item_and_entry_pages_fold_their_logs(issued, people, staff, outsider):
    occurrence = Occurrence.objects.filter(item__checklist=issued).order_by("deadline", "pk").first()
    entry = services.entry_submit(
        actor=people.secretary, occurrence=occurrence, date=occurrence.deadline, content="召开支委会"
    )
    services.entry_return(actor=people.town_clerk, entry=entry, comment="请补会议照片")
    for url, marker in [
        (reverse("checklists:checklist", args=[issued.pk]), "县组织部"),  # issued it
        (reverse("checklists:item", args=[occurrence.item.pk]), "县组织部"),
        (reverse("checklists:entry", args=[entry.pk]), "镇党建办"),  # returned it
    ]:
        assert_log_folded(staff, url, marker=marker, outsider=outsider)


def test_the_problem_page_folds_its_log(world, people, staff, outsider):
    today = timezone.localdate()
    problem = supervision_services.problem_list(
        actor=people.staff,
        organization=world.village_a1a,
        responsible_unit=world.village_a1a,
        source="supervision",
        category="组织生活",
        description="三会一课记录不全",
        found_on=today,
        found_by="督导组",
        deadline=today + timedelta(days=30),
    )
    assert_log_folded(staff, reverse("supervision:problem", args=[problem.pk]), marker="县组织部", outsider=outsider)


def test_the_organization_page_folds_its_log(world, people, staff, outsider):
    from organizations import services as organization_services

    organization_services.organization_update(actor=people.staff, organization=world.village_a1a, name="新名村")
    assert_log_folded(staff, reverse("organizations:detail", args=["A1a"]), marker="县组织部", outsider=outsider)
