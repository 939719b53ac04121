"""The permission policy of every route, written from DESIGN.md section 2 (who may do what) and
issue 11 point 15 (404 for a record outside the area, 403 for an action the role may not take),
independently of organizations/permissions.py: the matrix compares the two.

A cell is route × method × persona × target. Its expected answer:
- OK: the page, or a redirect that is not to the login page, or the form again with its errors;
- FORBIDDEN (403): the record is in the area but the role may not take this action there;
- NOT_FOUND (404): the record is outside the area;
- REFUSED (403 or 404): a role that may never take the action on such a record, wherever it is:
  either answer tells nothing about the record;
- LOGIN: a redirect to the login page (anonymous users);
- NOT_ALLOWED (405): the method is not the route's.
"""

from dataclasses import dataclass, field

from organizations.models import Role

OK, FORBIDDEN, NOT_FOUND, REFUSED, LOGIN, NOT_ALLOWED = "ok", "403", "404", "403|404", "login", "405"

ANY = frozenset(Role)
STAFF, SECRETARY, CLERK, JUDGE, SUPERVISOR, VIEWER, ADMIN = (
    Role.STAFF,
    Role.SECRETARY,
    Role.CLERK,
    Role.JUDGE,
    Role.SUPERVISOR,
    Role.VIEWER,
    Role.ADMIN,
)
# Reach (DESIGN.md 2): a role held at O acts on O's subtree; "above" = at a strict ancestor;
# "that organization" = at the very organization.
SUBTREE, EXACT, ABOVE = "subtree", "exact", "above"


@dataclass(frozen=True)
class Cell:
    """What the matrix knows of one request: the persona's role and where it is held, the
    target's organization (None for a route without one), and whether a pairing alone makes the
    target visible."""

    role: Role | None
    at: str | None  # the path of the persona's organization
    target: str | None  # the path of the target's organization
    paired: bool = False
    paired_at: str | None = None  # the path of the pairing's paired unit, when paired
    has_below: bool = False  # whether the persona's organization has organizations below it

    @property
    def in_subtree(self):
        return self.target.startswith(self.at)

    def reaches(self, reach):
        if reach == EXACT:
            return self.target == self.at
        if reach == ABOVE:
            return self.target.startswith(self.at) and self.target != self.at
        return self.in_subtree


@dataclass(frozen=True)
class Page:
    """A page or action without a record: allowed to the roles named, 403 to the others."""

    roles: frozenset = ANY
    refused: str = FORBIDDEN  # 404 where the page needs an organization the role has none of

    def expect(self, cell):
        return OK if cell.role in self.roles else self.refused


@dataclass(frozen=True)
class Read:
    """Reading a record: any role whose subtree holds it, and a pairing's paired side for its
    village (DESIGN.md 2). `roles`: only those roles read this kind of record at all."""

    roles: frozenset = ANY
    paired: bool = True  # whether the pairing's read-only access reaches this kind of record

    def expect(self, cell):
        if cell.role not in self.roles:
            return REFUSED
        return OK if cell.in_subtree or (self.paired and cell.paired) else NOT_FOUND


@dataclass(frozen=True)
class Write:
    """An action on a record by the roles named, with the reach DESIGN.md gives it. A pairing
    gives read-only access: the paired village is visible, its records are not the paired
    side's to change (403)."""

    roles: frozenset
    reach: str = SUBTREE
    readers: frozenset = ANY  # who may see this kind of record at all
    paired: bool = True  # whether the pairing's read-only access reaches this kind of record
    ok: str = OK  # the answer when allowed (e.g. 404 when the body names no sub-record)

    def expect(self, cell):
        visible = cell.role in self.readers and (cell.in_subtree or (self.paired and cell.paired))
        if cell.role not in self.roles:
            return FORBIDDEN if visible else REFUSED
        if not visible:
            return NOT_FOUND
        return self.ok if cell.in_subtree and cell.reaches(self.reach) else FORBIDDEN


@dataclass(frozen=True)
class Either:
    """Allowed when either rule allows it (e.g. the responsible person of an item is set by
    the organization's secretary or clerk, or by the staff who issued the list)."""

    first: object
    second: object

    def expect(self, cell):
        answers = {self.first.expect(cell), self.second.expect(cell)}
        for answer in (OK, FORBIDDEN, NOT_FOUND):
            if answer in answers:
                return answer
        return REFUSED


@dataclass(frozen=True)
class PairedSide:
    """The paired side's monthly progress report on its pairing (DESIGN.md 2): its responsible
    person, its leader, or anyone holding a role at the paired unit itself; those above the unit
    and the village's own area read the pairing but do not report."""

    def expect(self, cell):
        if cell.paired and cell.at == cell.paired_at:
            return OK
        return FORBIDDEN if cell.in_subtree or cell.paired else NOT_FOUND


