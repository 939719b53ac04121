import pytest
from django.urls import reverse

from tests.organizations.factories import UserFactory

from .conftest import add_reportees, add_venue, make_session


@pytest.mark.parametrize("model", ["reviewsession", "reportee", "ratergroup", "consequence", "pastresult"])
def test_superusers_read_the_review_lists_and_pages(world, people, client, model):
    session = make_session(world, people)
    venue, _groups = add_venue(session, world, people, [("党员", 100, 5)])
    add_reportees(session, world, people, venue)
    client.force_login(UserFactory(is_superuser=True, is_staff=True))
    assert client.get(reverse(f"admin:reviews_{model}_changelist")).status_code == 200
    assert client.get(reverse("admin:reviews_reviewsession_change", args=[session.pk])).status_code == 200
    assert client.get(reverse("admin:reviews_reviewsession_history", args=[session.pk])).status_code == 200
