"""The spine's sheets (DESIGN.md 7): 组织机构 and 人员, imported and exported with the
spreadsheet machinery. Headers and fixed values are Chinese and never translated.

Everything is set-based: the rows of a file are checked against the database with a few
queries per chunk of codes or phones, never one per row, so a province-sized file works.
"""

from itertools import islice

from django.db.models import Q
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from spreadsheets.registry import Column, SheetImporter, SheetPlan
from spreadsheets.staging import SeenKeys, Spool

from . import services
from .bulk import bulk_create_recorded, bulk_update_recorded, insert_recorded
from .models import (
    PATH_SEPARATOR,
    Gender,
    Organization,
    OrganizationKind,
    PartyType,
    Person,
    PoliticalStatus,
    Post,
    PostTitle,
    code_validator,
    phone_validator,
)
from .permissions import Action, path_within, subtree_paths

KIND_LABELS = {
    "省": OrganizationKind.PROVINCE,
    "市": OrganizationKind.CITY,
    "县": OrganizationKind.COUNTY,
    "县级市": OrganizationKind.COUNTY_CITY,
    "区": OrganizationKind.DISTRICT,
    "乡": OrganizationKind.TOWNSHIP,
    "镇": OrganizationKind.TOWN,
    "街道": OrganizationKind.SUBDISTRICT,
    "村": OrganizationKind.VILLAGE,
    "社区": OrganizationKind.COMMUNITY,
    "自然村": OrganizationKind.NATURAL_VILLAGE,
    "县直机关单位": OrganizationKind.COUNTY_DEPARTMENT,
    "事业单位": OrganizationKind.PUBLIC_INSTITUTION,
    "国企": OrganizationKind.STATE_ENTERPRISE,
    "两新组织": OrganizationKind.NON_PUBLIC,
}
PARTY_TYPE_LABELS = {
    "党委": PartyType.COMMITTEE,
    "党工委": PartyType.WORKING_COMMITTEE,
    "党总支": PartyType.GENERAL_BRANCH,
    "党支部": PartyType.BRANCH,
    "联合党支部": PartyType.JOINT_BRANCH,
}
POST_LABELS = {
    "书记": PostTitle.SECRETARY,
    "副书记": PostTitle.DEPUTY_SECRETARY,
    "组织委员": PostTitle.ORGANIZATION_MEMBER,
    "纪检委员": PostTitle.DISCIPLINE_MEMBER,
    "宣传委员": PostTitle.PUBLICITY_MEMBER,
    "村(居)委会主任": PostTitle.COMMITTEE_DIRECTOR,
    "村(居)委会委员": PostTitle.COMMITTEE_MEMBER,
    "村务监督委员会主任": PostTitle.SUPERVISION_DIRECTOR,
    "第一书记": PostTitle.FIRST_SECRETARY,
    "驻村工作队员": PostTitle.RESIDENT_TEAM_MEMBER,
    "党建指导员": PostTitle.PARTY_BUILDING_INSTRUCTOR,
    "包村干部": PostTitle.VILLAGE_LIAISON,
}
STATUS_LABELS = {
    "中共党员": PoliticalStatus.PARTY_MEMBER,
    "中共预备党员": PoliticalStatus.PROBATIONARY_MEMBER,
    "共青团员": PoliticalStatus.LEAGUE_MEMBER,
    "群众": PoliticalStatus.MASSES,
    "民主党派": PoliticalStatus.DEMOCRATIC_PARTY,
}
GENDER_LABELS = {"男": Gender.MALE, "女": Gender.FEMALE}


def _inverse(labels):
    return {value: label for label, value in labels.items()}


KIND_LABEL_OF = _inverse(KIND_LABELS)
PARTY_TYPE_LABEL_OF = _inverse(PARTY_TYPE_LABELS)
POST_LABEL_OF = _inverse(POST_LABELS)
STATUS_LABEL_OF = _inverse(STATUS_LABELS)
GENDER_LABEL_OF = _inverse(GENDER_LABELS)

CHUNK = 2000
IMPORT_REASON = gettext_lazy("Excel import")


