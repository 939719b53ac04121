from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from checklists import services
from checklists.models import Checklist, ChecklistItem, Frequency, Occurrence, periods
from checklists.selectors import claim_differences
from organizations.models import PartyType

from .conftest import YEAR


@pytest.mark.parametrize(
    ("frequency", "count", "last"),
    [
        (Frequency.ONCE, 1, date(YEAR, 6, 30)),
        (Frequency.MONTHLY, 12, date(YEAR, 12, 31)),
        (Frequency.QUARTERLY, 4, date(YEAR, 12, 31)),
        (Frequency.HALF_YEARLY, 2, date(YEAR, 12, 31)),
        (Frequency.YEARLY, 1, date(YEAR, 6, 30)),
    ],
)
def test_periods_per_frequency(frequency, count, last):
    result = periods(frequency, YEAR, date(YEAR, 6, 30))
    assert len(result) == count
    assert result[-1][2] == last
    assert result[0][1] == date(YEAR, 1, 1)


def test_february_ends_on_its_last_day():
    assert periods(Frequency.MONTHLY, 2028, None)[1][1:] == (date(2028, 2, 1), date(2028, 2, 29))


def test_issue_makes_one_checklist_per_targeted_organization(world, people, branch_template):
    # the world: villages A1a, A1b, A2a are 党支部 in county A; towns are 党委; B1a is in county B
    created, items = services.checklist_issue(
        actor=people.staff, template=branch_template, root=world.county_a, claim_deadline=date(YEAR, 2, 28)
    )
    organizations = set(Checklist.objects.values_list("organization__code", flat=True))
    assert organizations == {"A1a", "A1b", "A2a", "AD"}  # AD, a county department, is a 党支部 too
    assert (created, items) == (4, 16)
    # 12 + 4 + 1 + 1 occurrences per checklist
    assert Occurrence.objects.filter(item__checklist__organization=world.village_a1a).count() == 18
    assert Checklist.history.filter(history_change_reason="下发").count() == 4


def test_issuing_again_adds_only_what_is_missing(world, people, branch_template, issued):
    world.town_a2.party_type = PartyType.BRANCH  # a town becomes a branch: a new target
    world.town_a2.save()
    created, items = services.checklist_issue(
        actor=people.staff, template=branch_template, root=world.county_a, claim_deadline=date(YEAR, 3, 31)
    )
    assert (created, items) == (1, 4)
    assert Checklist.objects.count() == 5
    assert ChecklistItem.objects.count() == 20


def test_issue_is_refused_for_an_empty_template(world, people):
    template = services.template_create(
        actor=people.staff, owner=world.county_a, year=YEAR, name="空", target_types=[PartyType.BRANCH]
    )
    with pytest.raises(ValidationError):
        services.checklist_issue(
            actor=people.staff, template=template, root=world.county_a, claim_deadline=date(YEAR, 2, 28)
        )


def test_the_village_secretary_claims_by_signing(issued, people, client):
    client.force_login(people.secretary)
    url = reverse("checklists:checklist", args=[issued.pk])
    assert "签字认领" in client.get(url).text
    client.post(url, {"signature": "村书记"})
    issued.refresh_from_db()
    assert issued.is_claimed
    assert (issued.signature, issued.claimed_by) == ("村书记", people.secretary)
    assert issued.history.first().history_change_reason == "认领"


@pytest.mark.parametrize("who", ["neighbour", "town_clerk", "staff"])
def test_only_that_organizations_secretary_may_claim(issued, people, client, who):
    client.force_login(getattr(people, who))
    response = client.post(reverse("checklists:checklist", args=[issued.pk]), {"signature": "某人"})
    assert response.status_code in {403, 404}
    issued.refresh_from_db()
    assert not issued.is_claimed


def test_a_sibling_villages_secretary_cannot_even_see_it(issued, people, client):
    client.force_login(people.neighbour)
    assert client.get(reverse("checklists:checklist", args=[issued.pk])).status_code == 404


def test_an_empty_signature_is_refused_and_nothing_changes(issued, people, client):
    client.force_login(people.secretary)
    response = client.post(reverse("checklists:checklist", args=[issued.pk]), {"signature": "  "})
    assert response.status_code == 200
    issued.refresh_from_db()
    assert not issued.is_claimed


def test_a_change_to_a_frozen_field_reopens_the_claim_and_shows_the_difference(issued, people, branch_template):
    services.checklist_claim(actor=people.secretary, checklist=issued, signature="村书记")
    item = branch_template.items.get(code="Z04")

    services.template_item_update(actor=people.staff, item=item, score=item.score + 1, deadline=date(YEAR, 7, 31))

    issued.refresh_from_db()
    assert not issued.is_claimed
    assert issued.reopened_at is not None
    changes = {(str(field), old, new) for _item, field, old, new in claim_differences(issued)}
    assert changes == {("分值", "5.00", "6.00"), ("完成时限", f"{YEAR}-06-30", f"{YEAR}-07-31")}
    assert Occurrence.objects.get(item__checklist=issued, item__code="Z04").deadline == date(YEAR, 7, 31)
    # the secretary is told
    assert people.secretary.notifications.filter(title__contains="重新认领").exists()


