"""The demo (`make run`, DEBUG on) answers with the project's Chinese error pages, never
Django's English technical pages that list the URL patterns or show settings and code."""

import pytest
from django.urls import path

from config.home import home
from organizations.models import Role


def failing_view(request):
    raise RuntimeError("boom")


urlpatterns = [path("", home, name="home"), path("fail/", failing_view)]


@pytest.fixture
def demo_mode(settings):
    settings.DEBUG = True
    settings.TECHNICAL_ERROR_PAGES = False


@pytest.fixture
def staff_client(client, world, user_with_role):
    client.force_login(user_with_role(Role.STAFF, world.county_a, full_name="县组织部"))
    return client


@pytest.mark.django_db
def test_an_unknown_address_answers_the_chinese_404_in_debug_mode(demo_mode, staff_client):
    response = staff_client.get("/no-such-page/")
    assert response.status_code == 404
    text = response.content.decode()
    assert "找不到" in text or "不存在" in text
    assert "URLconf" not in text
    assert "Using the URLconf" not in text


@pytest.mark.django_db
def test_a_record_outside_the_area_answers_the_chinese_404_in_debug_mode(demo_mode, staff_client, world):
    # The organization page of a neighbouring county: it exists, but not for this user.
    response = staff_client.get(f"/orgs/{world.county_b.code}/")
    assert response.status_code == 404
    text = response.content.decode()
    assert "不在您的范围" in text or "不存在" in text
    assert "Traceback" not in text
    assert "Raised by" not in text


@pytest.mark.django_db
def test_an_action_the_role_may_not_take_answers_the_chinese_403_in_debug_mode(
    demo_mode, client, world, user_with_role
):
    client.force_login(user_with_role(Role.SECRETARY, world.village_a1a, full_name="村书记"))
    response = client.get("/checklists/templates/new/")
    assert response.status_code == 403
    text = response.content.decode()
    assert "无权" in text or "不允许" in text
    assert "Raised by" not in text


@pytest.mark.django_db
@pytest.mark.urls("tests.config.test_error_pages")
def test_a_server_error_answers_the_chinese_500_and_logs_the_traceback(demo_mode, staff_client, caplog):
    response = staff_client.get("/fail/")
    assert response.status_code == 500
    text = response.content.decode()
    assert "服务器" in text
    assert "RuntimeError" not in text
    assert "SECRET_KEY" not in text
    assert any(record.exc_info and "boom" in str(record.exc_info[1]) for record in caplog.records)


@pytest.mark.django_db
def test_developers_can_ask_for_the_technical_pages(settings, staff_client):
    settings.DEBUG = True
    settings.TECHNICAL_ERROR_PAGES = True
    response = staff_client.get("/no-such-page/")
    assert response.status_code == 404
    assert "URLconf" in response.content.decode()


@pytest.mark.django_db
def test_a_stale_form_answers_a_chinese_page(world, user_with_role):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(user_with_role(Role.STAFF, world.county_a, full_name="县组织部"))
    response = client.post("/checklists/templates/new/", {"name": "x"})
    assert response.status_code == 403
    text = response.content.decode()
    assert "页面已过期" in text
    assert "CSRF verification failed" not in text
