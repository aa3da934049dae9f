from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from lenses.models import Lens, LensVersion
from reviews.models import LensReview
from reviews.upgrades import UpgradeSummary, lens_reviews_upgrade_every, newer_versions


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
        actor = self._user(user)
        if every:
            target = self._target(lens, to) or self._newest(lens)
            summaries = lens_reviews_upgrade_every(
                target=target, user=actor, milestone_name=milestone, dry_run=dry_run
            )
            if not summaries:
                self.stdout.write(f"No workload reviews {lens.name} on an older version.")
        else:
            review = (
                LensReview.objects.filter(lens=lens, is_active=True, workload__public_id=public_id)
                .select_related("workload", "lens", "lens_version")
                .first()
            )
            if review is None:
                raise CommandError(f"No workload '{public_id}' reviews the lens '{alias}'.")
            versions = newer_versions(review)
            target = self._target(lens, to) or (versions[0] if versions else None)
            if target is None:
                self.stdout.write(f"On {review.lens_version.label}, the newest version already.")
                return
            summaries = lens_reviews_upgrade_every(
                target=target,
                user=actor,
                milestone_name=milestone,
                dry_run=dry_run,
                workload=review.workload,
            )
            if not summaries:
                self.stdout.write(f"On {target.label} already: nothing to upgrade.")
                return
        failed = 0
        for summary in summaries:
            failed += self._report(summary, target, dry_run)
        if failed:
            raise CommandError(f"{failed} review(s) could not be upgraded (see above).")

    def _report(self, summary: UpgradeSummary, target: LensVersion, dry_run: bool) -> int:
        workload = summary.lens_review.workload
        name = f"“{workload.name}” ({workload.public_id})"
        if summary.problem:
            self.stderr.write(f"{name}: not upgraded: {summary.problem}")
            return 1
        plan = summary.plan
        verb = "would move" if dry_run else "moved"
        self.stdout.write(
            f"{name}: {verb} from {summary.before} to {target.label}; "
            f"{len(plan.losing_choices)} question(s) lose ticked choices, "
            f"{len(plan.risk_changes)} risk(s) change, {len(plan.added)} new, "
            f"{len(plan.removed)} removed."
        )
        return 0

    def _newest(self, lens: Lens) -> LensVersion:
        newest = lens.versions.published().order_by("-published_at", "-pk").first()
        if newest is None:
            raise CommandError(f"The lens '{lens.alias}' has no published version.")
        return newest

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
