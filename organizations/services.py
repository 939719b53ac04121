"""Every write to the spine. Each service runs in one transaction and leaves history rows
(django-simple-history) naming the acting user; bulk writes record their history explicitly."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Value
from django.db.models.functions import Concat, Substr
from django.utils.translation import gettext as _

from . import login_throttle
from .models import Organization, Pairing, PairingReport, Person, Post, RoleAssignment, User


def _save(instance, *, actor, reason=""):
    """full_clean, then save with the acting user and a reason on the history row."""
    instance.full_clean()
    instance._history_user = actor
    instance._change_reason = reason
    instance.save()
    return instance


def _changed_fields(instance, fields):
    return {name: value for name, value in fields.items() if getattr(instance, name) != value}


@transaction.atomic
def organization_create(*, actor, code, name, kind, party_type, parent=None):
    organization = Organization(
        code=code,
        name=name,
        kind=kind,
        party_type=party_type,
        parent=parent,
        path=Organization.path_for(code, parent),
    )
    return _save(organization, actor=actor, reason=_("created"))


@transaction.atomic
def organization_update(*, actor, organization, **fields):
    """Change name, kind, type, code or parent. A new code or parent rewrites the paths of the
    whole subtree in one UPDATE and records a history row for every descendant it moved."""
    organization = Organization.objects.select_for_update().get(pk=organization.pk)
    changes = _changed_fields(organization, fields)
    if not changes:
        return organization
    parent = changes.get("parent", organization.parent)
    if parent is not None and parent.path.startswith(organization.path):
        raise ValidationError({"parent": _("An organization cannot be placed under itself or its own subtree.")})
    old_path = organization.path
    for name, value in changes.items():
        setattr(organization, name, value)
    organization.path = Organization.path_for(organization.code, parent)
    _save(organization, actor=actor, reason=_("changed"))
    if organization.path != old_path:
        _descendants_repath(actor=actor, old_path=old_path, new_path=organization.path)
    return organization


def _descendants_repath(*, actor, old_path, new_path):
    descendants = Organization.objects.filter(path__startswith=old_path).exclude(path=new_path)
    descendants.update(path=Concat(Value(new_path), Substr(F("path"), len(old_path) + 1)))
    moved = Organization.objects.filter(path__startswith=new_path).exclude(path=new_path)
    Organization.history.bulk_history_create(
        list(moved), update=True, default_user=actor, default_change_reason=_("moved with its parent")
    )


@transaction.atomic
def person_create(*, actor, name, organization, political_status, gender="", phone=None, user=None):
    person = Person(
        name=name,
        organization=organization,
        political_status=political_status,
        gender=gender,
        phone=phone or None,
        user=user,
    )
    return _save(person, actor=actor, reason=_("created"))


@transaction.atomic
def person_update(*, actor, person, **fields):
    if "phone" in fields:
        fields["phone"] = fields["phone"] or None
    changes = _changed_fields(person, fields)
    if not changes:
        return person
    for name, value in changes.items():
        setattr(person, name, value)
    return _save(person, actor=actor, reason=_("changed"))


@transaction.atomic
def post_create(*, actor, person, organization, title, start_date, end_date=None):
    post = Post(person=person, organization=organization, title=title, start_date=start_date, end_date=end_date)
    return _save(post, actor=actor, reason=_("appointed"))


@transaction.atomic
def post_end(*, actor, post, end_date):
    post.end_date = end_date
    return _save(post, actor=actor, reason=_("left office"))


@transaction.atomic
def role_assign(*, actor, user, organization, role):
    assignment = RoleAssignment(user=user, organization=organization, role=role)
    return _save(assignment, actor=actor, reason=_("role assigned"))


@transaction.atomic
def role_revoke(*, actor, assignment):
    assignment._history_user = actor
    assignment._change_reason = _("role revoked")
    assignment.delete()


@transaction.atomic
def user_create(*, actor, username, full_name, password, organization=None):
    user = User(username=username, full_name=full_name, organization=organization)
    user.set_password(password)
    return _save(user, actor=actor, reason=_("account created"))


@transaction.atomic
def account_create(*, actor, username, full_name, password, organization, role=None):
    """An account at its home organization, with its first role there if one is given."""
    user = user_create(
        actor=actor, username=username, full_name=full_name, password=password, organization=organization
    )
    if role:
        role_assign(actor=actor, user=user, organization=organization, role=role)
    return user


@transaction.atomic
def user_update(*, actor, user, **fields):
    changes = _changed_fields(user, fields)
    if not changes:
        return user
    for name, value in changes.items():
        setattr(user, name, value)
    reason = _("account changed")
    if changes.keys() == {"is_active"}:
        reason = _("account enabled") if user.is_active else _("account disabled")
    return _save(user, actor=actor, reason=reason)


@transaction.atomic
def user_set_password(*, actor, user, password):
    user.set_password(password)
    # The password itself is never copied into history; the row records that it changed.
    return _save(user, actor=actor, reason=_("password reset"))


@transaction.atomic
def account_unlock(*, actor, user):
    """An administrator lifts the login lock after wrong passwords; the history row says who."""
    login_throttle.account_clear(user.get_username())
    return _save(user, actor=actor, reason=_("login unlocked"))


@transaction.atomic
def pairing_create(*, actor, year, village, responsible, unit=None, leader=None):
    pairing = Pairing(year=year, village=village, unit=unit, leader=leader, responsible=responsible)
    return _save(pairing, actor=actor, reason=_("paired"))


@transaction.atomic
def pairing_report_submit(*, actor, pairing, month, content):
    report = PairingReport(pairing=pairing, month=month.replace(day=1), content=content, reported_by=actor)
    return _save(report, actor=actor, reason=_("progress reported"))
