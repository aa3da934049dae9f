"""Restoring a workload file: its lenses first, then the workload and all it owns."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction
from django.db.models import Q

from lenses.models import LensVersion, Pillar, Question
from lenses.services import (
    ALIAS,
    VERSION_NAME,
)
from people.models import Team
from reviews.counts import counts_rebuild
from reviews.forms import MAX_REGIONS, MAX_TAGS, REGION_MAX, TAG_KEY_MAX, TAG_VALUE_MAX
from reviews.models import (
    CHOICE_NOTES_MAX,
    MAX_MILESTONES,
    NOTES_MAX,
    SHARE_ROLES,
    Answer,
    AnswerEvent,
    AnswerRisk,
    ChoiceAnswer,
    ImprovementEvent,
    ImprovementItem,
    ImprovementStatus,
    LensReview,
    Milestone,
    PillarNote,
    Reason,
    Role,
    Workload,
    WorkloadMember,
    WorkloadTeamShare,
    name_key,
)
from reviews.portability.checks import (
    ANSWER_EVENT_KEYS,
    ANSWER_KEYS,
    ANSWER_OPTIONAL_KEYS,
    CHOICE_KEYS,
    EVENT_TEXT_MAX,
    ITEM_EVENT_KEYS,
    ITEM_KEYS,
    LENS_KEYS,
    MEMBER_KEYS,
    MILESTONE_DATA,
    MILESTONE_KEYS,
    PILLAR_NOTE_KEYS,
    PUBLIC_ID,
    REVIEW_KEYS,
    TEAM_SHARE_KEYS,
    TOP_KEYS,
    TOP_OPTIONAL_KEYS,
    WEB_URL,
    WORKLOAD_KEYS,
    WORKLOAD_TEXT,
    PortabilityError,
    Reader,
    join,
    kind,
    read_workload_file,
    show,
)
from reviews.portability.lenses import lens_version_restore
from reviews.score_selectors import snapshots_score


@dataclass
class ImportResult:
    workload: Workload
    lenses_imported: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def workload_import(
    *, raw: bytes, owner: str | None = None, new_id: bool = False, name: str | None = None
) -> ImportResult:
    """Restore a workload from an exported file, in one transaction (raises PortabilityError).

    `owner` (a username) owns the imported workload instead of the file's owner, who stays on
    as a contributor when they have an account here. `new_id` gives the workload a new public
    id; `name` renames it.
    """
    data = read_workload_file(raw)
    with transaction.atomic():
        return _Importer(data, owner=owner, new_id=new_id, name=name).run()


class _Importer:
    def __init__(self, data: dict, *, owner: str | None, new_id: bool, name: str | None):
        self.data = data
        self.owner = owner
        self.new_id = new_id
        self.name = name
        self.r = Reader()
        self.result_lenses: list[str] = []
        self.rows: dict[type[models.Model], list[models.Model]] = defaultdict(list)

    def run(self) -> ImportResult:
        r = self.r
        top = r.obj("", self.data, TOP_KEYS, TOP_OPTIONAL_KEYS)
        if top is None:
            raise PortabilityError(r.errors, r.warnings)
        versions = self._lenses(top["lenses"])
        workload = self._workload(top["workload"])
        members = self._members(top["members"])
        self._reviews(top["lens_reviews"], workload, versions)
        self._milestones(top["milestones"], workload)
        users = self._users(members)
        team_shares = self._team_shares(top.get("team_shares"))
        if r.errors:
            raise PortabilityError(r.errors, r.warnings)
        try:
            self._create(workload, members, users, team_shares)
        except IntegrityError as exc:  # a workload saved at the same moment took the name or id
            raise PortabilityError([f"workload: not saved ({exc})"], r.warnings) from exc
        return ImportResult(
            workload=workload, lenses_imported=self.result_lenses, warnings=r.warnings
        )

    # -- lenses ------------------------------------------------------------------------------

    def _lenses(self, value: Any) -> dict[tuple[str, str], LensVersion]:
        """Every lens version of the file, found here or imported from its document."""
        r = self.r
        found: dict[tuple[str, str], LensVersion] = {}
        self.declared: set[tuple[str, str]] = set()
        for path, item in r.items("lenses", value):
            obj = r.obj(path, item, LENS_KEYS)
            if obj is None:
                continue
            before = len(r.errors)
            alias = r.text(join(path, "alias"), obj["alias"], maximum=128, minimum=1)
            if alias and not ALIAS.fullmatch(alias):
                r.error(join(path, "alias"), f"{show(alias)} is not a lens alias")
            version = r.text(join(path, "version"), obj["version"], maximum=32, minimum=1)
            if version and not VERSION_NAME.fullmatch(version):
                r.error(join(path, "version"), f"{show(version)} is not a version name")
            status = r.choice(
                join(path, "status"),
                obj["status"],
                [LensVersion.Status.PUBLISHED, LensVersion.Status.DEPRECATED],
            )
            published_at = r.when(join(path, "published_at"), obj["published_at"], null=True)
            if not isinstance(obj["document"], dict):
                r.error(
                    join(path, "document"), f"expected an object, found {kind(obj['document'])}"
                )
            if len(r.errors) > before:
                continue
            key = (alias, version)
            if key in self.declared:
                r.error(path, f"lens '{alias}' version '{version}' is listed twice")
                continue
            self.declared.add(key)
            try:
                found[key], imported = lens_version_restore(
                    path=path,
                    alias=alias,
                    version=version,
                    status=status,
                    published_at=published_at,
                    document=obj["document"],
                )
            except PortabilityError as exc:
                r.errors.extend(exc.errors)
                continue
            if imported:
                self.result_lenses.append(f"{alias} {version}")
        return found

    # -- workload and members ----------------------------------------------------------------

    def _workload(self, value: Any) -> Workload:
        r = self.r
        workload = Workload()
        obj = r.obj("workload", value, WORKLOAD_KEYS)
        if obj is None:
            return workload
        for key, (minimum, maximum) in WORKLOAD_TEXT.items():
            setattr(
                workload,
                key,
                r.text(f"workload.{key}", obj[key], maximum=maximum, minimum=minimum),
            )
        if self.name is not None:
            workload.name = r.text("--name", self.name, maximum=100, minimum=3)
        if len(workload.name) >= 3 and len(name_key(workload.name)) < 3:
            r.error("workload.name", "a name has at least 3 characters besides spaces")
        workload.environment = r.choice(
            "workload.environment", obj["environment"], Workload.Environment.values
        )
        workload.industry_type = r.choice(
            "workload.industry_type", obj["industry_type"], ["", *Workload.IndustryType.values]
        )
        if workload.architectural_design_url:
            try:
                WEB_URL(workload.architectural_design_url)
            except ValidationError:
                r.error("workload.architectural_design_url", "not a web address (http or https)")
        workload.regions = self._strings(
            "workload.regions", obj["regions"], MAX_REGIONS, REGION_MAX
        )
        workload.pillar_priorities = self._strings(
            "workload.pillar_priorities", obj["pillar_priorities"], 100, 128
        )
        workload.tags = self._tags("workload.tags", obj["tags"])
        self.workload_times = (
            r.when("workload.created_at", obj["created_at"]),
            r.when("workload.updated_at", obj["updated_at"]),
        )
        public_id = r.text("workload.public_id", obj["public_id"], maximum=32)
        if not PUBLIC_ID.fullmatch(public_id):
            r.error("workload.public_id", f"{show(public_id)} is not 32 lowercase hex digits")
        elif not self.new_id:
            taken = Workload.objects.filter(public_id=public_id).first()
            if taken is not None:
                r.error(
                    "workload.public_id",
                    f"a workload with public id {public_id} exists here already (“{taken.name}”); "
                    "delete it first, or import with --new-id",
                )
            workload.public_id = public_id
        taken = Workload.objects.filter(name_key=name_key(workload.name)).first()
        if taken is not None and workload.name:
            r.error(
                "--name" if self.name is not None else "workload.name",
                f"a workload named “{taken.name}” exists here already (case and spaces do not "
                "count); import with --name NEW_NAME",
            )
        return workload

    def _strings(self, path: str, value: Any, count: int, length: int) -> list[str]:
        items = self.r.items(path, value)
        if len(items) > count:
            self.r.error(path, f"{len(items)} entries; at most {count} allowed")
        return [self.r.text(place, item, maximum=length, minimum=1) for place, item in items]

    def _tags(self, path: str, value: Any) -> dict[str, str]:
        if not isinstance(value, dict):
            self.r.error(path, f"expected an object, found {kind(value)}")
            return {}
        if len(value) > MAX_TAGS:
            self.r.error(path, f"{len(value)} tags; at most {MAX_TAGS} allowed")
        for key, tag in value.items():
            if not 1 <= len(key) <= TAG_KEY_MAX:
                self.r.error(path, f"tag key {show(key)}: 1 to {TAG_KEY_MAX} characters")
            self.r.text(join(path, key), tag, maximum=TAG_VALUE_MAX)
        return value

    def _members(self, value: Any) -> list[tuple[str, str, str, str]]:
        """(place, username, email, role) of every member; exactly one is the owner."""
        r = self.r
        members = []
        seen = set()
        for path, item in r.items("members", value):
            obj = r.obj(path, item, MEMBER_KEYS)
            if obj is None:
                continue
            username = r.text(join(path, "username"), obj["username"], maximum=150, minimum=1)
            email = r.text(join(path, "email"), obj["email"], maximum=254)
            role = r.choice(join(path, "role"), obj["role"], Role.values)
            if username in seen:
                r.error(join(path, "username"), f"'{username}' is listed twice")
            seen.add(username)
            members.append((path, username, email, role))
        owners = [m for m in members if m[3] == Role.OWNER]
        if isinstance(value, list) and len(owners) != 1:
            r.error("members", f"exactly one member has the role OWNER ({len(owners)} found)")
        return members

    def _users(self, members: list[tuple[str, str, str, str]]) -> dict[str, Any]:
        """Every person of the file by the username it gives them, looked up here by username
        (one query), then the members still missing by their email address (one more)."""
        r = self.r
        names = {ref[2] for ref in r.user_refs} | {m[1] for m in members}
        if self.owner:
            names.add(self.owner)
        user_model = get_user_model()
        users = {
            user.get_username(): user
            for user in user_model.objects.filter(**{f"{user_model.USERNAME_FIELD}__in": names})
        }
        if self.owner and self.owner not in users:
            r.error("--owner", f"there is no user '{self.owner}' here")
        self._match_by_email(members, users)
        owner = next((m for m in members if m[3] == Role.OWNER), None)
        if owner is not None and not self.owner and owner[1] not in users:
            r.error(
                owner[0],
                f"the owner '{owner[1]}' ({owner[2]}) has no account here; create it first "
                "or import with --owner USERNAME",
            )
        for path, username, email, _role in members:
            user = users.get(username)
            if user is None:
                r.warnings.append(
                    f"{path}: no user '{username}' ({email}) here; the workload is not shared "
                    "with them"
                )
            elif email and user.email.casefold() != email.casefold():
                r.warnings.append(
                    f"{path}: user '{username}' has the email {user.email} here, "
                    f"{email} in the file; matched by username"
                )
        unknown: dict[str, int] = defaultdict(int)
        for obj, attribute, username, _path in r.user_refs:
            user = users.get(username)
            setattr(obj, attribute, user)
            if user is None:
                unknown[username] += 1
        for username, count in sorted(unknown.items()):
            r.warnings.append(
                f"user '{username}' has no account here: {count} mention(s) in answers, "
                "history, improvement items or milestones are left empty"
            )
        return users

    def _match_by_email(self, members: list[tuple[str, str, str, str]], users: dict) -> None:
        """Members whose username is not known here, matched by their email address when it
        names exactly one user who is not in the file already (the same person, renamed)."""
        unmatched = [m for m in members if m[1] not in users and m[2]]
        if not unmatched:
            return
        wanted = Q()
        for _path, _username, email, _role in unmatched:
            wanted |= Q(email__iexact=email)
        by_email = defaultdict(list)
        for user in get_user_model().objects.filter(wanted):
            by_email[user.email.casefold()].append(user)
        taken = {user.pk for user in users.values()}
        for path, username, email, _role in unmatched:
            found = by_email.get(email.casefold(), [])
            if len(found) == 1 and found[0].pk not in taken:
                users[username] = found[0]
                taken.add(found[0].pk)
                self.r.warnings.append(
                    f"{path}: no user '{username}' here; matched by the email {email} to "
                    f"'{found[0].get_username()}'"
                )

    def _team_shares(self, value: Any) -> list[tuple[Team, str]]:
        """The teams of the file found here by name (one query); the others are named."""
        r = self.r
        if value is None:  # files written before teams existed
            return []
        wanted = []
        seen = set()
        for path, item in r.items("team_shares", value):
            obj = r.obj(path, item, TEAM_SHARE_KEYS)
            if obj is None:
                continue
            name = r.text(join(path, "team"), obj["team"], maximum=100, minimum=1)
            role = r.choice(join(path, "role"), obj["role"], [str(role) for role in SHARE_ROLES])
            if name_key(name) in seen:
                r.error(join(path, "team"), f"the team '{name}' is listed twice")
            seen.add(name_key(name))
            wanted.append((path, name, role))
        teams = {team.name_key: team for team in Team.objects.filter(name_key__in=seen)}
        shares = []
        for path, name, role in wanted:
            team = teams.get(name_key(name))
            if team is None:
                r.warnings.append(
                    f"{path}: no team '{name}' here; the workload is not shared with it"
                )
            else:
                shares.append((team, role))
        return shares

    # -- lens reviews ------------------------------------------------------------------------

    def _reviews(
        self, value: Any, workload: Workload, versions: dict[tuple[str, str], LensVersion]
    ) -> None:
        r = self.r
        ids = {lens_version.pk for lens_version in versions.values()}
        pillars = {
            (p.lens_version_id, p.pillar_id): p for p in Pillar.objects.filter(lens_version__in=ids)
        }
        questions: dict[int, dict[str, Question]] = defaultdict(dict)
        for question in Question.objects.filter(lens_version__in=ids).prefetch_related(
            "choices", "risk_rules"
        ):
            questions[question.lens_version_id][question.question_id] = question
        seen_lenses = set()
        for path, item in r.items("lens_reviews", value):
            obj = r.obj(path, item, REVIEW_KEYS)
            if obj is None:
                continue
            alias = r.text(join(path, "lens"), obj["lens"], maximum=128, minimum=1)
            version = r.text(join(path, "lens_version"), obj["lens_version"], maximum=32)
            lens_version = versions.get((alias, version))
            if lens_version is None:
                if (alias, version) not in self.declared:
                    r.error(path, f"lens '{alias}' version '{version}' is not in the file's lenses")
                continue  # otherwise its problem is reported under lenses
            if alias in seen_lenses:
                r.error(join(path, "lens"), f"lens '{alias}' is reviewed twice")
            seen_lenses.add(alias)
            review = LensReview(
                workload=workload,
                lens=lens_version.lens,
                lens_version=lens_version,
                is_active=r.boolean(join(path, "is_active"), obj["is_active"]),
                notes=r.text(join(path, "notes"), obj["notes"], maximum=NOTES_MAX),
                notes_version=r.integer(join(path, "notes_version"), obj["notes_version"]),
                version=r.integer(join(path, "version"), obj["version"]),
                created_at=r.when(join(path, "created_at"), obj["created_at"]),
                updated_at=r.when(join(path, "updated_at"), obj["updated_at"]),
            )
            self.rows[LensReview].append(review)
            label = f"{alias} {version}"
            seen_pillars = set()
            for place, note in r.items(join(path, "pillar_notes"), obj["pillar_notes"]):
                note = r.obj(place, note, PILLAR_NOTE_KEYS)
                if note is None:
                    continue
                pillar = (
                    pillars.get((lens_version.pk, note["pillar"]))
                    if isinstance(note["pillar"], str)
                    else None
                )
                if pillar is None:
                    r.error(
                        join(place, "pillar"), f"unknown pillar {show(note['pillar'])} in {label}"
                    )
                    continue
                if pillar.pk in seen_pillars:
                    r.error(join(place, "pillar"), f"notes on '{pillar.pillar_id}' given twice")
                seen_pillars.add(pillar.pk)
                self.rows[PillarNote].append(
                    PillarNote(
                        lens_review=review,
                        pillar=pillar,
                        notes=r.text(join(place, "notes"), note["notes"], maximum=NOTES_MAX),
                        notes_version=r.integer(
                            join(place, "notes_version"), note["notes_version"]
                        ),
                    )
                )
            by_id = questions[lens_version.pk]
            answered, done = set(), set()
            for place, answer in r.items(join(path, "answers"), obj["answers"]):
                if isinstance(answer, dict) and isinstance(answer.get("question"), str):
                    answered.add(answer["question"])  # reported below if incomplete, not missing
                answer = r.obj(place, answer, ANSWER_KEYS, ANSWER_OPTIONAL_KEYS)
                if answer is None:
                    continue
                question = (
                    by_id.get(answer["question"]) if isinstance(answer["question"], str) else None
                )
                if question is None:
                    r.error(
                        join(place, "question"),
                        f"unknown question {show(answer['question'])} in {label}",
                    )
                    continue
                if question.question_id in done:
                    r.error(join(place, "question"), f"'{question.question_id}' answered twice")
                done.add(question.question_id)
                self._answer(place, answer, review, question)
            missing = [qid for qid in by_id if qid not in answered]
            if missing:
                shown = ", ".join(f"'{qid}'" for qid in missing[:5])
                more = f" and {len(missing) - 5} more" if len(missing) > 5 else ""
                r.error(join(path, "answers"), f"no answer for question {shown}{more} of {label}")

    def _answer(self, path: str, obj: dict, review: LensReview, question: Question) -> None:
        r = self.r
        before = len(r.errors)
        answer = Answer(
            lens_review=review,
            question=question,
            is_applicable=r.boolean(join(path, "is_applicable"), obj["is_applicable"]),
            reason=r.choice(join(path, "reason"), obj["reason"], Reason.values),
            notes=r.text(join(path, "notes"), obj["notes"], maximum=NOTES_MAX),
            notes_version=r.integer(join(path, "notes_version"), obj["notes_version"]),
            risk=r.choice(join(path, "risk"), obj["risk"], AnswerRisk.values),
            version=r.integer(join(path, "version"), obj["version"]),
            updated_at=r.when(join(path, "updated_at"), obj["updated_at"]),
        )
        r.user(join(path, "updated_by"), obj["updated_by"], answer, "updated_by")
        r.user(
            join(path, "notes_updated_by"),
            obj.get("notes_updated_by"),
            answer,
            "notes_updated_by",
        )
        self.rows[Answer].append(answer)
        choices = {choice.choice_id: choice for choice in question.choices.all()}
        selected = set()
        seen = set()
        for place, item in r.items(join(path, "choices"), obj["choices"]):
            item = r.obj(place, item, CHOICE_KEYS)
            if item is None:
                continue
            choice = choices.get(item["choice"]) if isinstance(item["choice"], str) else None
            if choice is None:
                r.error(
                    join(place, "choice"),
                    f"unknown choice {show(item['choice'])} of question '{question.question_id}'",
                )
                continue
            if choice.choice_id in seen:
                r.error(join(place, "choice"), f"'{choice.choice_id}' given twice")
            seen.add(choice.choice_id)
            row = ChoiceAnswer(
                answer=answer,
                choice=choice,
                status=r.choice(join(place, "status"), item["status"], ChoiceAnswer.Status.values),
                reason=r.choice(join(place, "reason"), item["reason"], Reason.values),
                notes=r.text(join(place, "notes"), item["notes"], maximum=CHOICE_NOTES_MAX),
            )
            if row.status == ChoiceAnswer.Status.SELECTED:
                selected.add(choice.choice_id)
            self.rows[ChoiceAnswer].append(row)
        nones = [cid for cid in selected if choices[cid].is_none]
        if nones and len(selected) > 1:
            r.error(
                join(path, "choices"),
                f"'{nones[0]}' (none of these) is selected together with other choices",
            )
        elif len(r.errors) == before:
            expected = self._risk(answer, question, selected)
            if answer.risk != expected:
                r.error(
                    join(path, "risk"),
                    f"'{answer.risk}' does not follow from the answer, which gives '{expected}'",
                )
        for place, item in r.items(join(path, "events"), obj["events"]):
            item = r.obj(place, item, ANSWER_EVENT_KEYS)
            if item is None:
                continue
            event = AnswerEvent(answer=answer, at=r.when(join(place, "at"), item["at"]))
            event.changes = item["changes"]
            r.shape(join(place, "changes"), item["changes"], [{"field": str}])
            r.user(join(place, "user"), item["user"], event, "user")
            self.rows[AnswerEvent].append(event)
        if obj["improvement"] is not None:
            self._item(join(path, "improvement"), obj["improvement"], answer)

    @staticmethod
    def _risk(answer: Answer, question: Question, selected: set[str]) -> str:
        if not answer.is_applicable:
            return AnswerRisk.NOT_APPLICABLE
        if not selected:
            return AnswerRisk.UNANSWERED
        return question.risk_for(selected)

    def _item(self, path: str, value: Any, answer: Answer) -> None:
        r = self.r
        obj = r.obj(path, value, ITEM_KEYS)
        if obj is None:
            return
        item = ImprovementItem(
            answer=answer,
            status=r.choice(join(path, "status"), obj["status"], ImprovementStatus.values),
            due_date=r.day(join(path, "due_date"), obj["due_date"]),
            comment=r.text(join(path, "comment"), obj["comment"], maximum=NOTES_MAX),
            is_open=r.boolean(join(path, "is_open"), obj["is_open"]),
            created_at=r.when(join(path, "created_at"), obj["created_at"]),
            updated_at=r.when(join(path, "updated_at"), obj["updated_at"]),
        )
        r.user(join(path, "assignee"), obj["assignee"], item, "assignee")
        self.rows[ImprovementItem].append(item)
        for place, entry in r.items(join(path, "events"), obj["events"]):
            entry = r.obj(place, entry, ITEM_EVENT_KEYS)
            if entry is None:
                continue
            event = ImprovementEvent(
                item=item,
                at=r.when(join(place, "at"), entry["at"]),
                text=r.text(join(place, "text"), entry["text"], maximum=EVENT_TEXT_MAX),
            )
            r.user(join(place, "user"), entry["user"], event, "user")
            self.rows[ImprovementEvent].append(event)

    # -- milestones --------------------------------------------------------------------------

    def _milestones(self, value: Any, workload: Workload) -> None:
        r = self.r
        numbers, names = set(), set()
        entries = r.items("milestones", value)
        if len(entries) > MAX_MILESTONES:
            r.error("milestones", f"{len(entries)} milestones; a workload keeps {MAX_MILESTONES}")
        for path, item in entries:
            obj = r.obj(path, item, MILESTONE_KEYS)
            if obj is None:
                continue
            milestone = Milestone(
                workload=workload,
                number=r.integer(
                    join(path, "number"), obj["number"], minimum=1, maximum=MAX_MILESTONES
                ),
                name=r.text(join(path, "name"), obj["name"], maximum=100, minimum=3),
                recorded_at=r.when(join(path, "recorded_at"), obj["recorded_at"]),
                data=obj["data"],
                **{
                    key: r.integer(join(path, key), obj[key])
                    for key in ("high_count", "medium_count", "answered_count", "question_count")
                },
            )
            milestone.name_key = name_key(milestone.name)
            if milestone.number in numbers:
                r.error(join(path, "number"), f"milestone {milestone.number} is given twice")
            if milestone.name_key in names:
                r.error(join(path, "name"), f"two milestones are named “{milestone.name}”")
            numbers.add(milestone.number)
            names.add(milestone.name_key)
            r.user(join(path, "recorded_by"), obj["recorded_by"], milestone, "recorded_by")
            problems = len(r.errors)
            r.shape(join(path, "data"), obj["data"], MILESTONE_DATA)
            if len(r.errors) == problems:
                # Worked out from the copy, not read from the file: it cannot disagree with it.
                milestone.score = snapshots_score(obj["data"]["lens_reviews"])
            self.rows[Milestone].append(milestone)

    # -- writing -----------------------------------------------------------------------------

    def _create(
        self,
        workload: Workload,
        members: list,
        users: dict[str, Any],
        team_shares: list[tuple[Team, str]],
    ) -> None:
        owner = (
            users[self.owner]
            if self.owner
            else users[next(m[1] for m in members if m[3] == Role.OWNER)]
        )
        workload.owner = owner
        workload.save()
        rows = []
        for path, username, _email, role in members:
            user = users.get(username)
            if user is None or user.pk == owner.pk:
                continue
            if role == Role.OWNER:  # the file's owner, replaced by --owner
                role = Role.CONTRIBUTOR
                self.r.warnings.append(
                    f"{path}: '{username}' owned the workload in the file and stays on as "
                    f"contributor; '{owner.get_username()}' owns it here"
                )
            rows.append(WorkloadMember(workload=workload, user=user, role=role))
        rows.append(WorkloadMember(workload=workload, user=owner, role=Role.OWNER))
        WorkloadMember.objects.bulk_create(rows)
        WorkloadTeamShare.objects.bulk_create(
            WorkloadTeamShare(workload=workload, team=team, role=role) for team, role in team_shares
        )
        # Parents before children; bulk_create gives every row its primary key, which the
        # children pick up from the objects they point to.
        _create_keeping(LensReview, self.rows[LensReview], ["created_at", "updated_at"])
        _create_keeping(PillarNote, self.rows[PillarNote], [])
        _create_keeping(Answer, self.rows[Answer], ["updated_at"])
        _create_keeping(ChoiceAnswer, self.rows[ChoiceAnswer], [])
        _create_keeping(AnswerEvent, self.rows[AnswerEvent], ["at"])
        _create_keeping(ImprovementItem, self.rows[ImprovementItem], ["created_at", "updated_at"])
        _create_keeping(ImprovementEvent, self.rows[ImprovementEvent], ["at"])
        _create_keeping(Milestone, self.rows[Milestone], ["recorded_at"])
        counts_rebuild(review.pk for review in self.rows[LensReview])
        created_at, updated_at = self.workload_times
        Workload.objects.filter(pk=workload.pk).update(created_at=created_at, updated_at=updated_at)
        workload.created_at, workload.updated_at = created_at, updated_at


def _create_keeping(model: type[models.Model], objs: list, stamps: list[str]) -> None:
    """Bulk-create `objs` in their order, keeping the times they hold.

    bulk_create puts the current time into auto_now and auto_now_add fields, and bulk_update
    does not, so the times go back in with one update per batch.
    """
    if not objs:
        return
    kept = [[getattr(obj, name) for name in stamps] for obj in objs]
    model.objects.bulk_create(objs)
    if stamps:
        for obj, values in zip(objs, kept, strict=True):
            for name, value in zip(stamps, values, strict=True):
                setattr(obj, name, value)
        model.objects.bulk_update(objs, stamps)
