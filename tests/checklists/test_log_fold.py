"""The operation log of a checklist, an item, an entry, a problem and an organization is folded
at the foot of the page and read when opened (organizations/timelines.py)."""

import pytest
from django.test import Client
from django.urls import reverse

from checklists import services
from checklists.models import Occurrence
from tests.log_fold import assert_log_folded
from tests.organizations.test_timeline_names import _problem


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
    problem = _problem(world, people.staff)  # at village A1a, listed by the county staff
    assert_log_folded(staff, reverse("supervision:problem", args=[problem.pk]), marker="县组织部", outsider=outsider)


def test_the_organization_page_folds_its_log(world, people, staff, outsider):
    from organizations import services as organization_services

    organization_services.organization_update(actor=people.staff, organization=world.village_a1a, name="新名村")
    assert_log_folded(staff, reverse("organizations:detail", args=["A1a"]), marker="县组织部", outsider=outsider)
