from django.core.management.base import BaseCommand

from lenses.services import builtin_lens_load


class Command(BaseCommand):
    help = "Load and publish the built-in Well-Architected lens (does nothing when up to date)."

    def handle(self, *args, **options):
        version, created = builtin_lens_load()
        state = "published" if created else "up to date"
        self.stdout.write(f"{version.lens.alias} {version.label} {state}")
