from django.core.management.base import BaseCommand, CommandError

from lenses.models import Pillar
from reviews.counts import BATCH, counts_repair, differences_consistent
from reviews.models import LensReview


class Command(BaseCommand):
    help = (
        "Count every lens review's answers again and compare with the kept counts that the "
        "dashboard and the workload list read; exits with status 1 on a difference. "
        "--repair replaces the kept counts that differ."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--repair", action="store_true", help="replace the kept counts that differ"
        )

    def handle(self, *args, repair: bool, **options):
        review_ids = list(LensReview.objects.order_by("pk").values_list("pk", flat=True))
        found = []
        for start in range(0, len(review_ids), BATCH):
            found += differences_consistent(review_ids[start : start + BATCH])
        if not found:
            self.stdout.write(
                f"check_counts: the kept counts of {len(review_ids):,} lens reviews match."
            )
            return
        reviews = {
            review.pk: review
            for review in LensReview.objects.filter(
                pk__in={d.review_id for d in found}
            ).select_related("workload", "lens")
        }
        pillars = dict(
            Pillar.objects.filter(pk__in={d.pillar_id for d in found}).values_list(
                "pk", "pillar_id"
            )
        )
        for d in found:
            review = reviews[d.review_id]
            self.stdout.write(
                f"workload {review.workload.public_id} ({review.workload.name}), "
                f"lens {review.lens.alias}, pillar {pillars.get(d.pillar_id, d.pillar_id)}, "
                f"{d.field}: kept {_shown(d.kept, 'no row')}, "
                f"recount {_shown(d.counted, 'no answers')}"
            )
        broken = sorted({d.review_id for d in found})
        if repair:
            for review_id in broken:
                counts_repair(review_id)
            self.stdout.write(
                f"check_counts: repaired {len(found):,} differences in {len(broken):,} "
                "lens reviews."
            )
            return
        raise CommandError(
            f"{len(found):,} differences in {len(broken):,} lens reviews; "
            "run check_counts --repair to fix them."
        )


def _shown(value: int | None, missing: str) -> str:
    return missing if value is None else str(value)
