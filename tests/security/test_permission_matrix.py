"""Permission matrix (issue 13, 6): every URL pattern of the project × method × persona × target
organization is answered as tests/security/policy.py says; a route missing from the policy fails
(deny by default); a refused POST changes nothing (every table of ours, the operation log's
history tables included, keeps its row count).

The world (tests/security/world.py) is built once for the module inside a transaction rolled
back at its end; each request runs in a savepoint rolled back after it, so that an allowed POST
does not change what the next cell sees."""

import pytest
from django.apps import apps
from django.contrib import admin
from django.db import connection, transaction
from django.test import Client, override_settings
from django.urls import URLPattern, URLResolver, get_resolver, resolve, reverse

from tests.security.policy import LOGIN, NOT_FOUND, OK, PER_USER, POLICY, Cell
from tests.security.world import PAIRED_WITH, PERSONAS, TARGETS, build, organization_of

OUR_APPS = {"organizations", "checklists", "supervision", "reviews", "scoring", "spreadsheets", "notifications"}
ANONYMOUS = "anonymous"


def url_names(resolver=None, namespace=None):
    """(name, pattern) of every URL pattern, walking included resolvers recursively."""
    resolver = resolver or get_resolver()
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            inner = ":".join(part for part in (namespace, entry.namespace) if part) or None
            yield from url_names(entry, inner)
        elif isinstance(entry, URLPattern):
            yield (f"{namespace}:{entry.name}" if namespace else entry.name), str(entry.pattern)


def _is_django_admin(name):
    # Django admin's own pages: behind its staff check (admin.site.has_permission), tested below.
    return name is not None and name.split(":")[0] == admin.site.name


@pytest.fixture(scope="module")
def matrix_world(django_db_setup, django_db_blocker, tmp_path_factory):
    media = tmp_path_factory.mktemp("media")
    with django_db_blocker.unblock(), override_settings(MEDIA_ROOT=media), transaction.atomic():
        yield build()
        transaction.set_rollback(True)


@pytest.fixture
def matrix(matrix_world, db):
    return matrix_world


def row_counts():
    """The row count of every table of ours, history tables included, in one query."""
    tables = sorted(
        model._meta.db_table
        for model in apps.get_models()
        if model._meta.app_label in OUR_APPS and model._meta.managed and not model._meta.proxy
    )
    sql = "SELECT " + ", ".join(f"(SELECT COUNT(*) FROM {connection.ops.quote_name(t)})" for t in tables)
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return dict(zip(tables, cursor.fetchone(), strict=True))


def answer(response):
    status = response.status_code
    if status in (301, 302, 303) and resolve(response["Location"].split("?")[0]).url_name == "login":
        return LOGIN
    if status in (403, 404, 405) or status >= 500:
        return str(status)
    return OK


def matches(expected, got):
    return got in expected.split("|")


def args_for(kind, record):
    if kind is None:
        return []
    if kind == "organization":
        return [record.code]
    if kind == "account":
        return [record.username]
    if kind == "paper":
        return [record.pk, 1]
    if kind == "scheme_sheet":
        return [record.pk, "indicators"]
    if kind == "scheme_organization":
        return [record.pk, record.owner.code]
    if kind == "sheet":
        return ["组织机构"]
    return [record.pk]


def cells(world, route):
    """(persona, target or None, args, Cell) of the route."""
    orgs = world["orgs"]
    for persona in [ANONYMOUS, *PERSONAS]:
        role, at = (None, None) if persona == ANONYMOUS else PERSONAS[persona]
        at_path = orgs[at].path if at else None
        has_below = bool(at_path) and any(o.path.startswith(at_path) and o.path != at_path for o in orgs.values())
        if route.kind in (None, "sheet"):
            yield persona, None, args_for(route.kind, None), Cell(role, at_path, None, has_below=has_below)
            continue
        for target in TARGETS:
            record = world["records"][route.kind][target]
            place = organization_of(route.kind, record)
            paired_with = PAIRED_WITH.get(place.code)
            paired = bool(at_path and paired_with and orgs[paired_with].path.startswith(at_path))
            paired_at = orgs[paired_with].path if paired else None
            cell = Cell(role, at_path, place.path, paired, paired_at, has_below)
            yield persona, target, args_for(route.kind, record), cell


def clients(world):
    found = {ANONYMOUS: Client(raise_request_exception=False)}
    for persona, user in world["personas"].items():
        found[persona] = Client(raise_request_exception=False)
        found[persona].force_login(user)
    return found


def probe(client, method, url, data):
    """One request in a savepoint rolled back after it: (answer, rows changed or None)."""
    with transaction.atomic():
        before = row_counts() if method == "POST" else None
        response = client.get(url) if method == "GET" else client.post(url, data)
        changed = None
        if before is not None:
            after = row_counts()
            changed = {table: (before[table], after[table]) for table in before if before[table] != after[table]}
        transaction.set_rollback(True)
    return answer(response), changed


