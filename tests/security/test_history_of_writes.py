"""History (issue 13, 9): every write path leaves a history row naming the acting user.

The write paths are listed from the code itself: every public service taking `actor` (forms and
admin actions call these), and every import sheet's `apply`. Each must reach, passing the actor
on, a history writer: the app's `_save` (which sets `_history_user`), a bulk history call with
`default_user=actor` (organizations.bulk's: `actor=actor`), or `_history_user = actor` before a
delete; or, for the few rows that are their own record, store the actor in a column named here.
A new write path that does neither fails the test. Running examples: below, and
tests/spreadsheets/test_pages.py (an import, also confirmed from the admin),
tests/organizations/test_login_throttle.py (an admin action)."""

import ast
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from organizations.models import OrganizationKind, PartyType, PoliticalStatus, Role
from tests.sources import parsed

ROOT = Path(__file__).resolve().parents[2]
APPS = ["organizations", "notifications", "checklists", "supervision", "reviews", "scoring", "spreadsheets"]
# History writers and the keyword through which each must receive the actor.
WRITERS = {
    "_save": "actor",
    "bulk_history_create": "default_user",
    "bulk_create_with_history": "default_user",
    "bulk_update_with_history": "default_user",
    # organizations.bulk: set-based history rows of bulk writes (tested in tests/organizations/test_bulk.py)
    "history_copy": "actor",
    "history_of": "actor",
    "bulk_create_recorded": "actor",
    "bulk_update_recorded": "actor",
    "insert_recorded": "actor",
}
# Rows that are their own record of who acted (no history table), and the column holding the actor.
OWN_RECORD = {
    ("checklists", "attachments_for"): "uploaded_by",  # the file row; the entries linking it keep history
    ("supervision", "sample_draw"): "drawn_by",  # a drawn sample never changes
    ("spreadsheets", "import_job_create"): "requester",  # the job; the rows it imports keep history
    ("spreadsheets", "export_job_create"): "requester",
}
# Move a job of the requester's own on (checked to be the requester); its apply is checked below.
JOB_STEPS = {("spreadsheets", "import_job_confirm"), ("spreadsheets", "import_job_retry")}


def _functions(path):
    return {node.name: node for node in parsed(path.read_text()).body if isinstance(node, ast.FunctionDef)}


def _is_actor(value):
    """`actor`, or `context.user` (the importing user of a sheet's apply)."""
    if isinstance(value, ast.Name):
        return value.id == "actor"
    return isinstance(value, ast.Attribute) and value.attr == "user" and getattr(value.value, "id", "") == "context"


def _passes_actor(call, keyword):
    return any(item.arg == keyword and _is_actor(item.value) for item in call.keywords)


def _sets_history_user(node):
    """`x._history_user = actor`, also inside a tuple assignment."""
    if not isinstance(node, ast.Assign):
        return False
    for target in node.targets:
        pairs = (
            zip(target.elts, node.value.elts, strict=False)
            if isinstance(target, ast.Tuple) and isinstance(node.value, ast.Tuple)
            else [(target, node.value)]
        )
        for left, right in pairs:
            is_history_user = isinstance(left, ast.Attribute) and left.attr == "_history_user"
            if is_history_user and isinstance(right, ast.Name) and right.id == "actor":
                return True
    return False


def _called(node):
    for child in ast.walk(node):
        if isinstance(child, ast.Call):
            func = child.func
            name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else None
            if name:
                yield name, child


def _recording(functions):
    """Keys of the functions that write history with the actor, directly or through another
    (a call is matched by the called function's name; a key is a name or (app, name))."""

    def name_of(key):
        return key[1] if isinstance(key, tuple) else key

    recording = set()
    while True:
        names = {name_of(key) for key in recording}
        grown = {
            key
            for key, node in functions.items()
            if key not in recording
            and (
                any(_sets_history_user(child) for child in ast.walk(node))
                or any(
                    (called in WRITERS and _passes_actor(call, WRITERS[called]))
                    or (called in names and _passes_actor(call, "actor"))
                    for called, call in _called(node)
                )
            )
        }
        if not grown:
            return recording
        recording |= grown


def _services():
    """{(app, name): node} of every service module's function, the recording keys, and each
    app's `_save` helper (a writer only if it really sets the actor: checked below)."""
    nodes = {}
    for app in APPS:
        for name, node in _functions(ROOT / app / "services.py").items():
            nodes[(app, name)] = node
    saves = {app: node for (app, name), node in nodes.items() if name == "_save"}
    recording = _recording({key: node for key, node in nodes.items() if key[1] != "_save"})
    return nodes, recording, saves


