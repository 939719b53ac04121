"""A review's operation log is folded on its page and read when opened (organizations/timelines.py)."""

from django.test import Client
from django.urls import reverse

from tests.log_fold import assert_log_folded

from .conftest import add_venue, make_session


def test_the_review_page_folds_its_log(world, people, client):
    session = make_session(world, people)
    add_venue(session, world, people, [("党员", 60, 6), ("镇干部", 40, 4)])
    client.force_login(people.staff)
    outsider = Client()
    outsider.force_login(people.other_county)
    url = reverse("reviews:session", args=[session.pk])
    assert_log_folded(client, url, marker="县组织部甲", outsider=outsider)