def run_route(world, name, route):
    by_persona = clients(world)
    wrong, checked = [], 0
    for persona, target, args, cell in cells(world, route):
        url = reverse(name, args=args)
        for method in ("GET", "POST"):
            expected = route.expect(method, cell)
            got, changed = probe(by_persona[persona], method, url, route.post_data)
            checked += 1
            where = f"{method} {url} as {persona} on {target or '-'}"
            if not matches(expected, got):
                wrong.append(f"{where}: expected {expected}, got {got}")
            if changed and expected not in (OK,):
                wrong.append(f"{where}: refused ({got}) but changed {changed}")
    return wrong, checked


@pytest.mark.parametrize("name", sorted(POLICY))
def test_every_route_answers_each_role_and_target_as_the_policy_says(matrix, name):
    wrong, checked = run_route(matrix, name, POLICY[name])
    assert checked
    assert not wrong, "\n".join(wrong)


def per_user_records(world):
    """One record of each per-user kind, owned by a persona: (owner persona, record)."""
    from django.core.files.base import ContentFile

    from notifications.models import Notification
    from scoring.models import JudgeSheet
    from spreadsheets.models import ExportJob, ImportJob

    personas, records = world["personas"], world["records"]
    importer = personas["staff"]
    job = ImportJob(requester=importer, original_name="a.xlsx", status=ImportJob.Status.FAILED)
    job.file.save("a.xlsx", ContentFile(b"PK"), save=True)
    export = ExportJob(
        kind="organizations", params={"org": "A1"}, title="x", requester=importer, status=ExportJob.Status.DONE
    )
    export.file.save("a.xlsx", ContentFile(b"PK"), save=True)
    sheet = JudgeSheet.objects.create(
        scheme=records["scheme"]["own"],
        panel=records["panel"]["own"],
        judge=personas["judge"],
        organization=world["orgs"]["A1a"],
    )
    notification = Notification.objects.create(user=personas["viewer"], title="x", url="/")
    return {
        "import_job": ("staff", job),
        "export_job": ("staff", export),
        "judge_sheet": ("judge", sheet),
        "notification": ("viewer", notification),
    }


@pytest.mark.parametrize("name", sorted(PER_USER))
def test_a_record_of_one_user_is_not_found_for_every_other(matrix, name, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    methods, kind = PER_USER[name]
    owner, record = per_user_records(matrix)[kind]
    url = reverse(name, args=[record.pk])
    wrong = []
    for persona, client in clients(matrix).items():
        expected = LOGIN if persona == ANONYMOUS else OK if persona == owner else NOT_FOUND
        for method in methods:
            got, changed = probe(client, method, url, {})
            if got != expected:
                wrong.append(f"{method} {url} as {persona}: expected {expected}, got {got}")
            if changed and expected != OK:
                wrong.append(f"{method} {url} as {persona}: refused but changed {changed}")
    assert not wrong, "\n".join(wrong)


def test_every_url_pattern_has_a_policy():
    # deny by default: a new route without a policy entry fails here
    names = {name for name, _pattern in url_names() if not _is_django_admin(name)}
    unnamed = [pattern for name, pattern in url_names() if name is None]
    assert not unnamed, f"routes without a name cannot be in the policy: {unnamed}"
    missing = names - set(POLICY) - set(PER_USER)
    assert not missing, f"routes with no policy entry: {sorted(missing)}"
    stale = (set(POLICY) | set(PER_USER)) - names
    assert not stale, f"policy entries for routes that no longer exist: {sorted(stale)}"


def test_the_check_finds_a_route_without_a_policy(settings):
    # given a URLconf with one route more
    from django.urls import path

    from config import urls

    module = type(urls)("matrix_urls")
    module.urlpatterns = [*urls.urlpatterns, path("new-page/", lambda request: None, name="new_page")]
    settings.ROOT_URLCONF = module
    # then the walk finds it, and it is not in the policy
    names = {name for name, _pattern in url_names(get_resolver(module))}
    assert "new_page" in names
    assert "new_page" not in POLICY
    assert "new_page" not in PER_USER


def test_django_admin_is_for_superusers_only(matrix):
    # Django admin's own patterns are left to its staff check: no persona is staff, so every
    # admin page sends them (and anonymous users) to the admin's login.
    assert not any(user.is_staff or user.is_superuser for user in matrix["personas"].values())
    for persona, client in clients(matrix).items():
        for name in ("admin:index", "admin:organizations_organization_changelist"):
            response = client.get(reverse(name))
            assert response.status_code == 302, (persona, name)
            assert response["Location"].startswith(reverse("admin:login")), (persona, name)
