from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from lenses.models import Lens, LensVersion
from reviews.milestones import MilestoneError
from reviews.models import LensReview
from reviews.upgrades import (
    UpgradeError,
    default_milestone_name,
    lens_review_upgrade,
    lens_review_upgrade_plan,
    newer_versions,
)


class Command(BaseCommand):
    help = (
        "Upgrade a workload's review of a lens to a newer published version, saving a milestone "
        "first; or, with --every, every review of the lens that is on an older version."
    )

    def add_arguments(self, parser):
        parser.add_argument("public_id", nargs="?", help="the workload's 32-hex-digit public id")
        parser.add_argument("alias", help="the lens's alias, e.g. wellarchitected")
        parser.add_argument("--to", help="the version to upgrade to (default: the newest)")
        parser.add_argument("--milestone", help="the milestone's name (default: Before upgrade…)")
        parser.add_argument(
            "--every", action="store_true", help="upgrade every workload's review of the lens"
        )
        parser.add_argument("--user", help="the username written into the history")
        parser.add_argument(
            "--dry-run", action="store_true", help="say what would happen, change nothing"
        )

    def handle(self, *args, public_id, alias, to, milestone, every, user, dry_run, **options):
        lens = Lens.objects.filter(alias=alias).first()
        if lens is None:
            raise CommandError(f"There is no lens with the alias '{alias}'.")
        if every == bool(public_id):
            raise CommandError("Give either a workload's public id or --every, not both.")
        target = self._target(lens, to)
        actor = self._user(user)
        reviews = LensReview.objects.filter(lens=lens, is_active=True).select_related(
            "workload", "lens", "lens_version"
        )
        if public_id:
            reviews = reviews.filter(workload__public_id=public_id)
            if not reviews:
                raise CommandError(f"No workload '{public_id}' reviews the lens '{alias}'.")
        failed = 0
        for review in reviews.order_by("workload__name"):
            versions = newer_versions(review)
            goal = target or (versions[0] if versions else None)
            name = f"“{review.workload.name}” ({review.workload.public_id})"
            before = review.lens_version.label
            if goal is None or goal not in versions:
                self.stdout.write(f"{name}: on {before}, nothing to upgrade to.")
                continue
            try:
                if dry_run:
                    plan = lens_review_upgrade_plan(lens_review=review, target=goal)
                    verb = "would move"
                else:
                    plan = lens_review_upgrade(
                        lens_review=review,
                        target=goal,
                        milestone_name=milestone or default_milestone_name(review, goal),
                        user=actor,
                    ).plan
                    verb = "moved"
            except (UpgradeError, MilestoneError) as exc:
                failed += 1
                self.stderr.write(f"{name}: {exc}")
                continue
            self.stdout.write(
                f"{name}: {verb} from {before} to {goal.label}; "
                f"{len(plan.losing_choices)} question(s) lose ticked choices, "
                f"{len(plan.risk_changes)} risk(s) change, {len(plan.added)} new, "
                f"{len(plan.removed)} removed."
            )
        if failed:
            raise CommandError(f"{failed} review(s) could not be upgraded (see above).")

    def _target(self, lens: Lens, to: str | None) -> LensVersion | None:
        if to is None:
            return None
        version = lens.versions.filter(version=to).first()
        if version is None:
            labels = ", ".join(lens.versions.exclude(version="").values_list("version", flat=True))
            raise CommandError(f"The lens '{lens.alias}' has no version '{to}' ({labels}).")
        return version

    def _user(self, username: str | None):
        if username is None:
            return None
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"There is no user '{username}'.")
        return user
