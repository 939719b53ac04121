from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from organizations.models import Role, RoleAssignment, User
from tests.organizations.factories import PairingFactory, PersonFactory, PostFactory, UserFactory


@pytest.fixture
def town_secretary(world, user_with_role, client):
    user = user_with_role(Role.SECRETARY, world.town_a1)
    client.force_login(user)
    return user


def test_login_page_is_chinese(client, db):
    response = client.get(reverse("login"))
    assert response.status_code == 200
    assert "登录" in response.text
    assert response.headers["Content-Language"] == "zh-hans"


def test_browser_language_does_not_override_chinese(client, db):
    response = client.get(reverse("login"), headers={"accept-language": "en-US,en;q=0.9"})
    assert "登录" in response.text


def test_the_user_can_switch_to_english(client, db):
    client.post(reverse("set_language"), {"language": "en", "next": "/login/"})
    assert "Log in" in client.get(reverse("login")).text


def test_pages_need_login(client, world):
    for url in [reverse("home"), reverse("organizations:tree"), reverse("organizations:detail", args=["A1"])]:
        response = client.get(url)
        assert response.status_code == 302
        assert response.url.startswith(reverse("login"))


def test_login_with_a_wrong_password_keeps_the_username(client, db):
    UserFactory(username="wang")
    response = client.post(reverse("login"), {"username": "wang", "password": "wrong"})
    assert response.status_code == 200
    assert 'value="wang"' in response.text
    assert "请输入一个正确的" in response.text


def test_town_secretary_reaches_own_town_and_villages(town_secretary, client, world):
    for code in ["A1", "A1a"]:
        assert client.get(reverse("organizations:detail", args=[code])).status_code == 200


@pytest.mark.parametrize("code", ["A2", "A2a", "A", "C", "B1a", "AD"])
def test_town_secretary_cannot_reach_a_sibling_or_anything_above(town_secretary, client, world, code):
    assert client.get(reverse("organizations:detail", args=[code])).status_code == 404
    assert client.get(reverse("organizations:children", args=[code])).status_code == 404


def test_tree_starts_at_the_users_own_organizations(town_secretary, client, world):
    response = client.get(reverse("organizations:tree"))
    assert [node.code for node in response.context["nodes"]] == ["A1"]
    assert response.context["nodes"][0].child_count == 2


def test_tree_children_come_as_an_htmx_partial(town_secretary, client, world):
    response = client.get(reverse("organizations:children", args=["A1"]), headers={"hx-request": "true"})
    assert "<html" not in response.text
    assert "组织A1a" in response.text
    assert "组织A1b" in response.text


def test_search_finds_only_inside_the_area(town_secretary, client, world):
    response = client.get(reverse("organizations:tree"), {"q": "组织A"})
    codes = {organization.code for organization in response.context["results"]}
    assert codes == {"A1", "A1a", "A1b"}


def test_organization_page_shows_posts_with_masked_phones(town_secretary, client, world):
    person = PersonFactory(organization=world.town_a1, phone="13812345678", name="林小平")
    PostFactory(person=person, organization=world.town_a1)
    response = client.get(reverse("organizations:detail", args=["A1"]))
    assert "林小平" in response.text
    assert "138****5678" in response.text
    assert "13812345678" not in response.text


def test_navigation_follows_the_roles(world, user_with_role, client):
    viewer = user_with_role(Role.VIEWER, world.city)
    client.force_login(viewer)
    labels = [str(item["label"]) for item in client.get(reverse("home")).context["menu"]]
    assert labels == ["首页", "组织架构", "责任清单", "问题台账", "述职评议", "量化考核", "我的导出"]

    admin = user_with_role(Role.ADMIN, world.county_a)
    client.force_login(admin)
    labels = [str(item["label"]) for item in client.get(reverse("home")).context["menu"]]
    assert labels == ["首页", "组织架构", "责任清单", "问题台账", "Excel 导入", "我的导出", "账号管理"]

    client.force_login(UserFactory(is_superuser=True))
    labels = [str(item["label"]) for item in client.get(reverse("home")).context["menu"]]
    assert labels == [
        "首页",
        "组织架构",
        "责任清单",
        "问题台账",
        "述职评议",
        "量化考核",
        "Excel 导入",
        "我的导出",
        "账号管理",
        "后台管理",
    ]


