from datetime import timedelta

import pytest
from django.contrib.sessions.models import Session
from django.utils import timezone

from organizations.tasks import sessions_clear_expired


def _sessions():
    now = timezone.now()
    Session.objects.create(session_key="expired", session_data="", expire_date=now - timedelta(days=1))
    Session.objects.create(session_key="alive", session_data="", expire_date=now + timedelta(days=1))


@pytest.mark.django_db
def test_expired_sessions_are_cleared_and_a_second_run_is_harmless():
    _sessions()
    assert sessions_clear_expired.delay().get() == 1
    assert sessions_clear_expired.delay().get() == 0
    assert list(Session.objects.values_list("session_key", flat=True)) == ["alive"]


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_runs_the_task_against_the_test_database(celery_worker_running):
    _sessions()
    result = sessions_clear_expired.delay()
    assert result.get(timeout=30) == 1
    assert list(Session.objects.values_list("session_key", flat=True)) == ["alive"]
