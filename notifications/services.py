from django.db import transaction
from django.utils import timezone

from .models import Notification


def notify(*, users, title, body="", url="", key=""):
    """Put a notification in each user's inbox; with a key, a user gets it only once."""
    Notification.objects.bulk_create(
        [Notification(user=user, title=title, body=body, url=url, key=key) for user in users],
        ignore_conflicts=bool(key),
    )


def notify_many(notifications):
    """Bulk form: Notification objects (unsaved); those whose (user, key) exists are skipped."""
    return Notification.objects.bulk_create(notifications, ignore_conflicts=True, batch_size=1000)


@transaction.atomic
def notifications_mark_read(*, user, ids=None):
    unread = Notification.objects.filter(user=user, read_at__isnull=True)
    if ids is not None:
        unread = unread.filter(pk__in=ids)
    return unread.update(read_at=timezone.now())