# --- account management ------------------------------------------------------------------


@pytest.fixture
def town_admin(world, user_with_role, client):
    user = user_with_role(Role.ADMIN, world.town_a1)
    client.force_login(user)
    return user


def test_accounts_pages_need_the_admin_role(town_secretary, client):
    assert client.get(reverse("accounts:list")).status_code == 403
    assert client.get(reverse("accounts:create")).status_code == 403


def test_admin_lists_only_accounts_in_the_subtree(town_admin, client, world, user_with_role):
    inside = user_with_role(Role.SECRETARY, world.village_a1a)
    outside = user_with_role(Role.SECRETARY, world.village_a2a)
    usernames = {account.username for account in client.get(reverse("accounts:list")).context["accounts"]}
    assert inside.username in usernames
    assert outside.username not in usernames
    assert client.get(reverse("accounts:detail", args=[outside.username])).status_code == 404


def test_admin_creates_an_account_with_its_first_role(town_admin, client, world):
    response = client.post(
        reverse("accounts:create"),
        {
            "username": "a1a_sec",
            "full_name": "陈大明",
            "organization": "A1a",
            "role": Role.SECRETARY,
            "password": "Kd83-long-pass",
            "password_again": "Kd83-long-pass",
        },
    )
    assert response.status_code == 302
    account = User.objects.get(username="a1a_sec")
    assert account.check_password("Kd83-long-pass")
    assert account.organization == world.village_a1a
    assert RoleAssignment.objects.filter(user=account, organization=world.village_a1a, role=Role.SECRETARY).exists()
    assert account.history.first().history_user == town_admin


def test_admin_cannot_create_an_account_outside_the_subtree(town_admin, client, world):
    response = client.post(
        reverse("accounts:create"),
        {
            "username": "spy",
            "full_name": "某人",
            "organization": "A2a",
            "role": Role.SECRETARY,
            "password": "Kd83-long-pass",
            "password_again": "Kd83-long-pass",
        },
    )
    assert response.status_code == 200
    assert "不在您的管理范围内" in response.text
    assert 'value="spy"' in response.text  # what was typed is kept
    assert not User.objects.filter(username="spy").exists()


def test_a_weak_or_mismatched_password_is_refused_in_chinese(town_admin, client, world):
    response = client.post(
        reverse("accounts:create"),
        {
            "username": "weak",
            "full_name": "某人",
            "organization": "A1a",
            "password": "12345678",
            "password_again": "12345679",
        },
    )
    assert "两次输入的密码不一致" in response.text
    assert not User.objects.filter(username="weak").exists()


def test_admin_assigns_and_revokes_roles_only_inside_the_subtree(town_admin, client, world, user_with_role):
    account = user_with_role(Role.SECRETARY, world.village_a1a)
    url = reverse("accounts:detail", args=[account.username])

    refused = client.post(url, {"action": "assign", "organization": "A2a", "role": Role.CLERK})
    assert refused.status_code == 200
    assert not RoleAssignment.objects.filter(user=account, role=Role.CLERK).exists()

    client.post(url, {"action": "assign", "organization": "A1b", "role": Role.CLERK})
    assignment = RoleAssignment.objects.get(user=account, role=Role.CLERK)
    assert assignment.organization == world.village_a1b

    client.post(reverse("accounts:role_revoke", args=[assignment.pk]))
    assert not RoleAssignment.objects.filter(pk=assignment.pk).exists()
    assert RoleAssignment.history.filter(id=assignment.pk, history_type="-").get().history_user == town_admin


def test_admin_cannot_revoke_a_role_outside_the_subtree(town_admin, client, world, user_with_role):
    account = user_with_role(Role.SECRETARY, world.village_a1a)
    outside = RoleAssignment.objects.create(user=account, organization=world.village_a2a, role=Role.CLERK)
    assert client.post(reverse("accounts:role_revoke", args=[outside.pk])).status_code == 404
    assert RoleAssignment.objects.filter(pk=outside.pk).exists()


