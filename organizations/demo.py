"""Demo data for the spine: Zhanjiang city, three of its counties with their real towns,
townships and subdistricts, invented villages, people, posts, pairings and a user for every
role. Idempotent: a second run finds what the first made and adds only what is missing.
Names of people are invented (DESIGN.md 8)."""

import random
from datetime import date

from django.utils import timezone

from . import services
from .models import (
    Gender,
    Organization,
    OrganizationKind,
    Pairing,
    PartyType,
    Person,
    PoliticalStatus,
    Post,
    PostTitle,
    Role,
    RoleAssignment,
    User,
)

DEMO_PASSWORD = "zhanjiang2026"

CITY = ("440800", "湛江市")

# Each county's 15 real towns (镇), townships (乡) and subdistricts (街道), in official order.
COUNTIES = [
    (
        "440883",
        "吴川市",
        OrganizationKind.COUNTY_CITY,
        [
            "梅录街道",
            "博铺街道",
            "海滨街道",
            "塘尾街道",
            "大山江街道",
            "长岐镇",
            "浅水镇",
            "覃巴镇",
            "吴阳镇",
            "王村港镇",
            "振文镇",
            "樟铺镇",
            "塘缀镇",
            "黄坡镇",
            "兰石镇",
        ],
    ),
    (
        "440823",
        "遂溪县",
        OrganizationKind.COUNTY,
        [
            "遂城镇",
            "黄略镇",
            "洋青镇",
            "界炮镇",
            "乐民镇",
            "江洪镇",
            "杨柑镇",
            "城月镇",
            "乌塘镇",
            "建新镇",
            "岭北镇",
            "北坡镇",
            "港门镇",
            "草潭镇",
            "河头镇",
        ],
    ),
    (
        "440825",
        "徐闻县",
        OrganizationKind.COUNTY,
        [
            "徐城街道",
            "下洋镇",
            "锦和镇",
            "和安镇",
            "新寮镇",
            "前山镇",
            "西连镇",
            "迈陈镇",
            "海安镇",
            "曲界镇",
            "下桥镇",
            "龙塘镇",
            "南山镇",
            "角尾乡",
            "城北乡",
        ],
    ),
]

COUNTY_DEPARTMENTS = ["教育局", "财政局", "农业农村局"]

# Invented village and community names in the style of the Leizhou peninsula.
VILLAGE_NAMES = [
    "那良",
    "调丰",
    "山尾",
    "塘边",
    "龙头",
    "高岭",
    "石门",
    "北潭",
    "东岸",
    "水口",
    "白沙",
    "坡头",
    "那林",
    "新屋",
    "上郎",
    "旧村",
    "大岭",
    "南兴",
    "文车",
    "田头",
    "后坑",
    "陈村",
    "西湾",
    "那板",
    "迈炭",
    "北寮",
    "竹山",
    "乌石",
    "平岭",
    "官田",
    "三家",
    "甘村",
    "麻俸",
    "盐庭",
    "沙角",
    "仕尾",
]
COMMUNITY_NAMES = ["城中", "新华", "解放", "建设", "人民", "民主", "东风", "文明", "和平", "幸福"]

SURNAMES = "陈李黄林吴梁杨庞莫钟邓许符全何劳苏张王冯蔡郑谢揭"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华建国志文海燕德荣金城永红春梅"


def _person_name(rng):
    given = "".join(rng.choice(GIVEN) for _ in range(rng.choice([1, 2])))
    return rng.choice(SURNAMES) + given