def test_a_change_to_the_category_or_responsible_person_does_not_reopen(issued, people, branch_template, world):
    services.checklist_claim(actor=people.secretary, checklist=issued, signature="村书记")
    services.template_item_update(actor=people.staff, item=branch_template.items.get(code="Z01"), category="组织建设")
    item = issued.items.get(code="Z01")
    services.checklist_item_set_responsible(actor=people.secretary, item=item, responsible=None)
    issued.refresh_from_db()
    assert issued.is_claimed
    assert item.category == "组织建设"


def test_a_new_item_reaches_issued_checklists_and_reopens_them(issued, people, branch_template):
    services.checklist_claim(actor=people.secretary, checklist=issued, signature="村书记")
    services.template_item_create(
        actor=people.staff,
        template=branch_template,
        code="Z05",
        category="党费管理",
        title="党费收缴",
        requirement="按月收缴",
        frequency=Frequency.QUARTERLY,
        score=5,
    )
    issued.refresh_from_db()
    assert issued.items.filter(code="Z05").exists()
    assert Occurrence.objects.filter(item__checklist=issued, item__code="Z05").count() == 4
    assert not issued.is_claimed
    assert [str(field) for _i, field, _o, _n in claim_differences(issued)] == ["新增事项"]


def test_copy_forward_moves_dates_to_the_new_year(people, branch_template):
    copy = services.template_copy(
        actor=people.staff, template=branch_template, year=YEAR + 1, name="2027年村党组织清单"
    )
    assert copy.items.count() == 4
    assert copy.items.get(code="Z04").deadline == date(YEAR + 1, 6, 30)


def test_unclaimed_past_the_deadline_is_shown_as_such(issued, people, client):
    client.force_login(people.staff)
    url = reverse("checklists:template", args=[issued.template_id])
    assert "个逾期未认领" not in client.get(url).text  # the count, not the filter's choice
    Checklist.objects.filter(pk=issued.pk).update(claim_deadline=timezone.localdate() - timedelta(days=1))
    page = client.get(url).text
    assert "1 个逾期未认领" in page


# --- the signature is the claimant's own name (issue 11, point 1) --------------------------


def test_the_signature_field_is_not_prefilled(issued, people, client):
    client.force_login(people.secretary)
    page = client.get(reverse("checklists:checklist", args=[issued.pk])).text
    assert 'name="signature"' in page
    assert "村书记" not in page.split('name="signature"', 1)[1].split(">", 1)[0]


def test_another_name_is_refused_and_nothing_changes(issued, people, client):
    client.force_login(people.secretary)
    response = client.post(reverse("checklists:checklist", args=[issued.pk]), {"signature": "张三"})
    assert response.status_code == 200
    assert "请签您本人在平台登记的姓名" in response.text
    assert 'value="张三"' in response.text  # what was typed stays
    issued.refresh_from_db()
    assert not issued.is_claimed


def test_the_name_of_the_person_behind_the_account_is_the_one_to_sign(issued, people, world):
    from tests.organizations.factories import PersonFactory

    PersonFactory(name="王小明", user=people.secretary, organization=world.village_a1a)
    with pytest.raises(ValidationError):
        services.checklist_claim(actor=people.secretary, checklist=issued, signature="村书记")
    services.checklist_claim(actor=people.secretary, checklist=issued, signature=" 王 小明 ")
    issued.refresh_from_db()
    assert (issued.signature, issued.claimed_late) == ("王小明", False)


def test_a_claim_after_the_deadline_is_accepted_and_marked_late_for_good(issued, people, branch_template, client):
    Checklist.objects.filter(pk=issued.pk).update(claim_deadline=timezone.localdate() - timedelta(days=1))
    services.checklist_claim(actor=people.secretary, checklist=issued, signature="村书记")
    issued.refresh_from_db()
    assert (issued.is_claimed, issued.claimed_late) == (True, True)
    # reopened and claimed again in time: still late
    services.template_item_update(actor=people.staff, item=branch_template.items.get(code="Z04"), score=7)
    Checklist.objects.filter(pk=issued.pk).update(claim_deadline=timezone.localdate() + timedelta(days=5))
    services.checklist_claim(actor=people.secretary, checklist=issued, signature="村书记")
    issued.refresh_from_db()
    assert (issued.is_claimed, issued.claimed_late) == (True, True)
    client.force_login(people.staff)
    assert "逾期认领" in client.get(reverse("checklists:checklist", args=[issued.pk])).text
    assert "逾期认领" in client.get(reverse("checklists:template", args=[branch_template.pk])).text


def test_a_claim_in_time_is_not_marked_late(issued, people):
    Checklist.objects.filter(pk=issued.pk).update(claim_deadline=timezone.localdate())
    services.checklist_claim(actor=people.secretary, checklist=issued, signature="村书记")
    issued.refresh_from_db()
    assert not issued.claimed_late