def _chunks(values, size=None):
    iterator = iter(values)
    while chunk := list(islice(iterator, size or CHUNK)):
        yield chunk


def _organizations_by_code(codes):
    """{code: (pk, name, kind, party_type, parent code, path)} for the codes that exist."""
    found = {}
    for chunk in _chunks(sorted(codes)):
        for row in (
            Organization.objects.filter(code__any_of=chunk)
            .order_by()
            .values_list("code", "pk", "name", "kind", "party_type", "parent__code", "path")
        ):
            found[row[0]] = row[1:]
    return found


def _where(values, organizations):
    """(organization id, code) of a row's 所在组织编码: the id when the organization exists,
    None for one that the workbook's 组织机构 sheet makes (looked up when it is written)."""
    code = values["organization"]
    found = organizations.get(code)
    return (found[0] if found else None, code)


def _valid_code(value):
    try:
        code_validator(value)
    except Exception:
        return False
    return True


ORGANIZATION_COLUMNS = [
    Column(
        "组织编码",
        "code",
        required=True,
        kind="code",
        width=16,
        example="440883101201",
        help=gettext_lazy("letters, digits, - and _"),
    ),
    Column("组织名称", "name", required=True, width=28, example="塘边村党支部"),
    Column("单位类别", "kind", required=True, kind="choice", choices=tuple(KIND_LABELS), width=12),
    Column("党组织类别", "party_type", required=True, kind="choice", choices=tuple(PARTY_TYPE_LABELS), width=12),
    Column(
        "上级组织编码",
        "parent",
        kind="code",
        width=16,
        example="440883101",
        help=gettext_lazy("empty only for the top of the tree"),
    ),
]