class DemoBuilder:
    def __init__(self, stdout):
        self.stdout = stdout
        self.rng = random.Random(2017)  # the year Zhanjiang's counties set the system up
        self.phones = set()
        self.created = {"organizations": 0, "people": 0, "posts": 0, "accounts": 0}

    # --- get-or-create through the services, so every demo write leaves history too ---

    def organization(self, code, name, kind, party_type, parent=None):
        found = Organization.objects.filter(code=code).first()
        if found:
            return found
        self.created["organizations"] += 1
        return services.organization_create(
            actor=None, code=code, name=name, kind=kind, party_type=party_type, parent=parent
        )

    def person(self, organization, *, status=PoliticalStatus.PARTY_MEMBER):
        # Drawn before the lookup, so a second run draws the same names and phones.
        name = _person_name(self.rng)
        gender = self.rng.choice([Gender.MALE, Gender.MALE, Gender.FEMALE])
        phone = self._phone()
        found = Person.objects.filter(phone=phone).first()
        if found:
            return found
        self.created["people"] += 1
        return services.person_create(
            actor=None, name=name, organization=organization, political_status=status, gender=gender, phone=phone
        )

    def _phone(self):
        while True:
            phone = f"1{self.rng.choice('3589')}{self.rng.randrange(10**9):09d}"
            if phone not in self.phones:
                self.phones.add(phone)
                return phone

    def post(self, person, organization, title, start):
        found = Post.objects.filter(person=person, organization=organization, title=title).first()
        if found:
            return found
        self.created["posts"] += 1
        return services.post_create(actor=None, person=person, organization=organization, title=title, start_date=start)

    def account(self, username, full_name, organization, role, *, person=None):
        user = User.objects.filter(username=username).first()
        if user is None:
            self.created["accounts"] += 1
            user = services.user_create(
                actor=None, username=username, full_name=full_name, password=DEMO_PASSWORD, organization=organization
            )
        if role and not RoleAssignment.objects.filter(user=user, organization=organization, role=role).exists():
            services.role_assign(actor=None, user=user, organization=organization, role=role)
        if person is not None and person.user_id is None and not hasattr(user, "person"):
            services.person_update(actor=None, person=person, user=user)
        return user

    # --- the tree ---

    def build(self):
        city = self.organization(CITY[0], CITY[1], OrganizationKind.CITY, PartyType.COMMITTEE)
        self.post(self.person(city), city, PostTitle.SECRETARY, date(2021, 9, 1))
        counties = {}
        for code, name, kind, towns in COUNTIES:
            county = self.organization(code, name, kind, PartyType.COMMITTEE, city)
            counties[code] = county
            self.post(self.person(county), county, PostTitle.SECRETARY, date(2021, 9, 1))
            self.post(self.person(county), county, PostTitle.DEPUTY_SECRETARY, date(2021, 9, 1))
            departments = [
                self.organization(
                    f"{code}D{i:02d}",
                    f"{name}{department}",
                    OrganizationKind.COUNTY_DEPARTMENT,
                    PartyType.BRANCH,
                    county,
                )
                for i, department in enumerate(COUNTY_DEPARTMENTS, start=1)
            ]
            for department in departments:
                self.post(self.person(department), department, PostTitle.SECRETARY, date(2021, 9, 1))
            for index, town_name in enumerate(towns, start=1):
                self.build_town(county, f"{code}{index:03d}", town_name, departments)
        return counties

    def build_town(self, county, code, name, departments):
        if name.endswith("街道"):
            kind, party_type = OrganizationKind.SUBDISTRICT, PartyType.WORKING_COMMITTEE
        elif name.endswith("乡"):
            kind, party_type = OrganizationKind.TOWNSHIP, PartyType.COMMITTEE
        else:
            kind, party_type = OrganizationKind.TOWN, PartyType.COMMITTEE
        town = self.organization(code, name, kind, party_type, county)
        self.post(self.person(town), town, PostTitle.SECRETARY, date(2021, 9, 1))
        self.post(self.person(town), town, PostTitle.ORGANIZATION_MEMBER, date(2021, 9, 1))
        liaison = self.person(town)
        short = name.removesuffix("街道").removesuffix("镇").removesuffix("乡")
        places = [(COMMUNITY_NAMES[int(code[-2:]) % len(COMMUNITY_NAMES)], OrganizationKind.COMMUNITY)]
        places += [
            (VILLAGE_NAMES[(int(code[-3:]) * 3 + i) % len(VILLAGE_NAMES)], OrganizationKind.VILLAGE) for i in range(3)
        ]
        for number, (place, place_kind) in enumerate(places, start=1):
            village_code = f"{code}{number:03d}"
            if place_kind == OrganizationKind.COMMUNITY:
                village = self.organization(
                    village_code, f"{short}{place}社区", place_kind, PartyType.GENERAL_BRANCH, town
                )
            else:
                party = PartyType.GENERAL_BRANCH if number % 2 else PartyType.BRANCH
                village = self.organization(village_code, f"{place}村", place_kind, party, town)
            self.build_village(village, liaison, departments, number)
        return town

    def build_village(self, village, liaison, departments, number):
        start = date(2021, 10, 15)  # the 2021 village two-committee elections
        secretary = self.person(village)
        self.post(secretary, village, PostTitle.SECRETARY, start)
        if number % 2:  # "书记、主任一肩挑": one person, two posts
            self.post(secretary, village, PostTitle.COMMITTEE_DIRECTOR, start)
        else:
            self.post(self.person(village, status=PoliticalStatus.MASSES), village, PostTitle.COMMITTEE_DIRECTOR, start)
        self.post(self.person(village), village, PostTitle.ORGANIZATION_MEMBER, start)
        self.post(self.person(village), village, PostTitle.COMMITTEE_MEMBER, start)
        self.post(liaison, village, PostTitle.VILLAGE_LIAISON, date(2022, 3, 1))
        if number == 2:  # a first secretary sent from a county department
            department = departments[int(village.code[-6:-3]) % len(departments)]
            self.post(self.person(department), village, PostTitle.FIRST_SECRETARY, date(2023, 6, 1))
        if number == 3:  # a natural-village branch under the village
            branch = self.organization(
                f"{village.code}01",
                f"{village.name}第一自然村党支部",
                OrganizationKind.NATURAL_VILLAGE,
                PartyType.BRANCH,
                village,
            )
            self.post(self.person(branch), branch, PostTitle.SECRETARY, start)

    def build_pairings(self, counties):
        year = timezone.localdate().year
        for county in counties.values():
            departments = Organization.objects.filter(parent=county, kind=OrganizationKind.COUNTY_DEPARTMENT)
            villages = Organization.objects.subtree(county).filter(kind=OrganizationKind.VILLAGE).order_by("code")
            for department, village in zip(departments, villages[::7], strict=False):
                if not Pairing.objects.filter(year=year, village=village, unit=department).exists():
                    responsible = Person.objects.filter(organization=department).first()
                    services.pairing_create(
                        actor=None, year=year, village=village, unit=department, responsible=responsible
                    )
            leader = Post.objects.filter(organization=county, title=PostTitle.DEPUTY_SECRETARY).first().person
            village = villages.last()
            if not Pairing.objects.filter(year=year, village=village, leader=leader).exists():
                services.pairing_create(actor=None, year=year, village=village, leader=leader, responsible=leader)

    def build_accounts(self):
        """One account per role, the role held where that user really works."""
        by_code = {
            organization.code: organization
            for organization in Organization.objects.filter(
                code__in=["440800", "440883", "440823", "440825", "440883001", "440883001002", "440883D01"]
            )
        }
        meilu, village = by_code["440883001"], by_code["440883001002"]

        def secretary_of(organization):
            post = (
                Post.objects.filter(organization=organization, title=PostTitle.SECRETARY)
                .select_related("person")
                .first()
            )
            return post.person

        superuser = User.objects.filter(username="admin").first()
        if superuser is None:
            User.objects.create_superuser("admin", password=DEMO_PASSWORD, full_name="系统管理员")
            self.created["accounts"] += 1
        # (username, where the role is held, role, the person behind it or a display name)
        rows = [
            ("zj_viewer", by_code["440800"], Role.VIEWER, "市委领导"),
            ("zj_staff", by_code["440800"], Role.STAFF, "市委组织部干部"),
            ("wc_admin", by_code["440883"], Role.ADMIN, "吴川市系统管理员"),
            ("wc_staff", by_code["440883"], Role.STAFF, "吴川市委组织部干部"),
            ("wc_supervisor", by_code["440883"], Role.SUPERVISOR, "吴川市督导组组长"),
            ("wc_judge", by_code["440883"], Role.JUDGE, "吴川市评委"),
            ("sx_staff", by_code["440823"], Role.STAFF, "遂溪县委组织部干部"),
            ("xw_staff", by_code["440825"], Role.STAFF, "徐闻县委组织部干部"),
            ("ml_secretary", meilu, Role.SECRETARY, secretary_of(meilu)),
            ("ml_clerk", meilu, Role.CLERK, "梅录街道党建办干事"),
            ("village_secretary", village, Role.SECRETARY, secretary_of(village)),
            # A county department paired with a village: reads that village for the year.
            ("wc_education", by_code["440883D01"], Role.SECRETARY, secretary_of(by_code["440883D01"])),
        ]
        logins = [("admin", "—", "superuser")]
        for username, organization, role, who in rows:
            person = who if isinstance(who, Person) else None
            self.account(username, person.name if person else who, organization, role, person=person)
            logins.append((username, organization.name_with_town, str(Role(role).label)))
        return logins


def build(stdout):
    builder = DemoBuilder(stdout)
    counties = builder.build()
    builder.build_pairings(counties)
    logins = builder.build_accounts()
    created = ", ".join(f"{name} +{count}" for name, count in builder.created.items())
    stdout.write(f"organizations: {Organization.objects.count()} in all ({created})")
    return logins
