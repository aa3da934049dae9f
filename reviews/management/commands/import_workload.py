from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from reviews.portability import PortabilityError, workload_import

SHOWN_ERRORS = 100


class Command(BaseCommand):
    help = (
        "Restore a workload written by export_workload. Lenses are matched by alias and version "
        "(and imported from the file when missing), people by username. A file with any "
        "problem changes nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", type=Path)
        parser.add_argument(
            "--owner",
            metavar="USERNAME",
            help="who owns the imported workload (needed when the file's owner has no account "
            "here; the file's owner, if present, stays on as contributor)",
        )
        parser.add_argument(
            "--new-id",
            action="store_true",
            help="give the workload a new public id instead of the one in the file",
        )
        parser.add_argument("--name", help="import the workload under this name")

    def handle(self, *args, path: Path, owner, new_id: bool, name, **options):
        try:
            raw = path.read_bytes()
        except OSError as exc:
            raise CommandError(f"{path}: cannot read the file ({exc.strerror})") from exc
        try:
            result = workload_import(raw=raw, owner=owner, new_id=new_id, name=name)
        except PortabilityError as exc:
            for warning in exc.warnings:
                self.stderr.write(f"warning: {warning}")
            for error in exc.errors[:SHOWN_ERRORS]:
                self.stderr.write(f"error: {error}")
            if len(exc.errors) > SHOWN_ERRORS:
                self.stderr.write(f"… and {len(exc.errors) - SHOWN_ERRORS} more")
            raise CommandError(
                f"{path}: not imported, {len(exc.errors)} problem(s) found; nothing was changed"
            ) from exc
        for warning in result.warnings:
            self.stderr.write(f"warning: {warning}")
        for label in result.lenses_imported:
            self.stdout.write(f"lens {label} imported from the file")
        workload = result.workload
        self.stdout.write(f"“{workload.name}” imported as {workload.public_id}")
