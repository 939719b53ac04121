import os
import shutil

import pytest

from config.celery_app import app as celery_app

# pytest-playwright runs an event loop in the main thread; Django's ORM would refuse to run there.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_PRESENT = os.path.exists(CHROMIUM)
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
BROKER_URL = os.environ.get("CELERY_BROKER_URL", "")


def _missing_prerequisite(item):
    """(marker, reason) when a browser or worker test cannot run here, else None."""
    if "browser" in item.keywords and not CHROMIUM_PRESENT:
        return "browser", f"Chromium not found at {CHROMIUM}: apt-get install -y chromium fonts-wqy-microhei"
    if "worker" in item.keywords and not BROKER_URL:
        return "worker", "needs a Redis broker: set CELERY_BROKER_URL (CI's PostgreSQL pass does)"
    if "postgres" in item.keywords and not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        return "postgres", "needs PostgreSQL (row locks, real concurrency): set DATABASE_URL (CI's second pass does)"
    return None


def pytest_collection_modifyitems(config, items):
    """Skip browser tests without Chromium and worker tests without a broker, saying why."""
    for item in items:
        missing = _missing_prerequisite(item)
        if missing:
            item.add_marker(pytest.mark.skip(reason=missing[1]))


def pytest_collection_finish(session):
    """CI names the markers that must really run in a pass (REQUIRE_TESTS=browser,worker):
    a selected test of that kind that would be skipped stops the run instead of passing quietly."""
    required = {name for name in os.environ.get("REQUIRE_TESTS", "").split(",") if name}
    missing = set()
    for item in session.items:
        found = _missing_prerequisite(item)
        if found and found[0] in required:
            missing.add(found[1])
    if missing:
        raise pytest.UsageError("REQUIRE_TESTS is set, but: " + "; ".join(sorted(missing)))
    for marker in required:
        if not any(marker in item.keywords for item in session.items):
            raise pytest.UsageError(f"REQUIRE_TESTS names {marker!r}, but no such test was selected")


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def fresh_cache():
    """Throttles (wrong passwords, wrong ballot codes) live in the cache: none is carried from
    one test into the next."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def celery_eager(request):
    """Tasks run eagerly in tests, except in tests marked `worker`. Celery reads settings once,
    so the switch is made on the app's configuration, not through Django settings."""
    eager = "worker" not in request.keywords
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = eager
    yield
    celery_app.conf.task_always_eager = previous


@pytest.fixture
def celery_worker_running():
    """A real Celery worker in this process, against the broker and the test database."""
    import celery.contrib.testing.tasks  # noqa: F401  (registers celery.ping for the ping check)
    from celery.contrib.testing.worker import start_worker

    celery_app.control.purge()  # a message left by a killed run would be eaten by this worker
    with start_worker(celery_app, pool="solo", perform_ping_check=True, shutdown_timeout=10) as worker:
        yield worker


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


@pytest.fixture
def page(page):
    """pytest-playwright's page, watched for what the Content-Security-Policy refuses."""
    from tests.browser import watch_csp

    return watch_csp(page)


@pytest.fixture(autouse=True)
def no_csp_violation(request):
    """A browser test fails if the page tried anything the Content-Security-Policy refuses
    (an inline script or style element, eval, an outside resource)."""
    if "browser" not in request.keywords:
        yield
        return
    from tests.browser import CSP_VIOLATIONS

    CSP_VIOLATIONS.clear()
    yield
    assert not CSP_VIOLATIONS, "\n".join(CSP_VIOLATIONS)


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {**browser_context_args, "locale": "zh-CN", "timezone_id": "Asia/Shanghai"}


class World:
    """A small tree for scoping tests:

    city C
    ├── county A ── town A1 ── villages A1a, A1b
    │            ├── town A2 ── village A2a
    │            └── department AD (county department)
    └── county B ── town B1 ── village B1a
    """


@pytest.fixture
def world(db):
    from organizations.models import OrganizationKind, PartyType
    from tests.organizations.factories import OrganizationFactory

    w = World()

    def org(code, kind, parent, party_type=PartyType.BRANCH):
        return OrganizationFactory(code=code, name=f"组织{code}", kind=kind, party_type=party_type, parent=parent)

    w.city = org("C", OrganizationKind.CITY, None, PartyType.COMMITTEE)
    w.county_a = org("A", OrganizationKind.COUNTY, w.city, PartyType.COMMITTEE)
    w.county_b = org("B", OrganizationKind.COUNTY, w.city, PartyType.COMMITTEE)
    w.town_a1 = org("A1", OrganizationKind.TOWN, w.county_a, PartyType.COMMITTEE)
    w.town_a2 = org("A2", OrganizationKind.TOWN, w.county_a, PartyType.COMMITTEE)
    w.department = org("AD", OrganizationKind.COUNTY_DEPARTMENT, w.county_a)
    w.town_b1 = org("B1", OrganizationKind.TOWN, w.county_b, PartyType.COMMITTEE)
    w.village_a1a = org("A1a", OrganizationKind.VILLAGE, w.town_a1)
    w.village_a1b = org("A1b", OrganizationKind.VILLAGE, w.town_a1)
    w.village_a2a = org("A2a", OrganizationKind.VILLAGE, w.town_a2)
    w.village_b1a = org("B1a", OrganizationKind.VILLAGE, w.town_b1)
    return w


@pytest.fixture
def user_with_role(db):
    """make(role, organization) → a new user holding that role there."""
    from tests.organizations.factories import RoleAssignmentFactory, UserFactory

    def make(role, organization, **user_fields):
        user = UserFactory(**user_fields)
        RoleAssignmentFactory(user=user, organization=organization, role=role)
        return user

    return make
