"""The search of the top bar (issue 14, point 3): one page with a section per kind of record,
within the user's area only."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from checklists.models import Checklist, ChecklistTemplate
from organizations.models import Role
from reviews.models import Level, ReviewSession
from scoring.models import Project
from supervision.models import Notice, Problem, Source
from tests.organizations.factories import PersonFactory

WORD = "塘边"


@pytest.fixture
def records(world, user_with_role):
    """One record of each kind in town A1's village and the same in county B's village, all
    carrying the word searched for."""
    today = timezone.localdate()
    staff_a = user_with_role(Role.STAFF, world.county_a)
    for county, town, village, tag in [
        (world.county_a, world.town_a1, world.village_a1a, "甲"),
        (world.county_b, world.town_b1, world.village_b1a, "乙"),
    ]:
        village.name = f"{WORD}村{tag}"
        village.save()
        person = PersonFactory(
            name=f"{WORD}{tag}", organization=village, phone="13812345678" if tag == "甲" else "13912345679"
        )
        template = ChecklistTemplate.objects.create(owner=county, year=today.year, name=f"{WORD}清单{tag}")
        Checklist.objects.create(template=template, organization=village, claim_deadline=today)
        Problem.objects.create(
            organization=village,
            responsible_unit=village,
            year=today.year,
            source=Source.SUPERVISION,
            category="组织生活",
            description=f"{WORD}问题{tag}",
            found_on=today,
            found_by="督导组",
            original_deadline=today + timedelta(days=5),
            deadline=today + timedelta(days=5),
        )
        Notice.objects.create(
            prefix=f"组通字{tag}",
            year=today.year,
            sequence=1,
            title=f"{WORD}通报{tag}",
            issued_on=today,
            content="c",
            issuer=county,
            created_by=staff_a,
        )
        Project.objects.create(
            year=today.year,
            organization=village,
            secretary=person,
            title=f"{WORD}项目{tag}",
            background="b",
            problem="p",
            measures="m",
            schedule="s",
            expected_result="e",
            filed_by=staff_a,
        )
        ReviewSession.objects.create(
            year=today.year,
            organizer=town,
            title=f"{WORD}述职评议{tag}",
            level=Level.VILLAGE_SECRETARIES,
            starts_on=today,
            ends_on=today,
            created_by=staff_a,
        )
    return staff_a


def test_search_finds_each_kind_in_the_area_and_nothing_outside(world, records, client):
    # given county A's staff
    client.force_login(records)
    # when searching the word both counties' records carry
    page = client.get(reverse("search"), {"q": WORD})
    # then one section per kind, each holding county A's record only
    sections = {section["key"]: section for section in page.context["sections"]}
    assert set(sections) == {"organizations", "people", "checklists", "problems", "notices", "projects", "sessions"}
    for key, section in sections.items():
        assert section["page"].paginator.count == 1, key
    html = page.content.decode()
    assert "甲" in html
    assert "乙" not in html
    assert f"{WORD}村甲（{world.town_a1.name}）" in html  # a village named with its town
    assert "138****5678" in html
    assert "13812345678" not in html


def test_a_village_secretary_finds_only_his_village(world, records, user_with_role, client):
    client.force_login(user_with_role(Role.SECRETARY, world.village_a1b))
    page = client.get(reverse("search"), {"q": WORD})
    assert page.context["total"] == 0
    assert "甲" not in page.content.decode()


def test_a_section_alone_lists_every_result_with_pages(world, records, client):
    for number in range(12):
        PersonFactory(name=f"{WORD}人{number}", organization=world.village_a1a)
    client.force_login(records)
    overview = client.get(reverse("search"), {"q": WORD})
    people = next(s for s in overview.context["sections"] if s["key"] == "people")
    assert people["page"].paginator.count == 13
    assert len(people["rows"]) == 10
    alone = client.get(reverse("search"), {"q": WORD, "section": "people"})
    assert [s["key"] for s in alone.context["sections"]] == ["people"]
    assert len(alone.context["sections"][0]["rows"]) == 13


def test_the_top_bar_has_the_search_box(world, records, client):
    client.force_login(records)
    html = client.get(reverse("checklists:home")).content.decode()
    assert f'action="{reverse("search")}"' in html
