"""The organization spine shared by every app (DESIGN.md section 2)."""

from django.contrib.auth.models import AbstractUser
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from config.models import Model

PATH_SEPARATOR = "/"


class User(AbstractUser):
    """An account. Roles come from RoleAssignment only, never from posts (DESIGN.md 2)."""

    full_name = models.CharField(_("full name"), max_length=50, blank=True)
    # The organization whose administrators look after this account (set when it is created).
    organization = models.ForeignKey(
        "Organization",
        verbose_name=_("home organization"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="accounts",
    )
    history = HistoricalRecords(excluded_fields=["password", "last_login"])

    class Meta:
        verbose_name = _("user account")
        verbose_name_plural = _("user accounts")

    def __str__(self):
        # People are shown by name; the username is for logging in (and the admin's lists).
        return self.full_name or self.username


class OrganizationKind(models.TextChoices):
    PROVINCE = "province", _("province")
    CITY = "city", _("prefecture-level city")
    COUNTY = "county", _("county")
    COUNTY_CITY = "county_city", _("county-level city")
    DISTRICT = "district", _("district")
    TOWNSHIP = "township", _("township")
    TOWN = "town", _("town")
    SUBDISTRICT = "subdistrict", _("subdistrict")
    VILLAGE = "village", _("village")
    COMMUNITY = "community", _("community")
    NATURAL_VILLAGE = "natural_village", _("natural-village branch")
    COUNTY_DEPARTMENT = "county_department", _("county department")
    PUBLIC_INSTITUTION = "public_institution", _("public institution")
    STATE_ENTERPRISE = "state_enterprise", _("state enterprise")
    NON_PUBLIC = "non_public", _("non-public organization")


class Level(models.TextChoices):
    """The administrative level a kind belongs to; roll-ups go village → town → county → city → province."""

    PROVINCE = "province", _("province level")
    CITY = "city", _("city level")
    COUNTY = "county", _("county level")
    TOWN = "town", _("town level")
    VILLAGE = "village", _("village level")
    UNIT = "unit", _("unit")


LEVEL_OF_KIND = {
    OrganizationKind.PROVINCE: Level.PROVINCE,
    OrganizationKind.CITY: Level.CITY,
    OrganizationKind.COUNTY: Level.COUNTY,
    OrganizationKind.COUNTY_CITY: Level.COUNTY,
    OrganizationKind.DISTRICT: Level.COUNTY,
    OrganizationKind.TOWNSHIP: Level.TOWN,
    OrganizationKind.TOWN: Level.TOWN,
    OrganizationKind.SUBDISTRICT: Level.TOWN,
    OrganizationKind.VILLAGE: Level.VILLAGE,
    OrganizationKind.COMMUNITY: Level.VILLAGE,
    OrganizationKind.NATURAL_VILLAGE: Level.VILLAGE,
    OrganizationKind.COUNTY_DEPARTMENT: Level.UNIT,
    OrganizationKind.PUBLIC_INSTITUTION: Level.UNIT,
    OrganizationKind.STATE_ENTERPRISE: Level.UNIT,
    OrganizationKind.NON_PUBLIC: Level.UNIT,
}


class PartyType(models.TextChoices):
    COMMITTEE = "committee", _("party committee")
    WORKING_COMMITTEE = "working_committee", _("party working committee")
    GENERAL_BRANCH = "general_branch", _("general party branch")
    BRANCH = "branch", _("party branch")
    JOINT_BRANCH = "joint_branch", _("joint party branch")


code_validator = RegexValidator(
    r"^[0-9A-Za-z_-]{1,32}$",
    _("An organization code may contain only letters, digits, '-' and '_' (at most 32)."),
)


class OrganizationQuerySet(models.QuerySet):
    def subtree(self, organization):
        """The organization and all below it: one indexed prefix query on the path."""
        return self.filter(path__startswith=organization.path)

    def ancestors(self, organization):
        """Strict ancestors, root first: one query on the paths that prefix this one."""
        return self.filter(path__in=organization.ancestor_paths()).order_by("path")


class Organization(Model):
    """A party organization in the tree, with a materialized path of codes.

    `path` is "/<root code>/…/<own code>/": the subtree of O is every path that starts with
    O's path, and O's ancestors are the prefixes of O's path, so both are single indexed
    queries (DESIGN.md 2). Services keep it in step with `parent` and `code`.
    """

    code = models.CharField(_("organization code"), max_length=32, unique=True, validators=[code_validator])
    name = models.CharField(_("organization name"), max_length=100)
    kind = models.CharField(_("unit category"), max_length=24, choices=OrganizationKind.choices)
    party_type = models.CharField(_("party organization type"), max_length=24, choices=PartyType.choices)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent organization"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
    )
    path = models.CharField(_("tree path"), max_length=1000, unique=True, editable=False)
    history = HistoricalRecords()

    objects = OrganizationQuerySet.as_manager()

    class Meta:
        verbose_name = _("organization")
        verbose_name_plural = _("organizations")
        ordering = ["path"]
        indexes = [
            # LIKE 'prefix%' on PostgreSQL needs the pattern operator class to use an index.
            models.Index(fields=["path"], name="org_path_prefix_idx", opclasses=["varchar_pattern_ops"]),
            models.Index(fields=["parent", "code"], name="org_parent_code_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=~Q(parent=models.F("id")), name="org_not_own_parent"),
        ]

    name_relations = ()

    def __str__(self):
        return self.name

    @property
    def level(self):
        return LEVEL_OF_KIND[self.kind]

    @property
    def depth(self):
        return self.path.count(PATH_SEPARATOR) - 1

    @property
    def department_name(self):
        """Who signs for a city, county or district: its Party committee's organization department
        (中共吴川市委组织部); other organizations sign with their own name."""
        if self.kind in {
            OrganizationKind.PROVINCE,
            OrganizationKind.CITY,
            OrganizationKind.COUNTY,
            OrganizationKind.COUNTY_CITY,
            OrganizationKind.DISTRICT,
        }:
            return _("The organization department of the CPC %(name)s committee") % {"name": self.name}
        return self.name

    @staticmethod
    def town_name_fields(relation):
        """What name_with_town reads of the organization at `relation` ("organization__"), for a
        list that loads only its columns: .select_related(f"{relation}parent__parent")
        .only(*Organization.town_name_fields(relation), …)."""
        return [f"{relation}{up}{name}" for up in ("", "parent__", "parent__parent__") for name in ("name", "kind")]

    @property
    def name_with_town(self):
        """Below a town an organization is named with its town, so that the two 塘边村 of a
        county can be told apart: 塘边村（梅录街道）. Load parent__parent with it."""
        if self.level != Level.VILLAGE:
            return self.name
        ancestor = self.parent
        while ancestor is not None and ancestor.level == Level.VILLAGE:
            ancestor = ancestor.parent
        return f"{self.name}（{ancestor.name}）" if ancestor is not None else self.name

    def ancestor_paths(self):
        """The paths of the strict ancestors, root first, derived from the path itself."""
        codes = self.path.strip(PATH_SEPARATOR).split(PATH_SEPARATOR)[:-1]
        return [PATH_SEPARATOR + PATH_SEPARATOR.join(codes[: i + 1]) + PATH_SEPARATOR for i in range(len(codes))]

    @staticmethod
    def path_for(code, parent):
        return (parent.path if parent else PATH_SEPARATOR) + code + PATH_SEPARATOR


class Gender(models.TextChoices):
    MALE = "male", _("male")
    FEMALE = "female", _("female")


class PoliticalStatus(models.TextChoices):
    PARTY_MEMBER = "party_member", _("CPC member")
    PROBATIONARY_MEMBER = "probationary_member", _("CPC probationary member")
    LEAGUE_MEMBER = "league_member", _("Communist Youth League member")
    MASSES = "masses", _("the masses (no party)")
    DEMOCRATIC_PARTY = "democratic_party", _("democratic party member")


phone_validator = RegexValidator(r"^1\d{10}$", _("A mobile phone number is 11 digits starting with 1."))


class Person(Model):
    """A cadre or party member. No 身份证号 is stored (DESIGN.md 2)."""

    name = models.CharField(_("name"), max_length=50)
    gender = models.CharField(_("gender"), max_length=8, choices=Gender.choices, blank=True)
    phone = models.CharField(
        _("mobile phone"), max_length=11, unique=True, null=True, blank=True, validators=[phone_validator]
    )
    political_status = models.CharField(_("political status"), max_length=24, choices=PoliticalStatus.choices)
    organization = models.ForeignKey(
        Organization, verbose_name=_("organization"), on_delete=models.PROTECT, related_name="people"
    )
    user = models.OneToOneField(
        User,
        verbose_name=_("user account"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="person",
    )
    # Nothing looks a version up by its phone or account; without those two indexes (three on
    # PostgreSQL: the phone's pattern index too) every version written costs less (imports).
    history = HistoricalRecords(no_db_index=["phone", "user"])

    class Meta:
        verbose_name = _("person")
        verbose_name_plural = _("people")
        ordering = ["organization__path", "name"]
        indexes = [models.Index(fields=["organization", "name"], name="person_org_name_idx")]

    name_relations = ()

    def __str__(self):
        return self.name

    @property
    def phone_masked(self):
        """Lists show 138****5678; full numbers only in exports to authorized staff."""
        return f"{self.phone[:3]}****{self.phone[-4:]}" if self.phone else ""


class PostTitle(models.TextChoices):
    SECRETARY = "secretary", _("secretary")
    DEPUTY_SECRETARY = "deputy_secretary", _("deputy secretary")
    ORGANIZATION_MEMBER = "organization_member", _("organization committee member")
    DISCIPLINE_MEMBER = "discipline_member", _("discipline inspection member")
    PUBLICITY_MEMBER = "publicity_member", _("publicity committee member")
    COMMITTEE_DIRECTOR = "committee_director", _("villagers' (residents') committee director")
    COMMITTEE_MEMBER = "committee_member", _("villagers' (residents') committee member")
    SUPERVISION_DIRECTOR = "supervision_director", _("village affairs supervision committee director")
    FIRST_SECRETARY = "first_secretary", _("first secretary")
    RESIDENT_TEAM_MEMBER = "resident_team_member", _("village-resident work team member")
    PARTY_BUILDING_INSTRUCTOR = "party_building_instructor", _("party-building instructor")
    VILLAGE_LIAISON = "village_liaison", _("village liaison cadre")


# "两委干部" is a grouping of posts, not a post (DESIGN.md 2).
TWO_COMMITTEE_TITLES = frozenset(
    {
        PostTitle.SECRETARY,
        PostTitle.DEPUTY_SECRETARY,
        PostTitle.ORGANIZATION_MEMBER,
        PostTitle.DISCIPLINE_MEMBER,
        PostTitle.PUBLICITY_MEMBER,
        PostTitle.COMMITTEE_DIRECTOR,
        PostTitle.COMMITTEE_MEMBER,
    }
)


class PostQuerySet(models.QuerySet):
    def current(self, on):
        return self.filter(Q(end_date__isnull=True) | Q(end_date__gte=on), start_date__lte=on)


class Post(Model):
    """A person's office at an organization. One person may hold several ("一肩挑" is two)."""

    person = models.ForeignKey(Person, verbose_name=_("person"), on_delete=models.PROTECT, related_name="posts")
    organization = models.ForeignKey(
        Organization, verbose_name=_("organization"), on_delete=models.PROTECT, related_name="posts"
    )
    title = models.CharField(_("post"), max_length=32, choices=PostTitle.choices)
    start_date = models.DateField(_("start date"))
    end_date = models.DateField(_("end date"), null=True, blank=True)
    # Versions are looked up by post or by organization, never by person.
    history = HistoricalRecords(no_db_index=["person"])

    objects = PostQuerySet.as_manager()

    class Meta:
        verbose_name = _("post")
        verbose_name_plural = _("posts")
        ordering = ["organization__path", "title", "start_date"]
        indexes = [models.Index(fields=["organization", "title", "start_date"], name="post_org_title_idx")]
        constraints = [
            models.CheckConstraint(
                condition=Q(end_date__isnull=True) | Q(end_date__gte=models.F("start_date")),
                name="post_end_after_start",
                violation_error_message=_("The end date cannot be before the start date."),
            ),
        ]

    name_relations = ("person",)

    def __str__(self):
        return f"{self.person} · {self.get_title_display()}"


class Role(models.TextChoices):
    ADMIN = "admin", _("administrator")
    STAFF = "staff", _("organization department staff")
    SECRETARY = "secretary", _("secretary")
    CLERK = "clerk", _("ledger clerk")
    JUDGE = "judge", _("judge")
    SUPERVISOR = "supervisor", _("supervisor")
    VIEWER = "viewer", _("viewer (leader)")


class RoleAssignment(Model):
    """user × organization × role; the role reaches the organization's whole subtree."""

    user = models.ForeignKey(
        User, verbose_name=_("user account"), on_delete=models.CASCADE, related_name="role_assignments"
    )
    organization = models.ForeignKey(
        Organization, verbose_name=_("organization"), on_delete=models.PROTECT, related_name="role_assignments"
    )
    role = models.CharField(_("role"), max_length=16, choices=Role.choices)
    created_at = models.DateTimeField(_("assigned at"), auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("role assignment")
        verbose_name_plural = _("role assignments")
        ordering = ["organization__path", "role"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "organization", "role"],
                name="role_assignment_unique",
                violation_error_message=_("This user already holds this role at this organization."),
            ),
        ]

    name_relations = ("user", "organization")

    def __str__(self):
        return f"{self.user} · {self.organization.name_with_town} · {self.get_role_display()}"


class Pairing(Model):
    """挂钩/挂点: a county department or a leader paired with a village for a year."""

    year = models.PositiveSmallIntegerField(_("year"))
    village = models.ForeignKey(
        Organization, verbose_name=_("paired village"), on_delete=models.PROTECT, related_name="pairings"
    )
    unit = models.ForeignKey(
        Organization,
        verbose_name=_("paired unit"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="paired_villages",
    )
    leader = models.ForeignKey(
        Person,
        verbose_name=_("paired leader"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="led_pairings",
    )
    responsible = models.ForeignKey(
        Person, verbose_name=_("responsible person"), on_delete=models.PROTECT, related_name="responsible_pairings"
    )
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("pairing")
        verbose_name_plural = _("pairings")
        ordering = ["-year", "village__path"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(unit__isnull=False) & Q(leader__isnull=True))
                | (Q(unit__isnull=True) & Q(leader__isnull=False)),
                name="pairing_unit_xor_leader",
                violation_error_message=_("A pairing names either a paired unit or a paired leader."),
            ),
            models.UniqueConstraint(fields=["year", "village", "unit"], name="pairing_unique_unit"),
            models.UniqueConstraint(fields=["year", "village", "leader"], name="pairing_unique_leader"),
        ]

    name_relations = ("unit", "leader", "village")

    def __str__(self):
        return f"{self.year} · {self.unit.name_with_town if self.unit else self.leader} → {self.village.name_with_town}"


class PairingReport(Model):
    """The paired side's monthly progress report (DESIGN.md 2)."""

    pairing = models.ForeignKey(Pairing, verbose_name=_("pairing"), on_delete=models.PROTECT, related_name="reports")
    month = models.DateField(_("month"), help_text=_("The first day of the month reported on."))
    content = models.TextField(_("progress"))
    reported_by = models.ForeignKey(User, verbose_name=_("reported by"), on_delete=models.PROTECT)
    created_at = models.DateTimeField(_("reported at"), auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("pairing progress report")
        verbose_name_plural = _("pairing progress reports")
        ordering = ["-month"]
        constraints = [
            models.UniqueConstraint(
                fields=["pairing", "month"],
                name="pairing_report_one_per_month",
                violation_error_message=_("This month has been reported already."),
            ),
            models.CheckConstraint(condition=Q(month__day=1), name="pairing_report_month_first_day"),
        ]

    def __str__(self):
        return f"{self.pairing} · {self.month:%Y-%m}"
