"""Content-Security-Policy, Permissions-Policy and no caching of logged-in pages (issue 13, 4)."""

import re
from pathlib import Path

import pytest
from django.urls import reverse

from organizations.models import Role

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"


def _directives(response):
    policy = response.headers["Content-Security-Policy"]
    return {part.split()[0]: part.split()[1:] for part in policy.split("; ")}


@pytest.fixture
def staff_client(client, world, user_with_role):
    client.force_login(user_with_role(Role.STAFF, world.county_a))
    return client


def test_pages_run_only_the_platforms_own_scripts(staff_client):
    csp = _directives(staff_client.get(reverse("home")))
    assert csp["script-src"] == ["'self'"]  # no 'unsafe-inline', no 'unsafe-eval', no other host
    assert csp["style-src"] == ["'self'"]
    assert csp["object-src"] == ["'none'"]
    assert csp["frame-ancestors"] == ["'none'"]
    assert csp["form-action"] == ["'self'"]
    assert csp["base-uri"] == ["'none'"]


def test_logged_in_pages_and_htmx_partials_are_never_stored_by_a_cache(staff_client, world):
    page = staff_client.get(reverse("home"))
    partial = staff_client.get(reverse("organizations:options"), {"q": "组织"}, HTTP_HX_REQUEST="true")
    for response in (page, partial):
        assert response.headers["Cache-Control"] == "private, no-store"
        assert "Content-Security-Policy" in response.headers


def test_the_login_and_ballot_pages_are_not_cached_either(client, db):
    for url in (reverse("login"), reverse("vote")):
        response = client.get(url)
        assert response.status_code == 200
        assert {"private", "no-store"} <= set(response.headers["Cache-Control"].split(", "))
        assert "script-src 'self'" in response.headers["Content-Security-Policy"]


def test_no_device_feature_is_granted(client, db):
    policy = client.get(reverse("login")).headers["Permissions-Policy"]
    for feature in ("camera", "microphone", "geolocation", "payment"):
        assert f"{feature}=()" in policy


def test_the_admin_pages_carry_the_policy(client, db):
    from tests.organizations.factories import UserFactory

    client.force_login(UserFactory(is_superuser=True, is_staff=True))
    response = client.get(reverse("admin:index"))
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "private, no-store"
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]


INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)
EVENT_HANDLER = re.compile(r"\son[a-z]+\s*=", re.IGNORECASE)
STYLE_ELEMENT = re.compile(r"<style\b", re.IGNORECASE)


@pytest.mark.parametrize(
    "template", sorted(TEMPLATES.rglob("*.html")), ids=lambda path: str(path.relative_to(TEMPLATES))
)
def test_no_template_holds_inline_script_event_handlers_or_style_elements(template):
    text = template.read_text()
    assert not INLINE_SCRIPT.search(text)
    assert not EVENT_HANDLER.search(text)
    assert not STYLE_ELEMENT.search(text)
    assert "javascript:" not in text.lower()
    assert "hx-on" not in text  # HTMX's inline handlers would need eval
