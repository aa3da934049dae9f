from django.core.management.base import BaseCommand, CommandError

from profiles.profile_format import ProfileFileError
from profiles.services import ProfileError, builtin_profiles_load


class Command(BaseCommand):
    help = (
        "Create the built-in business-context profiles that are missing (after load_builtin_lens)."
    )

    def handle(self, *args, **options):
        try:
            loaded = builtin_profiles_load()
        except ProfileFileError as exc:
            raise CommandError("\n".join(exc.errors)) from None
        except ProfileError as exc:
            raise CommandError(exc.message) from None
        for profile, created in loaded:
            self.stdout.write(f"{profile.name}: {'created' if created else 'kept as it is'}")
