from .models import Notification


def unread_count(user):
    return Notification.objects.filter(user=user, read_at__isnull=True).count()


def inbox(user, *, limit=100):
    return Notification.objects.filter(user=user)[:limit]