def _write_paths(nodes):
    for (app, name), node in nodes.items():
        arguments = [argument.arg for argument in node.args.args + node.args.kwonlyargs]
        if not name.startswith("_") and "actor" in arguments:
            yield app, name, node


def test_every_apps_save_helper_puts_the_actor_on_the_history_row():
    _nodes, _recording_names, saves = _services()
    assert saves, "no _save helper found"
    for app, node in saves.items():
        assert any(_sets_history_user(child) for child in ast.walk(node)), f"{app}.services._save"


def test_every_service_write_path_leaves_history_with_the_acting_user():
    nodes, recording, _saves = _services()
    paths = list(_write_paths(nodes))
    assert len(paths) > 100  # the listing found the services
    missing = []
    for app, name, node in paths:
        if (app, name) in OWN_RECORD:
            column = OWN_RECORD[(app, name)]
            assert any(_passes_actor(call, column) for _called_name, call in _called(node)), f"{app}.{name}"
        elif (app, name) not in JOB_STEPS and (app, name) not in recording:
            missing.append(f"{app}.services.{name}")
    assert not missing, "write paths without a history row naming the actor:\n" + "\n".join(missing)


def test_every_import_sheet_writes_history_with_the_importing_user():
    _nodes, recording, _saves = _services()
    recording_names = {name for _app, name in recording}
    sheets = 0
    for app in APPS:
        path = ROOT / app / "sheets.py"
        if not path.exists():
            continue
        for node in ast.walk(parsed(path.read_text())):
            if isinstance(node, ast.FunctionDef) and node.name == "apply":
                sheets += 1
                assert any(
                    (called in WRITERS and _passes_actor(call, WRITERS[called]))
                    or (called in recording_names and _passes_actor(call, "actor"))
                    for called, call in _called(node)
                ), f"{path.relative_to(ROOT)}:{node.lineno}"
    assert sheets >= 7  # 组织机构, 人员, 责任清单, 问题台账, 历年测评结果, 考核指标, 平时考核


def test_the_listing_finds_a_write_without_history():
    sample = ast.parse(
        "def thing_close(*, actor, thing):\n    thing.closed = True\n    thing.save()\n"
        "def thing_open(*, actor, thing):\n    _save(thing, actor=actor, reason='x')\n"
        "def thing_reopen(*, actor, thing):\n    thing_open(actor=actor, thing=thing)\n"
        "def thing_forget(*, actor, thing):\n    thing._history_user, thing._change_reason = actor, 'x'\n"
        "    thing.delete()\n"
    )
    functions = {node.name: node for node in sample.body}
    assert _recording(functions) == {"thing_open", "thing_reopen", "thing_forget"}


def test_writes_through_services_name_the_actor(world, user_with_role, settings, tmp_path):
    """Running examples from three apps, a bulk operation among them."""
    from checklists import services as checklists
    from organizations import services as organizations
    from supervision import services as supervision

    settings.MEDIA_ROOT = tmp_path
    staff = user_with_role(Role.STAFF, world.county_a)
    town = organizations.organization_create(
        actor=staff,
        code="A9",
        name="新镇",
        kind=OrganizationKind.TOWN,
        party_type=PartyType.COMMITTEE,
        parent=world.county_a,
    )
    person = organizations.person_create(
        actor=staff, name="张三", organization=town, political_status=PoliticalStatus.choices[0][0]
    )
    template = checklists.template_create(
        actor=staff, owner=world.county_a, year=2026, name="清单", target_types=[PartyType.BRANCH]
    )
    sample = supervision.sample_draw(actor=staff, root=world.county_a, kinds=[OrganizationKind.VILLAGE], size=1)
    attachment = checklists.attachments_for(
        actor=staff,
        organization=town,
        uploads=[SimpleUploadedFile("a.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 100)],
        existing_ids=[],
    )[0]
    for record in (town, person, template):
        assert record.history.latest().history_user == staff
    assert (sample.drawn_by, attachment.uploaded_by) == (staff, staff)


def test_the_code_is_parsed_again_after_cpythons_depth_mismatch_and_only_then(monkeypatch):
    calls = []
    real = ast.parse

    def flaky(text):
        calls.append(text)
        if len(calls) == 1:
            raise SystemError("AST constructor recursion depth mismatch (before=117, after=53)")
        return real(text)

    monkeypatch.setattr(ast, "parse", flaky)
    assert isinstance(parsed("x = 1  # depth mismatch once"), ast.Module)
    assert len(calls) == 2
    monkeypatch.setattr(ast, "parse", lambda text: (_ for _ in ()).throw(SystemError("something else")))
    with pytest.raises(SystemError, match="something else"):
        parsed("y = 2  # another error")
