from django.core.management.base import BaseCommand, CommandError

from organizations import login_throttle, services
from organizations.models import User


class Command(BaseCommand):
    help = "Lift the login lock that wrong passwords put on an account (and, with --address, on a client)."

    def add_arguments(self, parser):
        parser.add_argument("username", help="the locked account")
        parser.add_argument("--user", required=True, help="who unlocks (recorded in the account's history)")
        parser.add_argument("--address", default="", help="also forget the wrong passwords from this client address")

    def handle(self, username, user, address, **options):
        account = User.objects.filter(username=username).first()
        actor = User.objects.filter(username=user).first()
        if account is None:
            raise CommandError(f"no user {username!r}")
        if actor is None:
            raise CommandError(f"no user {user!r}")
        services.account_unlock(actor=actor, user=account)
        if address:
            login_throttle.client_clear(address)
        self.stdout.write(f"{username} can log in again")
