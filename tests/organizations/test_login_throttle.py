"""Login throttling per account and per client, unlocked by an administrator (issue 13, 2)."""

import pytest
from django.core.management import call_command
from django.urls import reverse

from organizations.models import Role

from .factories import UserFactory

PASSWORD = "correct-horse-battery"


@pytest.fixture
def account(db):
    user = UserFactory(username="ml_secretary")
    user.set_password(PASSWORD)
    user.save()
    return user


def _login(client, username, password, address="10.0.0.1"):
    return client.post(reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=address)


def _logged_in(client):
    return "_auth_user_id" in client.session


def test_after_wrong_passwords_the_account_is_locked_even_for_the_right_one(client, account, settings):
    # given as many wrong passwords as allowed
    for _attempt in range(settings.LOGIN_FAILURES_PER_ACCOUNT):
        assert _login(client, "ml_secretary", "wrong").status_code == 200
    # when the right one comes, from another client
    response = _login(client, "ml_secretary", PASSWORD, address="10.0.0.2")
    # then it is refused, in Chinese, and the username typed stays
    assert response.status_code == 200
    assert not _logged_in(client)
    assert "密码错误次数过多" in response.text
    assert 'value="ml_secretary"' in response.text


def test_fewer_wrong_passwords_than_the_limit_do_not_lock_and_a_login_clears_them(client, account, settings):
    for _attempt in range(settings.LOGIN_FAILURES_PER_ACCOUNT - 1):
        _login(client, "ml_secretary", "wrong")
    assert _login(client, "ml_secretary", PASSWORD).status_code == 302
    client.logout()
    for _attempt in range(settings.LOGIN_FAILURES_PER_ACCOUNT - 1):
        _login(client, "ml_secretary", "wrong")
    assert _login(client, "ml_secretary", PASSWORD).status_code == 302  # counted afresh after the login


def test_usernames_differing_only_in_case_share_one_count(client, account, settings):
    for attempt in range(settings.LOGIN_FAILURES_PER_ACCOUNT):
        _login(client, "ML_Secretary" if attempt % 2 else "ml_secretary", "wrong", address=f"10.0.1.{attempt}")
    assert "密码错误次数过多" in _login(client, "ml_secretary", PASSWORD, address="10.0.2.1").text


def test_one_client_trying_many_accounts_is_locked(client, account, settings):
    settings.LOGIN_FAILURES_PER_CLIENT = 5
    for number in range(5):
        _login(client, f"someone{number}", "wrong", address="10.9.9.9")
    assert not _logged_in(client)
    assert "密码错误次数过多" in _login(client, "ml_secretary", PASSWORD, address="10.9.9.9").text
    assert _login(client, "ml_secretary", PASSWORD, address="10.9.9.10").status_code == 302


def test_the_client_is_the_address_the_trusted_proxy_names(client, account, settings):
    settings.LOGIN_FAILURES_PER_CLIENT = 3
    settings.CLIENT_ADDRESS_HEADER = "HTTP_X_REAL_IP"
    for number in range(3):
        client.post(
            reverse("login"),
            {"username": f"u{number}", "password": "x"},
            REMOTE_ADDR="10.0.0.254",
            HTTP_X_REAL_IP="1.2.3.4",
        )
    # another client behind the same proxy is not locked
    response = client.post(
        reverse("login"),
        {"username": "ml_secretary", "password": PASSWORD},
        REMOTE_ADDR="10.0.0.254",
        HTTP_X_REAL_IP="5.6.7.8",
    )
    assert response.status_code == 302


def test_the_admin_login_is_throttled_too(client, db, settings):
    admin = UserFactory(username="root", is_superuser=True, is_staff=True)
    admin.set_password(PASSWORD)
    admin.save()
    for _attempt in range(settings.LOGIN_FAILURES_PER_ACCOUNT):
        client.post(reverse("admin:login"), {"username": "root", "password": "wrong"})
    response = client.post(reverse("admin:login"), {"username": "root", "password": PASSWORD})
    assert response.status_code == 200
    assert not _logged_in(client)
    assert "密码错误次数过多" in response.text


def _lock(client, settings):
    for _attempt in range(settings.LOGIN_FAILURES_PER_ACCOUNT):
        _login(client, "ml_secretary", "wrong")


def test_an_administrator_of_the_area_unlocks_the_account_and_the_history_says_who(
    client, account, world, user_with_role, settings
):
    account.organization = world.town_a1
    account.save()
    from tests.organizations.factories import RoleAssignmentFactory

    RoleAssignmentFactory(user=account, organization=world.town_a1, role=Role.SECRETARY)
    administrator = user_with_role(Role.ADMIN, world.county_a, full_name="县管理员")
    _lock(client, settings)
    client.force_login(administrator)
    url = reverse("accounts:detail", args=["ml_secretary"])
    assert "解除登录锁定" in client.get(url).text
    assert client.post(url, {"action": "unlock"}).status_code == 302
    row = account.history.first()
    assert (row.history_user, row.history_change_reason) == (administrator, "解除登录锁定")
    client.logout()
    assert _login(client, "ml_secretary", PASSWORD).status_code == 302


def test_an_administrator_of_another_area_cannot_unlock(client, account, world, user_with_role, settings):
    from tests.organizations.factories import RoleAssignmentFactory

    RoleAssignmentFactory(user=account, organization=world.town_a1, role=Role.SECRETARY)
    outsider = user_with_role(Role.ADMIN, world.county_b)
    _lock(client, settings)
    client.force_login(outsider)
    assert client.post(reverse("accounts:detail", args=["ml_secretary"]), {"action": "unlock"}).status_code == 404
    client.logout()
    assert "密码错误次数过多" in _login(client, "ml_secretary", PASSWORD).text
    assert not _logged_in(client)


def test_the_unlock_command_unlocks_and_leaves_a_history_row(client, account, settings):
    operator = UserFactory(username="ops", is_superuser=True)
    _lock(client, settings)
    call_command("unlock_login", "ml_secretary", "--user", "ops")
    row = account.history.first()
    assert (row.history_user, row.history_change_reason) == (operator, "解除登录锁定")
    assert _login(client, "ml_secretary", PASSWORD).status_code == 302


def test_the_admin_action_unlocks(client, account, settings):
    superuser = UserFactory(username="root", is_superuser=True, is_staff=True)
    _lock(client, settings)
    client.force_login(superuser)
    response = client.post(
        reverse("admin:organizations_user_changelist"),
        {"action": "unlock_login", "_selected_action": [account.pk]},
    )
    assert response.status_code == 302
    assert account.history.first().history_user == superuser
    client.logout()
    assert _login(client, "ml_secretary", PASSWORD).status_code == 302
