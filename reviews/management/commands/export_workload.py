from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from reviews.activity import Action, activity_record
from reviews.models import Workload, name_key
from reviews.portability import dumps, workload_export


class Command(BaseCommand):
    help = (
        "Write a workload with everything it owns (members, lens reviews, answers, history, "
        "improvement items, milestones and the lenses it uses) as JSON, for import_workload."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "public_id", help="the workload's public id: the 32 hex digits in its address"
        )
        parser.add_argument(
            "--output", "-o", type=Path, help="write to this file instead of standard output"
        )

    def handle(self, *args, public_id: str, output: Path | None, **options):
        workload = Workload.objects.filter(public_id=public_id).first()
        if workload is None:
            named = Workload.objects.filter(name_key=name_key(public_id)).first()
            hint = (
                f" “{named.name}” is the name of a workload; its public id is {named.public_id}."
                if named
                else ""
            )
            raise CommandError(f"There is no workload with the public id '{public_id}'.{hint}")
        text = dumps(workload_export(workload=workload))
        if output is None:
            self.stdout.write(text, ending="")
        else:
            try:
                output.write_text(text, encoding="utf-8")
            except OSError as exc:
                raise CommandError(f"{output}: cannot write the file ({exc.strerror})") from exc
        activity_record(
            workload=workload,
            user=None,
            action=Action.EXPORTED,
            what="the whole workload as a file (export_workload on the server)",
        )
        if output is not None:
            self.stdout.write(f"“{workload.name}” written to {output}")
