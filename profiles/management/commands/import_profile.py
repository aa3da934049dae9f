from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from profiles.profile_format import ProfileFileError
from profiles.services import ProfileError, profile_import


class Command(BaseCommand):
    help = "Import a profile JSON file; creates nothing when the file is wrong."

    def add_arguments(self, parser):
        parser.add_argument("path")

    def handle(self, *args, path, **options):
        try:
            profile = profile_import(raw=Path(path).read_bytes(), user=None)
        except OSError as exc:
            raise CommandError(str(exc)) from None
        except ProfileFileError as exc:
            raise CommandError("\n".join(exc.errors)) from None
        except ProfileError as exc:
            raise CommandError(exc.message) from None
        self.stdout.write(profile.name)
