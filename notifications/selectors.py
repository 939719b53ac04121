from .models import Notification


def unread_count(user):
    return Notification.objects.filter(user=user, read_at__isnull=True).count()


def inbox(user):
    """Every notification of the user, newest first (the inbox paginates it)."""
    return Notification.objects.filter(user=user)