class OrganizationSheet(SheetImporter):
    name = "组织机构"
    label = gettext_lazy("organizations")
    columns = ORGANIZATION_COLUMNS
    order = 10

    def allowed(self, user):
        return user is None or subtree_paths(user, Action.MAINTAIN_ORGANIZATIONS) != []

    def plan(self, rows, context):
        plan = SheetPlan(self.name)
        scope = subtree_paths(context.user, Action.MAINTAIN_ORGANIZATIONS)
        by_code = {}
        for row in rows:
            code = row.values["code"]
            if code is None:
                continue
            if code in by_code:
                context.error(
                    row,
                    "组织编码",
                    _("The code %(code)s already appears in row %(row)s of this sheet.")
                    % {"code": code, "row": by_code[code].number},
                )
                row.failed = True
            elif not _valid_code(code):
                context.error(row, "组织编码", _("A code may contain only letters, digits, - and _ (at most 32)."))
                row.failed = True
            else:
                by_code[code] = row
        parents = {row.values["parent"] for row in by_code.values() if row.values["parent"]}
        existing = _organizations_by_code(set(by_code) | parents)
        db_parent = self._database_parents(existing)
        final_parent = {**db_parent, **{code: row.values["parent"] for code, row in by_code.items()}}

        creates, updates, moves = [], [], []
        for code, row in by_code.items():
            values = row.values
            if row.failed:
                continue
            parent = values["parent"]
            current = existing.get(code)
            if current is not None and not path_within(current[5], scope):
                context.error(row, "组织编码", _("The organization %(code)s lies outside your area.") % {"code": code})
                continue
            if parent == code:
                context.error(row, "上级组织编码", _("An organization cannot be its own parent."))
                continue
            if parent and parent not in existing and parent not in by_code:
                context.error(
                    row, "上级组织编码", _("There is no organization with the code %(code)s.") % {"code": parent}
                )
                continue
            parent_unchanged = current is not None and current[4] == parent
            if not parent_unchanged:
                if not parent and scope is not None:
                    context.error(
                        row, "上级组织编码", _("Only the top of the tree has no parent; fill in the parent code.")
                    )
                    continue
                if parent in existing and not path_within(existing[parent][5], scope):
                    context.error(
                        row, "上级组织编码", _("The parent %(code)s lies outside your area.") % {"code": parent}
                    )
                    continue
                if self._in_cycle(code, final_parent):
                    context.error(row, "上级组织编码", _("The parents of this row lead back to it (a cycle)."))
                    continue
            wanted = (values["name"], KIND_LABELS[values["kind"]], PARTY_TYPE_LABELS[values["party_type"]])
            if current is None:
                creates.append((code, *wanted, parent))
                plan.created += 1
                plan.changes.append(_("new organization %(code)s %(name)s") % {"code": code, "name": wanted[0]})
                continue
            differences = self._differences(current, wanted, parent)
            if not differences:
                plan.unchanged += 1
                continue
            plan.updated += 1
            plan.changes.append(
                _("organization %(code)s: %(changes)s") % {"code": code, "changes": "；".join(differences)}
            )
            if not parent_unchanged:
                moves.append((code, parent))
            if current[1:4] != wanted:
                updates.append((code, *wanted))
        plan.data = {"creates": creates, "updates": updates, "moves": moves, "final_parent": final_parent}
        # The 人员 sheet of the same file may refer to the organizations this sheet makes.
        context.shared["new_organization_codes"] = {create[0] for create in creates}
        return plan

    @staticmethod
    def _database_parents(existing):
        """Parent codes of every organization on the paths of those found, from the paths alone."""
        parents = {}
        for *_fields, path in existing.values():
            codes = path.strip(PATH_SEPARATOR).split(PATH_SEPARATOR)
            parents.update({child: parent for parent, child in zip([None, *codes], codes, strict=False)})
        return parents

    @staticmethod
    def _in_cycle(code, final_parent):
        seen = {code}
        current = final_parent.get(code)
        while current:
            if current in seen:
                return True
            seen.add(current)
            current = final_parent.get(current)
        return False

    @staticmethod
    def _differences(current, wanted, parent):
        _pk, name, kind, party_type, parent_code, _path = current
        lines = []
        if name != wanted[0]:
            lines.append(_("name %(old)s → %(new)s") % {"old": name, "new": wanted[0]})
        if kind != wanted[1]:
            lines.append(
                _("unit category %(old)s → %(new)s") % {"old": KIND_LABEL_OF[kind], "new": KIND_LABEL_OF[wanted[1]]}
            )
        if party_type != wanted[2]:
            lines.append(
                _("party organization type %(old)s → %(new)s")
                % {"old": PARTY_TYPE_LABEL_OF[party_type], "new": PARTY_TYPE_LABEL_OF[wanted[2]]}
            )
        if parent_code != parent:
            lines.append(_("parent %(old)s → %(new)s") % {"old": parent_code or "—", "new": parent or "—"})
        return lines

    def apply(self, plan, context):
        actor, reason = context.user, str(IMPORT_REASON)
        creates, final_parent = plan.data["creates"], plan.data["final_parent"]
        paths = {
            code: fields[5]
            for code, fields in _organizations_by_code({parent for *_values, parent in creates if parent}).items()
        }
        ids = {code: fields[0] for code, fields in _organizations_by_code(set(paths)).items()}
        pending = {create[0]: create for create in creates}
        # Parents before children, whatever the row order: create level by level.
        while pending:
            level = [create for code, create in pending.items() if final_parent.get(code) not in pending]
            # In chunks, so that memory holds one chunk's objects and history rows at a time.
            for chunk in _chunks(level):
                objects = [
                    Organization(
                        code=code,
                        name=name,
                        kind=kind,
                        party_type=party_type,
                        parent_id=ids.get(parent),
                        path=(paths[parent] if parent else PATH_SEPARATOR) + code + PATH_SEPARATOR,
                    )
                    for code, name, kind, party_type, parent in chunk
                ]
                bulk_create_recorded(Organization, objects, actor=actor, reason=reason)
            for code, fields in _organizations_by_code([create[0] for create in level]).items():
                ids[code], paths[code] = fields[0], fields[5]
                del pending[code]
        if plan.data["updates"]:
            changed = []
            for chunk in _chunks(plan.data["updates"]):
                wanted = {code: rest for code, *rest in chunk}
                for organization in Organization.objects.filter(code__in=wanted):
                    organization.name, organization.kind, organization.party_type = wanted[organization.code]
                    changed.append(organization)
            bulk_update_recorded(Organization, changed, ["name", "kind", "party_type"], actor=actor, reason=reason)
        # Moves rewrite whole subtrees; each goes through the service, which logs every row it moves.
        for code, parent_code in plan.data["moves"]:
            organization = Organization.objects.get(code=code)
            parent = Organization.objects.get(code=parent_code) if parent_code else None
            services.organization_update(actor=actor, organization=organization, parent=parent)