def test_admin_cannot_take_over_an_account_that_also_works_elsewhere(town_admin, client, world, user_with_role):
    # a county staff member who also holds a role in the admin's town
    county_staff = user_with_role(Role.STAFF, world.county_a)
    RoleAssignment.objects.create(user=county_staff, organization=world.town_a1, role=Role.VIEWER)
    url = reverse("accounts:detail", args=[county_staff.username])
    assert client.get(url).status_code == 200
    response = client.post(
        url, {"action": "password", "password": "Kd83-long-pass", "password_again": "Kd83-long-pass"}
    )
    assert response.status_code == 403
    county_staff.refresh_from_db()
    assert not county_staff.check_password("Kd83-long-pass")


def test_admin_resets_a_password_and_disables_an_account(town_admin, client, world, user_with_role):
    account = user_with_role(Role.SECRETARY, world.village_a1a)
    url = reverse("accounts:detail", args=[account.username])
    client.post(url, {"action": "password", "password": "Kd83-long-pass", "password_again": "Kd83-long-pass"})
    client.post(url, {"action": "edit", "full_name": "新名字"})
    account.refresh_from_db()
    assert account.check_password("Kd83-long-pass")
    assert account.full_name == "新名字"
    assert not account.is_active
    reasons = set(account.history.values_list("history_change_reason", flat=True))
    assert {"重置密码", "修改账号"} <= reasons


def test_organization_options_search_the_area(town_secretary, client, world):
    response = client.get(reverse("organizations:options"), {"organization": "组织A"})
    assert 'value="A1a"' in response.text
    assert 'value="A2a"' not in response.text


@pytest.mark.parametrize("field", ["organization", "root", "organizer", "responsible_unit", "owner"])
def test_every_organization_field_finds_by_name_or_code(world, user_with_role, client, field):
    client.force_login(user_with_role(Role.STAFF, world.county_a))
    by_name = client.get(reverse("organizations:options"), {field: "组织A1"})
    assert 'value="A1"' in by_name.text
    by_code = client.get(reverse("organizations:options"), {field: "A2"})
    assert 'value="A2"' in by_code.text
    outside = client.get(reverse("organizations:options"), {field: "B1"})
    assert 'value="B1"' not in outside.text


@pytest.mark.parametrize(
    ("url", "labels"),
    [
        ("supervision:problem_create", ["涉及组织（名称或编码）", "责任单位（名称或编码；不填则为涉及组织本身）"]),
        ("supervision:follow_ups", ["抽取范围（组织名称或编码，含其全部下级）"]),
        ("accounts:create", ["所属组织（名称或编码）"]),
    ],
)
def test_organization_fields_say_they_take_a_name_or_a_code(world, user_with_role, client, url, labels):
    """Issue 11 point 13: the fields take a name as well as a code, and their labels say so."""
    user = user_with_role(Role.STAFF, world.county_a)
    RoleAssignment.objects.create(user=user, organization=world.county_a, role=Role.ADMIN)
    client.force_login(user)
    page = client.get(reverse(url) + f"?org={world.county_a.code}").text
    for label in labels:
        assert label in page
    assert "（编码" not in page


def test_organization_page_counts_each_pairings_monthly_reports(town_secretary, client, world):
    from organizations.models import PairingReport
    from organizations.selectors import pairings_of

    month = timezone.localdate().replace(day=1)
    reported = PairingFactory(village=world.village_a1a)
    silent = PairingFactory(village=world.village_a1a, unit=reported.unit, year=reported.year - 1)
    for months_back in (0, 1):
        PairingReport.objects.create(
            pairing=reported,
            month=(month - timedelta(days=28 * months_back)).replace(day=1),
            content="进展",
            reported_by=town_secretary,
        )
    counts = {pairing.pk: pairing.report_count for pairing in pairings_of(world.village_a1a)}
    assert counts == {reported.pk: 2, silent.pk: 0}
    assert {pairing.pk: pairing.report_count for pairing in pairings_of(reported.unit)} == counts
    page = client.get(reverse("organizations:detail", args=[world.village_a1a.code])).content.decode()
    assert "月度进展 2 条" in page
    assert "月度进展 0 条" in page
