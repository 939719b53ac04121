"""The spine's exports (DESIGN.md 7), declared for the spreadsheet machinery. Each uses the
same columns as the matching import sheet, so an export re-imports with no changes."""

from django.db.models import Exists, OuterRef
from django.utils import timezone
from django.utils.translation import gettext_lazy

from spreadsheets.registry import ExportColumn, ExportSpec

from .models import Organization, Person, Post
from .permissions import Action, has_permission
from .sheets import (
    GENDER_LABEL_OF,
    KIND_LABEL_OF,
    ORGANIZATION_COLUMNS,
    PARTY_TYPE_LABEL_OF,
    PEOPLE_COLUMNS,
    POST_LABEL_OF,
    STATUS_LABEL_OF,
)

CHUNK = 2000


class SubtreeExport(ExportSpec):
    """An export of one organization's subtree: params {"org": code}."""

    action = Action.VIEW

    def params_from(self, data):
        return {"org": str(data.get("org", ""))[:32]}

    def organization(self, params):
        return Organization.objects.filter(code=params.get("org")).first()

    def allowed(self, user, params):
        organization = self.organization(params)
        return organization is not None and has_permission(user, self.action, organization)

    def title(self, params):
        organization = self.organization(params)
        return f"{organization.name_with_town if organization else params.get('org')} · {self.label}"

    def filename(self, params):
        return f"{params.get('org')}-{self.sheet_name}-{timezone.localdate():%Y%m%d}.xlsx"


class OrganizationTreeExport(SubtreeExport):
    kind = "organizations"
    label = gettext_lazy("organization tree")
    sheet_name = "组织机构"
    columns = [ExportColumn(column.header, column.width) for column in ORGANIZATION_COLUMNS]

    def rows(self, params):
        subtree = Organization.objects.subtree(self.organization(params)).order_by("path")
        values = subtree.values_list("code", "name", "kind", "party_type", "parent__code")
        rows = (
            (code, name, KIND_LABEL_OF[kind], PARTY_TYPE_LABEL_OF[party_type], parent or "")
            for code, name, kind, party_type, parent in values.iterator(chunk_size=CHUNK)
        )
        return subtree.count(), rows


class PeopleExport(SubtreeExport):
    """People with their current posts, one row per post, full phone numbers: only for staff
    who maintain the roster (DESIGN.md 2: full numbers in exports to authorized staff)."""

    kind = "people"
    label = gettext_lazy("people and posts")
    sheet_name = "人员"
    action = Action.MAINTAIN_ORGANIZATIONS
    columns = [ExportColumn(column.header, column.width) for column in PEOPLE_COLUMNS]

    def rows(self, params):
        organization = self.organization(params)
        # Open posts (no end date): the ones an import matches and updates.
        open_posts = Post.objects.filter(end_date__isnull=True, organization__path__startswith=organization.path)
        posts = open_posts.order_by("organization__path", "person__name", "person_id", "title").values_list(
            "person__name",
            "person__gender",
            "person__phone",
            "person__political_status",
            "organization__code",
            "title",
            "start_date",
        )
        # People holding no current post still belong on the roster, at their own organization.
        unposted = (
            Person.objects.filter(organization__path__startswith=organization.path)
            .filter(~Exists(open_posts.filter(person=OuterRef("pk"))))
            .order_by("organization__path", "name", "pk")
            .values_list("name", "gender", "phone", "political_status", "organization__code")
        )

        def rows():
            for name, gender, phone, status, code, title, start in posts.iterator(chunk_size=CHUNK):
                yield (
                    name,
                    GENDER_LABEL_OF.get(gender, ""),
                    phone or "",
                    STATUS_LABEL_OF[status],
                    code,
                    POST_LABEL_OF[title],
                    start,
                )
            for name, gender, phone, status, code in unposted.iterator(chunk_size=CHUNK):
                yield name, GENDER_LABEL_OF.get(gender, ""), phone or "", STATUS_LABEL_OF[status], code, "", None

        return posts.count() + unposted.count(), rows()