PEOPLE_COLUMNS = [
    Column("姓名", "name", required=True, width=12, example="黄志强"),
    Column("性别", "gender", kind="choice", choices=tuple(GENDER_LABELS), width=8),
    Column(
        "手机号码",
        "phone",
        kind="phone",
        width=16,
        example="13911214732",
        help=gettext_lazy("11 digits; people are matched by it"),
    ),
    Column("政治面貌", "status", required=True, kind="choice", choices=tuple(STATUS_LABELS), width=14),
    Column("所在组织编码", "organization", required=True, kind="code", width=16, example="440883101201"),
    Column("职务", "title", kind="choice", choices=tuple(POST_LABELS), width=18),
    Column("任职日期", "start_date", kind="date", width=14),
]


class PeopleSheet(SheetImporter):
    """One row per post. A person is matched by 手机号码, else by 姓名 + 所在组织编码.

    Streams (issue 10): the rows are checked a chunk at a time with a few queries per chunk; what
    later rows must be checked against (the people and posts seen so far) is kept in a temporary
    table, and the writes in a temporary file, so that memory does not grow with the rows.
    """

    name = "人员"
    label = gettext_lazy("people and posts")
    columns = PEOPLE_COLUMNS
    order = 20
    streams = True

    allowed = OrganizationSheet.allowed

    def plan(self, rows, context):
        plan = SheetPlan(self.name)
        scope = subtree_paths(context.user, Action.MAINTAIN_ORGANIZATIONS)
        new_codes = context.shared.get("new_organization_codes", set())
        spool = Spool()
        with SeenKeys() as seen:
            for chunk in _chunks(row for row in rows if not row.failed):
                spool.append(self._plan_chunk(chunk, plan, context, scope, new_codes, seen))
        plan.data = spool
        return plan

    def _plan_chunk(self, chunk, plan, context, scope, new_codes, seen):
        """Check a chunk of rows against the database and the rows before it; returns its writes
        as records (kind, ...) in row order and counts each row in the plan."""
        organizations = _organizations_by_code({row.values["organization"] for row in chunk})
        by_phone = self._people_by_phone({row.values["phone"] for row in chunk if row.values["phone"]})
        by_name = self._people_by_name(
            {(row.values["name"], row.values["organization"]) for row in chunk if not row.values["phone"]}
        )
        checked = []  # (row, person key, matched person or None)
        for row in chunk:
            values = row.values
            code = values["organization"]
            if code in organizations:
                if not path_within(organizations[code][5], scope):
                    context.error(
                        row, "所在组织编码", _("The organization %(code)s lies outside your area.") % {"code": code}
                    )
                    continue
            elif code not in new_codes:
                context.error(
                    row, "所在组织编码", _("There is no organization with the code %(code)s.") % {"code": code}
                )
                continue
            if values["phone"]:
                try:
                    phone_validator(values["phone"])
                except Exception:
                    context.error(
                        row,
                        "手机号码",
                        _("「%(value)s」 is not a mobile phone number (11 digits starting with 1).")
                        % {"value": values["phone"]},
                    )
                    continue
            if values["title"] and values["start_date"] is None:
                context.error(row, "任职日期", _("A post needs its start date."))
                continue
            key = values["phone"] or (values["name"], code)
            person = self._match(row, key, by_phone, by_name, context)
            if person is False:
                continue
            checked.append((row, key, person))

        people = seen.get_many("person", {key for _row, key, _person in checked})
        post_keys = {(key, row.values["organization"], row.values["title"]) for row, key, _person in checked}
        posts = seen.get_many("post", post_keys)
        current = self._current_posts([person["pk"] for _row, _key, person in checked if person])
        records, new_people, new_posts = [], [], []
        for row, key, person in checked:
            values, code = row.values, row.values["organization"]
            described = [values["name"], values["gender"], values["status"]]
            earlier = people.get(key)
            if earlier is not None and earlier[1]["described"] != described:
                context.error(
                    row,
                    "姓名",
                    _("Row %(row)s describes the same person differently; make them agree.") % {"row": earlier[0]},
                )
                continue
            if values["title"]:
                post_key = (key, code, values["title"])
                if post_key in posts:
                    context.error(
                        row, "职务", _("The same post is already in row %(row)s.") % {"row": posts[post_key][0]}
                    )
                    continue
                posts[post_key] = (row.number, None)
                new_posts.append((post_key, row.number, None))
            if earlier is None:
                state = self._person_change(plan, records, key, values, person, organizations)
                earlier = people[key] = (row.number, {"described": described, "state": state})
                new_people.append((key, row.number, earlier[1]))
            states = {
                earlier[1]["state"],
                self._post_change(plan, records, key, values, person, current, organizations),
            }
            outcome = "created" if "created" in states else "updated" if "updated" in states else "unchanged"
            setattr(plan, outcome, getattr(plan, outcome) + 1)
        seen.add_many("person", new_people)
        seen.add_many("post", new_posts)
        return records

    @staticmethod
    def _person_change(plan, records, key, values, person, organizations):
        """The write a person's first row makes, if any, and its state."""
        wanted = {
            "name": values["name"],
            "gender": GENDER_LABELS.get(values["gender"], ""),
            "political_status": STATUS_LABELS[values["status"]],
        }
        if person is None:
            records.append(("person_create", key, values["phone"], _where(values, organizations), wanted))
            plan.change(lambda: _("new person %(name)s") % {"name": values["name"]})
            return "created"
        # An empty 性别 cell keeps what is known.
        differences = {
            field: value
            for field, value in wanted.items()
            if person[field] != value and not (field == "gender" and not value)
        }
        if not differences:
            return "unchanged"
        records.append(("person_update", person["pk"], differences))
        fields = "、".join(str(Person._meta.get_field(field).verbose_name) for field in differences)
        plan.change(lambda: _("person %(name)s: %(fields)s") % {"name": person["name"], "fields": fields})
        return "updated"

    @staticmethod
    def _post_change(plan, records, key, values, person, current, organizations):
        """The write a row's post makes, if any, and its state."""
        if not values["title"]:
            return "unchanged"
        code, title_label, start = values["organization"], values["title"], values["start_date"]
        title = POST_LABELS[title_label]
        existing = current.get((person["pk"], code, title)) if person else None
        if existing is None:
            where = _where(values, organizations)
            records.append(("post_create", person["pk"] if person else None, key, where, title, start))
            plan.change(
                lambda: (
                    _("new post: %(name)s, %(title)s at %(code)s")
                    % {"name": values["name"], "title": title_label, "code": code}
                )
            )
            return "created"
        if existing[1] != start:
            records.append(("post_update", existing[0], start))
            plan.change(
                lambda: (
                    _("post of %(name)s, %(title)s: start date %(old)s → %(new)s")
                    % {"name": values["name"], "title": title_label, "old": existing[1], "new": start}
                )
            )
            return "updated"
        return "unchanged"

    @staticmethod
    def _people_by_phone(phones):
        found = {}
        for chunk in _chunks(sorted(phones)):
            for person in (
                Person.objects.filter(phone__any_of=chunk)
                .order_by()
                .values("pk", "name", "gender", "political_status", "phone")
            ):
                found[person["phone"]] = person
        return found

    @staticmethod
    def _people_by_name(pairs):
        found = {}
        for chunk in _chunks(sorted(pairs)):
            condition = Q(pk__in=[])
            for name, code in chunk:
                condition |= Q(name=name, organization__code=code)
            for person in Person.objects.filter(condition).values(
                "pk", "name", "gender", "political_status", "phone", "organization__code"
            ):
                found.setdefault((person["name"], person["organization__code"]), []).append(person)
        return found

    @staticmethod
    def _match(row, key, by_phone, by_name, context):
        """The existing person a row names (a dict), None for a new one, False on an error."""
        if isinstance(key, str):
            return by_phone.get(key)
        candidates = by_name.get(key, [])
        if len(candidates) > 1:
            context.error(
                row, "姓名", _("Several people of this name work at this organization; add the mobile phone.")
            )
            return False
        return candidates[0] if candidates else None

    @staticmethod
    def _current_posts(person_ids):
        """{(person pk, organization code, title): (post pk, start date)} of the current posts."""
        found = {}
        for chunk in _chunks(sorted(set(person_ids))):
            for pk, person_id, code, title, start in (
                Post.objects.filter(person_id__any_of=chunk, end_date__isnull=True)
                .order_by()
                .values_list("pk", "person_id", "organization__code", "title", "start_date")
            ):
                found[(person_id, code, title)] = (pk, start)
        return found

    def apply(self, plan, context):
        """Write the spooled records a chunk at a time, in the order of the rows."""
        actor, reason = context.user, str(IMPORT_REASON)
        try:
            for records in plan.data:
                new_ids = {}  # person key → id, of the people made by this chunk's rows
                by_kind = {}
                for record in records:
                    by_kind.setdefault(record[0], []).append(record[1:])
                person_creates = by_kind.get("person_create", [])
                post_creates = by_kind.get("post_create", [])
                # Organizations made by the workbook's 组织机构 sheet, known by their codes only
                codes = {code for _key, _phone, (pk, code), _wanted in person_creates if pk is None}
                codes |= {code for _pk, _key, (pk, code), _title, _start in post_creates if pk is None}
                organization_ids = {code: fields[0] for code, fields in _organizations_by_code(codes).items()}
                created_ids = insert_recorded(
                    Person,
                    ["name", "gender", "political_status", "phone", "organization"],
                    [
                        (
                            wanted["name"],
                            wanted["gender"],
                            wanted["political_status"],
                            phone or None,
                            organization_id or organization_ids[code],
                        )
                        for _key, phone, (organization_id, code), wanted in person_creates
                    ],
                    actor=actor,
                    reason=reason,
                )
                new_ids.update(zip([create[0] for create in person_creates], created_ids, strict=True))
                if by_kind.get("person_update"):
                    updates = by_kind["person_update"]
                    people = Person.objects.in_bulk([pk for pk, _fields in updates])
                    for pk, fields in updates:
                        for field, value in fields.items():
                            setattr(people[pk], field, value)
                    fields = sorted({field for _pk, changed in updates for field in changed})
                    bulk_update_recorded(Person, list(people.values()), fields, actor=actor, reason=reason)
                # A new person's posts may come rows (and chunks) after the row that made the person.
                missing = {key for pk, key, *_rest in post_creates if pk is None and key not in new_ids}
                new_ids.update(PeopleSheet._new_person_ids(missing))
                insert_recorded(
                    Post,
                    ["person", "organization", "title", "start_date"],
                    [
                        (pk or new_ids[key], organization_id or organization_ids[code], title, start)
                        for pk, key, (organization_id, code), title, start in post_creates
                    ],
                    actor=actor,
                    reason=reason,
                )
                if by_kind.get("post_update"):
                    updates = by_kind["post_update"]
                    posts = Post.objects.in_bulk([pk for pk, _start in updates])
                    for pk, start in updates:
                        posts[pk].start_date = start
                    bulk_update_recorded(Post, list(posts.values()), ["start_date"], actor=actor, reason=reason)
        finally:
            plan.data.close()

    @staticmethod
    def _new_person_ids(keys):
        """{person key: pk} of people this import made: by phone, else by name and organization
        (no one else of that name was there, or the row would have matched them)."""
        ids = {}
        phones = [key for key in keys if isinstance(key, str)]
        for chunk in _chunks(phones):
            ids.update(Person.objects.filter(phone__any_of=chunk).order_by().values_list("phone", "pk"))
        for chunk in _chunks(sorted(key for key in keys if not isinstance(key, str))):
            condition = Q(pk__in=[])
            for name, code in chunk:
                condition |= Q(name=name, organization__code=code)
            for name, code, pk in Person.objects.filter(condition).values_list("name", "organization__code", "pk"):
                ids[(name, code)] = pk
        return ids