@dataclass(frozen=True)
class Above:
    """A page for those who have organizations below them (the review queue: entries sent up
    from below); a role held at an organization with nothing below it gets 403."""

    roles: frozenset = ANY

    def expect(self, cell):
        return OK if cell.role in self.roles and cell.has_below else FORBIDDEN


@dataclass(frozen=True)
class Answer:
    """The same answer for everyone, anonymous users included (e.g. logging out)."""

    value: str

    def expect(self, cell):
        return self.value


@dataclass(frozen=True)
class Public:
    """Open to everyone, anonymous users included."""

    def expect(self, cell):
        return OK


@dataclass(frozen=True)
class Route:
    get: object = None
    post: object = None
    post_data: dict = field(default_factory=dict)
    kind: str | None = None  # the kind of record in the path (tests/security/world.py)

    def expect(self, method, cell):
        rule = self.get if method == "GET" else self.post
        if rule is None:
            if method == "GET":  # a POST-only route (require_POST, behind login_required)
                return NOT_ALLOWED if cell.role is not None else LOGIN
            # A read-only page answers a POST as its GET, or 405; either way nothing changes
            # (the matrix checks the row counts of every cell that is not OK).
            return f"{NOT_ALLOWED}|{self.expect('GET', cell)}"
        if cell.role is None and not isinstance(rule, (Public, Answer)):
            return LOGIN
        return rule.expect(cell)


def both(rule, kind=None, **data):
    return Route(get=rule, post=rule, kind=kind, post_data=data)


READ_ALL = Read()
ADMINS = frozenset({ADMIN})
REVIEW_READERS = frozenset({STAFF, SECRETARY, VIEWER})  # "Results are seen by the organizer" (DESIGN.md 6)
# Reviews and assessments are read by their organizer's area, never through a pairing.
REVIEW_READ = Read(REVIEW_READERS, paired=False)
REVIEW_SET_UP = Write(frozenset({STAFF}), readers=REVIEW_READERS, paired=False)
SCORING_READERS = frozenset({STAFF, VIEWER})
SCHEME_READ = Read(SCORING_READERS, paired=False)
SCHEME_SET_UP = Write(frozenset({STAFF}), readers=SCORING_READERS, paired=False)

