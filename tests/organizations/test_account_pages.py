"""The account pages (organizations/account_urls.py and the password change) as issue 11 points
12 and 14 left them: people by name, villages with their town, the password rules in Chinese,
times in Asia/Shanghai, no English word on the page; and an admin's own roles managed from above."""

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import timezone

from organizations.models import Organization, Role, RoleAssignment, User
from tests.config.test_words_on_pages import ALLOWED, WORD, VisibleText

SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def admin(world, user_with_role):
    """An admin of town A1 (梅录街道), whose villages A1a and A2a's both are called 高岭村."""
    Organization.objects.filter(pk__in=[world.village_a1a.pk, world.village_a2a.pk]).update(name="高岭村")
    Organization.objects.filter(pk=world.town_a1.pk).update(name="梅录街道")
    return user_with_role(Role.ADMIN, world.town_a1, full_name="镇管理员")


@pytest.fixture
def secretary(world, user_with_role):
    account = user_with_role(Role.SECRETARY, world.village_a1a, username="gl_sec", full_name="陈大明")
    User.objects.filter(pk=account.pk).update(organization=world.village_a1a)
    account.refresh_from_db()
    return account


def _english_words(html, *, besides=()):
    parser = VisibleText()
    parser.feed(html)
    text = " ".join(parser.parts)
    return sorted({word for word in WORD.findall(text) if word not in ALLOWED and word not in besides})


def test_the_account_list_and_page_name_the_person_and_the_village_with_its_town(admin, secretary, client):
    client.force_login(admin)
    listing = client.get(reverse("accounts:list")).text
    assert "陈大明" in listing
    assert "高岭村（梅录街道）" in listing
    page = client.get(reverse("accounts:detail", args=[secretary.username])).text
    assert "<h1>陈大明</h1>" in page
    assert page.count("高岭村（梅录街道）") >= 2  # home organization and the role


def test_the_last_login_is_shown_in_shanghai_time(admin, secretary, client):
    # 23:30 UTC yesterday is 07:30 today in Shanghai: the date and the hour both differ.
    yesterday = timezone.localdate() - timedelta(days=1)
    at = datetime.combine(yesterday, time(23, 30), tzinfo=ZoneInfo("UTC"))
    User.objects.filter(pk=secretary.pk).update(last_login=at)
    client.force_login(admin)
    page = client.get(reverse("accounts:detail", args=[secretary.username])).text
    assert f"{at.astimezone(SHANGHAI):%Y-%m-%d %H:%M}" in page
    assert f"{at:%Y-%m-%d %H:%M}" not in page


def test_account_pages_show_no_english_word(admin, secretary, client):
    client.force_login(admin)
    usernames = {admin.username, secretary.username}
    for url in [
        reverse("accounts:list"),
        reverse("accounts:create"),
        reverse("accounts:detail", args=[secretary.username]),
        reverse("accounts:detail", args=[admin.username]),
        reverse("password_change"),
        reverse("password_change_done"),
    ]:
        response = client.get(url)
        assert response.status_code == 200, url
        # Usernames are what people log in with: the admin's pages show them as they are.
        assert _english_words(response.text, besides=usernames) == [], url


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("Kd8-x", "密码太短：至少需要 8 个字符。"),
        ("38291047561", "密码只包含数字。"),
        ("password123", "这个密码太常见了。"),
    ],
)
def test_the_password_rules_speak_chinese_on_the_own_password_page(secretary, client, password, message):
    secretary.set_password("Old-pass-2026")
    secretary.save()
    client.force_login(secretary)
    response = client.post(
        reverse("password_change"),
        {"old_password": "Old-pass-2026", "new_password1": password, "new_password2": password},
    )
    assert response.status_code == 200
    assert message in response.text
    assert _english_words(response.text, besides={secretary.username}) == []
    secretary.refresh_from_db()
    assert secretary.check_password("Old-pass-2026")


def test_a_person_changes_the_own_password_and_stays_logged_in(secretary, client):
    secretary.set_password("Old-pass-2026")
    secretary.save()
    client.force_login(secretary)
    response = client.post(
        reverse("password_change"),
        {"old_password": "Old-pass-2026", "new_password1": "Gl-新密码-8391", "new_password2": "Gl-新密码-8391"},
        follow=True,
    )
    assert "您的密码已修改。" in response.text
    secretary.refresh_from_db()
    assert secretary.check_password("Gl-新密码-8391")
    assert client.get(reverse("home")).status_code == 200  # the session survived the change


def test_a_wrong_old_password_is_refused_in_chinese(secretary, client):
    secretary.set_password("Old-pass-2026")
    secretary.save()
    client.force_login(secretary)
    response = client.post(
        reverse("password_change"),
        {"old_password": "not-it", "new_password1": "Gl-pass-8391", "new_password2": "Gl-pass-8391"},
    )
    assert "旧密码不正确" in response.text
    secretary.refresh_from_db()
    assert secretary.check_password("Old-pass-2026")


def test_an_admin_resets_a_password_only_by_the_rules(admin, secretary, client):
    client.force_login(admin)
    url = reverse("accounts:detail", args=[secretary.username])
    response = client.post(url, {"action": "password", "password": "1234", "password_again": "1234"})
    assert "密码太短：至少需要 8 个字符。" in response.text
    secretary.refresh_from_db()
    assert not secretary.check_password("1234")


def test_an_admin_neither_gives_himself_a_role_nor_takes_his_own_away(admin, world, client):
    """An admin's own account is managed from above (selectors.account_fully_in_scope): the
    page offers no revoke or assign there, and a forged POST is refused."""
    own = RoleAssignment.objects.get(user=admin)
    client.force_login(admin)
    url = reverse("accounts:detail", args=[admin.username])
    page = client.get(url).text
    assert reverse("accounts:role_revoke", args=[own.pk]) not in page
    assert 'value="assign"' not in page
    assert "该账号还属于您管理范围以外" not in page  # it is his own, not someone else's elsewhere
    assert client.post(reverse("accounts:role_revoke", args=[own.pk])).status_code == 403
    assert RoleAssignment.objects.filter(pk=own.pk).exists()
    forged = client.post(url, {"action": "assign", "organization": world.village_a1a.code, "role": Role.STAFF})
    assert forged.status_code == 403
    assert not RoleAssignment.objects.filter(user=admin, role=Role.STAFF).exists()
