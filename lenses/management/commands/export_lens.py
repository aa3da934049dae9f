from django.core.management.base import BaseCommand, CommandError

from lenses.lens_format import dumps
from lenses.models import LensVersion
from lenses.services import lens_version_document


class Command(BaseCommand):
    help = "Write a lens version as custom-lens JSON to standard output."

    def create_parser(self, prog_name, subcommand, **kwargs):
        # `--version` names the lens version here, as in the documented interface, so it
        # replaces Django's own --version (which prints Django's version).
        return super().create_parser(prog_name, subcommand, conflict_handler="resolve", **kwargs)

    def add_arguments(self, parser):
        parser.add_argument("alias")
        parser.add_argument(
            "--version", dest="lens_version", help="version name, or 'draft' (default: newest)"
        )

    def handle(self, *args, alias: str, lens_version: str | None, **options):
        versions = LensVersion.objects.filter(lens__alias=alias)
        if lens_version == "draft":
            versions = versions.filter(status=LensVersion.Status.DRAFT)
        elif lens_version:
            versions = versions.filter(version=lens_version)
        else:
            versions = versions.exclude(status=LensVersion.Status.DRAFT).order_by("-published_at")
        found = versions.first()
        if found is None:
            which = f"version {lens_version} of " if lens_version else "published version of "
            raise CommandError(f"There is no {which}lens '{alias}'.")
        self.stdout.write(dumps(lens_version_document(found)), ending="")
