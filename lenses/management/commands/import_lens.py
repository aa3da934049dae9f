from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from lenses.lens_format import LensFileError
from lenses.services import LensError, lens_import, lens_version_publish, suggest_version_name


class Command(BaseCommand):
    help = "Import a custom-lens JSON file as a draft (or, with --publish, a published version)."

    def add_arguments(self, parser):
        parser.add_argument("path", type=Path)
        parser.add_argument("--publish", action="store_true", help="publish it as the next version")
        parser.add_argument("--alias", help="the lens alias (default: made from the lens name)")

    def handle(self, *args, path: Path, publish: bool, alias: str | None, **options):
        try:
            raw = path.read_bytes()
        except OSError as exc:
            raise CommandError(f"{path}: cannot read the file ({exc.strerror})") from exc
        try:
            with transaction.atomic():
                version = lens_import(raw=raw, alias=alias)
                if publish:
                    version = lens_version_publish(
                        lens_version=version, version=suggest_version_name(version.lens)
                    )
        except LensFileError as exc:
            for warning in exc.warnings:
                self.stderr.write(f"warning: {warning}")
            for error in exc.errors:
                self.stderr.write(f"error: {error}")
            raise CommandError(
                f"{path}: not imported, {len(exc.errors)} problem(s) found; nothing was changed"
            ) from exc
        except LensError as exc:
            raise CommandError(f"{path}: not imported: {exc}") from exc
        for warning in version.warnings:
            self.stderr.write(f"warning: {warning}")
        self.stdout.write(f"{version.lens.alias} {version.label}")
