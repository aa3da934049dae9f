from django.core.management.base import BaseCommand, CommandError

from profiles.profile_format import ProfileFileError
from profiles.services import builtin_profiles_load


class Command(BaseCommand):
    help = "Create or update the built-in business-context profiles (after load_builtin_lens)."

    def handle(self, *args, **options):
        try:
            profiles = builtin_profiles_load()
        except ProfileFileError as exc:
            raise CommandError("\n".join(exc.errors)) from None
        for profile in profiles:
            self.stdout.write(f"{profile.name} (version {profile.version})")
