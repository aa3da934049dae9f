from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from lenses.lens_format import LensFileError, group_problems
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
            self._warn(exc.warnings)
            for error in exc.errors:
                self.stderr.write(f"error: {error}")
            if exc.more_errors:
                self.stderr.write(f"error: … and {exc.more_errors} more, not listed")
            raise CommandError(
                f"{path}: not imported, {exc.error_count} problem(s) found; nothing was changed"
            ) from exc
        except LensError as exc:
            raise CommandError(f"{path}: not imported: {exc}") from exc
        self._warn(version.warnings)
        self.stdout.write(f"{version.lens.alias} {version.label}")

    def _warn(self, warnings: list[str]) -> None:
        """One line per kind of warning: a real file repeats the same one a hundred times."""
        for group in group_problems(warnings):
            if group.count == 1:
                self.stderr.write(f"warning: {group.places[0]}: {group.message}")
                continue
            more = f" and {group.more} more" if group.more else ""
            places = ", ".join(group.places)
            self.stderr.write(f"warning: {group.message} ({group.count} times: {places}{more})")
