from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from api.keys import api_key_create
from reviews.errors import DomainError


class Command(BaseCommand):
    help = "Create an API key for USERNAME and print it as environment variable assignments."

    def add_arguments(self, parser):
        parser.add_argument("username")

    def handle(self, *args, username: str, **options):
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No user named {username!r}.")
        if not user.is_active:
            raise CommandError(f"{username} is deactivated: reactivate the account first.")
        try:
            issued = api_key_create(user=user)
        except DomainError as exc:
            raise CommandError(exc.message) from None
        self.stdout.write(f"AWS_ACCESS_KEY_ID={issued.key.access_key_id}")
        self.stdout.write(f"AWS_SECRET_ACCESS_KEY={issued.secret}")