POLICY = {
    # --- the platform ---------------------------------------------------------------------
    "home": Route(get=Page()),
    "login": Route(get=Public(), post=Public()),
    # logging out is a POST (Django 5), and ends on the login page, for everyone
    "logout": Route(get=Answer(NOT_ALLOWED), post=Answer(LOGIN)),
    "password_change": both(Page()),
    "password_change_done": Route(get=Page()),
    "set_language": Route(get=Public(), post=Public(), post_data={"language": "zh-hans"}),
    "search": Route(get=Page()),
    "vote": Route(get=Public(), post=Public()),  # the rater's ballot page: a code, no account (DESIGN.md 6)
    # --- organizations, pairings, accounts ------------------------------------------------
    "organizations:tree": Route(get=Page()),
    "organizations:options": Route(get=Page()),
    "organizations:detail": Route(get=READ_ALL, kind="organization"),
    "organizations:children": Route(get=READ_ALL, kind="organization"),
    # the paired side reports monthly progress on its pairing (DESIGN.md 2)
    "organizations:pairing": Route(get=READ_ALL, post=PairedSide(), kind="pairing"),
    "accounts:list": Route(get=Page(frozenset({ADMIN}))),
    "accounts:create": both(Page(frozenset({ADMIN}))),
    "accounts:detail": both(Write(ADMINS, SUBTREE, readers=ADMINS, paired=False), kind="account"),
    "accounts:role_revoke": Route(post=Write(ADMINS, SUBTREE, readers=ADMINS, paired=False), kind="assignment"),
    # --- spreadsheets and the inbox -------------------------------------------------------
    # supervisors import the 问题台账 sheet (DESIGN.md 7: problems are listed by them)
    "spreadsheets:import": both(Page(frozenset({STAFF, ADMIN, SUPERVISOR}))),
    "spreadsheets:template": Route(get=Page(frozenset({STAFF, ADMIN})), kind="sheet"),
    "spreadsheets:exports": Route(get=Page()),
    # a POST naming no export kind is not found, for everyone (exports of another area are
    # refused in test_object_references)
    "spreadsheets:export_create": Route(post=Page(frozenset(), refused=NOT_FOUND)),
    "notifications:inbox": Route(get=Page()),
    "notifications:mark_all_read": Route(post=Page()),
    # --- checklists (DESIGN.md 3) ---------------------------------------------------------
    "checklists:home": Route(get=Page()),
    "checklists:template_create": both(Page(frozenset({STAFF}))),
    "checklists:template": Route(get=READ_ALL, post=Write(frozenset({STAFF})), kind="template"),
    "checklists:issue_status": Route(get=READ_ALL, kind="template"),
    "checklists:template_item": both(Write(frozenset({STAFF})), kind="template_item"),
    "checklists:checklist": Route(
        get=READ_ALL, post=Write(frozenset({SECRETARY}), EXACT), kind="checklist", post_data={"signature": "x"}
    ),
    "checklists:checklist_print": Route(get=READ_ALL, kind="checklist"),
    # "Responsible persons stay editable" (DESIGN.md 3): by the organization, or the staff who issue
    "checklists:item": Route(
        get=READ_ALL,
        post=Either(Write(frozenset({SECRETARY, CLERK}), EXACT), Write(frozenset({STAFF}))),
        kind="item",
        post_data={"action": "responsible"},
    ),
    "checklists:entry_create": both(Write(frozenset({SECRETARY, CLERK}), EXACT), kind="occurrence"),
    "checklists:entry": Route(
        get=READ_ALL, post=Write(frozenset({STAFF, CLERK}), ABOVE), kind="entry", post_data={"action": "approve"}
    ),
    "checklists:attachment": Route(get=READ_ALL, kind="attachment"),
    # the picker names its organization (?org=); without one there is nothing to pick from: 404
    # (another area's files are refused in test_object_references)
    "checklists:attachment_choices": Route(get=Page(frozenset(), refused=NOT_FOUND)),
    "checklists:review": Route(get=Above()),
    "checklists:due": Route(get=Page()),
    "checklists:unclaimed": Route(get=Page()),
    "checklists:returned": Route(get=Page()),
    # recorded for the organization where the role submits; a role that submits nowhere has none (404)
    "checklists:meeting_create": both(Page(frozenset({SECRETARY, CLERK}), refused=NOT_FOUND)),
    "checklists:meeting": Route(
        get=READ_ALL, post=Write(frozenset({STAFF, CLERK}), ABOVE), kind="meeting", post_data={"action": "approve"}
    ),
    "checklists:meetings": Route(get=READ_ALL, kind="organization"),
    # a role that submits nowhere is shown the index of its area's duty records (nothing changes)
    "checklists:duty": Route(get=Page(), post=Page(), post_data={"action": "send"}),
    "checklists:duty_report": Route(
        get=READ_ALL, post=Write(frozenset({STAFF, CLERK}), ABOVE), kind="duty_report", post_data={"action": "approve"}
    ),
    "checklists:progress": Route(get=Page()),
    # --- supervision (DESIGN.md 4) --------------------------------------------------------
    "supervision:board": Route(get=Page()),
    "supervision:problem_create": both(Page(frozenset({STAFF, SUPERVISOR}))),
    "supervision:problem": Route(
        get=READ_ALL, post=Write(frozenset({STAFF, SUPERVISOR}), ABOVE), kind="problem", post_data={"action": "cancel"}
    ),
    "supervision:problem_print": Route(get=READ_ALL, kind="problem"),
    "supervision:extension_print": Route(get=READ_ALL, kind="extension"),
    # a decision names its admonishment; a POST naming none is not found
    "supervision:admonishments": Route(get=Page(), post=Page(frozenset(), refused=NOT_FOUND)),
    "supervision:follow_ups": Route(
        get=Page(), post=Page(frozenset({STAFF, SUPERVISOR})), post_data={"action": "record"}
    ),
    # samples are drawn, and read, by those who make the visits
    # (and leaders, who read everything in their subtree), over their own area only
    "supervision:sample": Route(get=Read(frozenset({STAFF, SUPERVISOR, VIEWER}), paired=False), kind="sample"),
    "supervision:visits": Route(get=Page()),
    "supervision:visit_create": both(Page(frozenset({STAFF, SUPERVISOR}))),
    "supervision:visit": Route(get=READ_ALL, kind="visit"),
    "supervision:notices": Route(get=Page(), post=Page(frozenset({STAFF}))),
    "supervision:notice": Route(get=READ_ALL, kind="notice"),
    # --- reviews (DESIGN.md 6): set up by staff, results seen by the organizer -------------
    "reviews:home": Route(get=Page()),
    "reviews:session_create": both(Page(frozenset({STAFF}))),
    "reviews:mine": Route(get=Page()),
    "reviews:shares": Route(get=Page(REVIEW_READERS)),
    "reviews:barred": Route(get=Page(REVIEW_READERS)),
    "reviews:session": Route(get=REVIEW_READ, post=REVIEW_SET_UP, kind="session", post_data={"action": "venue"}),
    "reviews:session_edit": both(REVIEW_SET_UP, kind="session"),
    "reviews:advance": Route(post=REVIEW_SET_UP, kind="session", post_data={"to": "pre_check"}),
    "reviews:precheck": Route(get=REVIEW_READ, kind="session"),
    "reviews:results": Route(get=REVIEW_READ, kind="session"),
    "reviews:results_print": Route(get=REVIEW_READ, kind="session"),
    # no consequence is recommended yet: the one posted is not found
    "reviews:consequences": Route(
        get=REVIEW_READ,
        post=Write(frozenset({STAFF}), readers=REVIEW_READERS, paired=False, ok=NOT_FOUND),
        kind="session",
        post_data={"pk": "0"},
    ),
    "reviews:venue": Route(get=REVIEW_READ, post=REVIEW_SET_UP, kind="venue", post_data={"action": "group"}),
    # the 测评表 and tally sheet are printed by the organizer's staff for the meeting
    "reviews:form_print": Route(get=REVIEW_SET_UP, kind="venue"),
    "reviews:tally_print": Route(get=REVIEW_SET_UP, kind="venue"),
    "reviews:live": Route(get=REVIEW_READ, kind="venue"),
    "reviews:codes": Route(post=REVIEW_SET_UP, kind="group"),
    "reviews:paper": both(REVIEW_SET_UP, kind="paper"),
    "reviews:reportee": Route(get=REVIEW_READ, post=REVIEW_SET_UP, kind="reportee", post_data={"action": "precheck"}),
    # --- scoring (DESIGN.md 5) ------------------------------------------------------------
    "scoring:home": Route(get=Page()),
    "scoring:scheme_create": both(Page(frozenset({STAFF}))),
    "scoring:my_sheets": Route(get=Page()),
    # leaders read the quarterly scores; staff set them
    "scoring:quarterly": Route(get=Page(frozenset({STAFF, VIEWER})), post=Page(frozenset({STAFF}))),
    "scoring:projects": Route(get=Page()),
    "scoring:project_create": both(Page(frozenset({SECRETARY}))),
    "scoring:evaluation_create": both(Page(frozenset({STAFF}))),
    "scoring:project": Route(
        get=READ_ALL, post=Write(frozenset({STAFF}), ABOVE), kind="project", post_data={"action": "approve"}
    ),
    "scoring:panel": Route(get=SCHEME_READ, post=SCHEME_SET_UP, kind="panel", post_data={"action": "assign"}),
    "scoring:scheme": Route(get=SCHEME_READ, post=SCHEME_SET_UP, kind="scheme", post_data={"action": "indicator"}),
    "scoring:scheme_edit": both(SCHEME_SET_UP, kind="scheme"),
    "scoring:advance": Route(post=SCHEME_SET_UP, kind="scheme", post_data={"to": "scoring"}),
    "scoring:aggregate": Route(post=SCHEME_SET_UP, kind="scheme"),
    "scoring:run": Route(get=SCHEME_READ, kind="scheme"),
    "scoring:upload": Route(post=SCHEME_SET_UP, kind="scheme_sheet"),
    "scoring:board": Route(get=SCHEME_READ, kind="scheme"),
    "scoring:judges": Route(get=SCHEME_READ, kind="scheme"),
    # appeals are resolved by the organizer's staff; none is filed yet: the one posted is not found
    "scoring:appeals": Route(
        get=SCHEME_READ,
        post=Write(frozenset({STAFF}), readers=SCORING_READERS, paired=False, ok=NOT_FOUND),
        kind="scheme",
        post_data={"appeal": "0"},
    ),
    "scoring:deductions": Route(get=SCHEME_READ, post=SCHEME_SET_UP, kind="scheme"),
    # grants belong to a competitive evaluation of projects: an ordinary scheme has none (404)
    "scoring:grants": both(
        Write(frozenset({STAFF}), readers=SCORING_READERS, paired=False, ok=NOT_FOUND), kind="scheme"
    ),
    # an appeal (申诉) is filed on the explanation by the organization's secretary, once announced
    "scoring:explain": Route(
        get=SCHEME_READ,
        post=Write(frozenset({SECRETARY}), EXACT, readers=SCORING_READERS, paired=False),
        kind="scheme_organization",
    ),
}

# Records that belong to one user, not to an organization: the owner's (OK), another user's
# 404 whatever the role; anonymous users get the login page. route name → (methods, kind).
PER_USER = {
    "spreadsheets:import_detail": (("GET",), "import_job"),
    "spreadsheets:import_confirm": (("POST",), "import_job"),
    "spreadsheets:import_retry": (("POST",), "import_job"),
    "spreadsheets:export_download": (("GET",), "export_job"),
    "notifications:open": (("POST",), "notification"),
    "scoring:sheet": (("GET", "POST"), "judge_sheet"),
}
