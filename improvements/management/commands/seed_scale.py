"""Fill an empty database with years of a large organisation's data, for `make bench`."""

import contextlib
import datetime
import math
import random
import time
from collections.abc import Callable, Iterator
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth import models as auth_models
from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection, transaction
from django.db.models import DateTimeField
from django.utils import timezone

from improvements.models import (
    POSITION_GAP,
    Category,
    Column,
    Comment,
    Event,
    FindingLink,
    Improvement,
)
from improvements.reporting.run_history import add_runs
from retros.models import (
    Deployment,
    DeploymentRun,
    DutyWeek,
    Finding,
    ProcessStep,
    ProcessStepChange,
    Retrospective,
    Unit,
)
from retros.weeks import monday_of

# Ten years of a 30-unit organisation; --years and --scale shrink or grow these.
PER_TEN_YEARS = {
    "findings": 15_000,
    "improvements": 5_000,
    "events": 100_000,
    "deployments": 50_000,
}
OPEN_CARDS = 1_000
BATCH = 2_000

PRODUCT_UNITS = [
    "Accounts", "Ads", "Analytics", "Billing", "Catalogue", "Checkout", "Content",
    "Data Platform", "Delivery", "Discovery", "Fraud", "Growth", "Identity", "Inventory",
    "Loyalty", "Marketplace", "Messaging", "Mobile", "Notifications", "Onboarding",
    "Payments", "Pricing", "Recommendations", "Returns", "Search", "Support",
]  # fmt: skip
QA_UNITS = ["QA Web", "QA Mobile"]
PLATFORM_UNITS = ["Platform Core", "Platform Delivery"]
MEMBERS_PER_UNIT: dict[str, int] = {Unit.Kind.PRODUCT: 8, Unit.Kind.QA: 5, Unit.Kind.PLATFORM: 5}

PROCESS = [
    "Freeze the release branch",
    "Write the changelog by hand",
    "Collect sign-offs from every unit",
    "Run the manual regression checklist",
    "Check database migrations by hand",
    "Build the release artefact",
    "Scan the artefact for vulnerabilities",
    "Deploy to staging",
    "Run end-to-end tests on staging",
    "Re-run flaky end-to-end tests",
    "Smoke-test staging by hand",
    "Get QA sign-off",
    "Announce the deployment window",
    "Switch release toggles",
    "Deploy to production",
    "Smoke-test production by hand",
    "Watch the error dashboards",
    "Tag the release in git",
    "Update the release wiki page",
    "Announce the release in chat",
]
PAINS = [
    "The e2e checkout test failed twice for no reason and we restarted the pipeline",
    "Manual regression checklist took most of the afternoon",
    "Waited for QA sign-off while QA was in a meeting",
    "Writing the changelog by hand is slow and nobody reads it",
    "Staging smoke test by hand: nobody knew which pages to check",
    "Deploy script needs three manual SSH steps",
    "Half-finished feature blocked the release: no release toggle",
    "The runbook on the wiki is out of date",
    "Flaky search e2e test blocked the deploy for an hour",
    "Production smoke test repeats the automated e2e suite",
    "Migration check by hand found nothing again",
    "Release branch freeze blocked two urgent fixes",
]
IDEAS = [
    "Automate the production smoke test with the e2e suite",
    "Generate the changelog from merged pull requests",
    "Put unfinished features behind release toggles",
    "Drop the manual regression items covered by e2e tests",
    "One-button deploy script for staging and production",
    "Quarantine flaky tests automatically",
    "Check migrations in CI",
    "Announce deployments from the pipeline",
]
WENT_WELL = [
    "Shadowing QA explained the manual checks well",
    "Staging deploy went through in one go",
    "Platform team answered within minutes",
    "Rollback drill worked",
    "The new deploy script saved an hour",
]
QUESTIONS = [
    "Who owns the deploy script?",
    "Why do we freeze the branch for a whole day?",
    "Can QA sign off asynchronously?",
]
BLOCK_CAUSES = ["Waiting for QA sign-off", "Flaky e2e test", "Staging was down", "Merge freeze"]


@contextlib.contextmanager
def explicit_timestamps(*fields: DateTimeField) -> Iterator[None]:
    """Let bulk_create keep the times we give instead of stamping now (auto_now[_add])."""
    saved = [(field, field.auto_now, field.auto_now_add) for field in fields]
    for field, _, _ in saved:
        field.auto_now = field.auto_now_add = False
    try:
        yield
    finally:
        for field, auto_now, auto_now_add in saved:
            field.auto_now, field.auto_now_add = auto_now, auto_now_add


def at(day: datetime.date, hour: float) -> datetime.datetime:
    start = datetime.datetime.combine(day, datetime.time(), tzinfo=datetime.UTC)
    return start + datetime.timedelta(hours=hour)


def between(
    rng: random.Random, start: datetime.datetime, end: datetime.datetime
) -> datetime.datetime:
    if end <= start:
        return start
    return start + datetime.timedelta(seconds=rng.uniform(0, (end - start).total_seconds()))


class Command(BaseCommand):
    help = (
        "Build a large organisation for benchmarks: 30 units, a duty week and retro per week, and "
        "per ten years 15,000 findings, 5,000 improvements with 100,000 events and 50,000 "
        "deployments, plus a board with 1,000 open cards. The same --seed and --until give the "
        "same rows. It refuses to run unless the database is empty (freshly migrated): it "
        "creates users that all share one password. Log in as bench / --password (staff)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--years", type=float, default=10, help="History length (10).")
        parser.add_argument(
            "--scale",
            type=float,
            default=1.0,
            help="Multiply every row count except units and weeks, e.g. 0.01 for tests (1).",
        )
        parser.add_argument("--seed", type=int, default=2026, help="Random seed (2026).")
        parser.add_argument(
            "--until",
            type=datetime.date.fromisoformat,
            default=None,
            help="The last duty week holds this date, YYYY-MM-DD (today).",
        )
        parser.add_argument("--password", default="bench", help="Everyone's password (bench).")

    def handle(
        self,
        *args: Any,
        years: float,
        scale: float,
        seed: int,
        until: datetime.date | None,
        password: str,
        **options: Any,
    ) -> None:
        if Unit.objects.exists() or Improvement.objects.exists() or Deployment.objects.exists():
            raise CommandError(
                "The database already has units, improvements or deployments; "
                "seed_scale fills a freshly migrated database only."
            )
        if not Column.objects.exists() or not Category.objects.exists():
            raise CommandError("No board columns or categories: run migrate first.")
        if years <= 0 or scale <= 0:
            raise CommandError("--years and --scale must be positive.")
        started = time.monotonic()
        builder = Builder(
            rng=random.Random(seed),  # noqa: S311 - benchmark data, not security
            years=years,
            scale=scale,
            until=until or timezone.now().date(),
            password=password,
            log=self.stdout.write if options["verbosity"] > 0 else (lambda message: None),
        )
        with transaction.atomic():
            counts = builder.build()
        if connection.vendor == "postgresql":
            # What autovacuum does on a database that grew for years: planner statistics, and
            # a visibility map so counts can use index-only scans. VACUUM cannot run inside a
            # transaction (as in tests); ANALYZE can.
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE" if connection.in_atomic_block else "VACUUM ANALYZE")
        summary = ", ".join(f"{count:,} {name}" for name, count in counts.items())
        self.stdout.write(
            self.style.SUCCESS(f"Seeded {summary} in {time.monotonic() - started:.1f} s.")
        )


class Builder:
    """Creates the rows in dependency order, each model in one bulk insert."""

    def __init__(
        self,
        *,
        rng: random.Random,
        years: float,
        scale: float,
        until: datetime.date,
        password: str,
        log: Callable[[str], object],
    ) -> None:
        self.rng = rng
        self.log = log
        self.password = password
        self.weeks = max(2, round(years * 52))
        factor = years / 10 * scale
        self.open_cards = max(1, round(OPEN_CARDS * scale))
        self.target = {name: max(1, round(count * factor)) for name, count in PER_TEN_YEARS.items()}
        self.target["improvements"] = max(
            self.target["improvements"], math.ceil(self.open_cards * 1.25)
        )
        self.this_monday = monday_of(until)
        self.first_monday = self.this_monday - datetime.timedelta(weeks=self.weeks - 1)
        # "Now" for the data: the end of the last week's Thursday, so nothing lies in the future
        # of the anchor date and the same --until always gives the same rows.
        self.now = at(self.this_monday, 3 * 24 + 18)

    def build(self) -> dict[str, int]:
        self.users_and_units()
        self.process_steps()
        self.duty_weeks_and_retros()
        self.findings()
        self.improvements()
        self.links_and_events()
        self.deployments()
        self.runs()
        return {
            "units": Unit.objects.count(),
            "users": get_user_model().objects.count(),
            "duty weeks": DutyWeek.objects.count(),
            "retros": Retrospective.objects.count(),
            "findings": Finding.objects.count(),
            "improvements": Improvement.objects.count(),
            "open cards": Improvement.objects.open()
            .exclude(column__state__in=[Column.State.DONE, Column.State.DROPPED])
            .count(),
            "events": Event.objects.count(),
            "deployments": Deployment.objects.count(),
            "process step changes": ProcessStepChange.objects.count(),
            "deployment runs": DeploymentRun.objects.count(),
        }

    # People -----------------------------------------------------------------------------

    def users_and_units(self) -> None:
        rng = self.rng
        User = get_user_model()
        salt = "".join(rng.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(22))
        password = make_password(self.password, salt=salt)  # hashed once for everybody
        joined = at(self.first_monday, 8)
        kinds = (
            [(name, Unit.Kind.PRODUCT) for name in PRODUCT_UNITS]
            + [(name, Unit.Kind.QA) for name in QA_UNITS]
            + [(name, Unit.Kind.PLATFORM) for name in PLATFORM_UNITS]
        )
        units = Unit.objects.bulk_create(
            Unit(name=name, kind=kind, feed_token=f"{rng.getrandbits(128):032x}")
            for name, kind in kinds
        )
        people = [
            User(
                username="bench",
                email="bench@example.com",
                first_name="Bench",
                is_staff=True,
                password=password,
                date_joined=joined,
            )
        ]
        membership: list[tuple[int, int]] = [(len(units) - 1, 0)]  # bench works on the platform
        for unit_index, unit in enumerate(units):
            for member in range(MEMBERS_PER_UNIT[unit.kind]):
                name = f"{unit.name.lower().replace(' ', '-')}-{member + 1}"
                membership.append((unit_index, len(people)))
                people.append(
                    User(
                        username=name,
                        email=f"{name}@example.com",
                        first_name=name.split("-")[0].title(),
                        last_name=str(member + 1),
                        password=password,
                        date_joined=joined,
                    )
                )
        people = User.objects.bulk_create(people)
        Membership = Unit.members.through
        Membership.objects.bulk_create(
            Membership(unit_id=units[u].pk, user_id=people[p].pk) for u, p in membership
        )
        self.units = units
        self.members: dict[int, list[auth_models.User]] = {unit.pk: [] for unit in units}
        for u, p in membership:
            self.members[units[u].pk].append(people[p])
        self.product_units = [unit for unit in units if unit.kind == Unit.Kind.PRODUCT]
        self.qa_people = [p for u in units if u.kind == Unit.Kind.QA for p in self.members[u.pk]]
        self.platform_people = [
            p for u in units if u.kind == Unit.Kind.PLATFORM for p in self.members[u.pk]
        ]
        self.log(f"  {len(units)} units, {len(people)} users")

    # The process map ----------------------------------------------------------------------

    def process_steps(self) -> None:
        """Steps that start manual and get automated or dropped over the years, with history."""
        rng = self.rng
        steps = ProcessStep.objects.bulk_create(
            ProcessStep(
                position=index,
                title=title,
                how_to=f"See the runbook section *{title}*.",
                mode=ProcessStep.Mode.MANUAL,
                minutes=rng.choice([5, 10, 15, 20, 30, 45, 60, 90]),
                unit=rng.choice(self.units[-4:]),
            )
            for index, title in enumerate(PROCESS)
        )
        span = (self.now - at(self.first_monday, 9)).total_seconds()
        changes = []
        for step in steps:
            moment = at(self.first_monday, 9)
            mode = ProcessStep.Mode.MANUAL
            for new_mode in rng.choice(
                [
                    [ProcessStep.Mode.SEMI_AUTOMATIC, ProcessStep.Mode.AUTOMATED],
                    [ProcessStep.Mode.AUTOMATED],
                    [ProcessStep.Mode.DROPPED],
                    [ProcessStep.Mode.SEMI_AUTOMATIC],
                    [],
                ]
            ):
                moment += datetime.timedelta(seconds=rng.uniform(0.05, 0.45) * span)
                if moment >= self.now:
                    break
                changes.append(
                    ProcessStepChange(
                        step=step,
                        old_mode=mode,
                        new_mode=new_mode,
                        changed_at=moment,
                        changed_by=rng.choice(self.platform_people),
                        note="Done by an improvement from the board.",
                    )
                )
                mode = new_mode
            step.mode = mode
        ProcessStep.objects.bulk_update(steps, ["mode"])
        ProcessStepChange.objects.bulk_create(changes)
        self.steps = steps
        self.log(f"  {len(steps)} process steps, {len(changes)} mode changes")

    # Duty weeks and retros -----------------------------------------------------------------

    def duty_weeks_and_retros(self) -> None:
        rng = self.rng
        weeks = DutyWeek.objects.bulk_create(
            DutyWeek(
                week_start=self.first_monday + datetime.timedelta(weeks=index),
                unit=self.product_units[index % len(self.product_units)],
                qa_person=rng.choice(self.qa_people),
                platform_person=rng.choice(self.platform_people),
            )
            for index in range(self.weeks)
        )
        retros = []
        for week in weeks:
            members = self.members[week.unit_id]
            is_current = week.week_start == self.this_monday
            submitted = at(week.week_start, 4 * 24 + 15)
            retros.append(
                Retrospective(
                    duty_week=week,
                    facilitator=members[0],
                    pain_rating=rng.randint(1, 5),
                    confidence_rating=rng.randint(1, 5),
                    summary="" if is_current else "Deployments got through; see the pains.",
                    status=Retrospective.Status.DRAFT
                    if is_current
                    else Retrospective.Status.SUBMITTED,
                    created_at=at(week.week_start, 4 * 24 + 14),
                    updated_at=submitted,
                    submitted_at=None if is_current else submitted,
                )
            )
        fields = Retrospective._meta
        with explicit_timestamps(fields.get_field("created_at"), fields.get_field("updated_at")):
            retros = Retrospective.objects.bulk_create(retros, batch_size=BATCH)
        Attendance = Retrospective.attendees.through
        attendance = []
        for retro, week in zip(retros, weeks, strict=True):
            people = {p.pk for p in rng.sample(self.members[week.unit_id], 3)}
            people |= {pk for pk in (week.qa_person_id, week.platform_person_id) if pk}
            attendance += [Attendance(retrospective_id=retro.pk, user_id=pk) for pk in people]
        Attendance.objects.bulk_create(attendance, batch_size=BATCH)
        self.duty_weeks = weeks
        self.retros = retros
        self.log(f"  {len(weeks)} duty weeks and retros")

    def findings(self) -> None:
        rng = self.rng
        total = self.target["findings"]
        count = len(self.retros)
        findings = []
        for index, (retro, week) in enumerate(zip(self.retros, self.duty_weeks, strict=True)):
            share = total // count + (1 if index < total % count else 0)
            members = self.members[week.unit_id]
            for number in range(share):
                kind = rng.choices(
                    [Finding.Kind.WENT_WELL, Finding.Kind.PAIN, Finding.Kind.IDEA, "question"],
                    [25, 40, 25, 10],
                )[0]
                texts = {"well": WENT_WELL, "pain": PAINS, "idea": IDEAS}.get(kind, QUESTIONS)
                findings.append(
                    Finding(
                        retro=retro,
                        kind=kind,
                        text=f"{rng.choice(texts)} ({week.iso_label}, #{number + 1})",
                        author=rng.choice(members),
                        created_at=at(week.week_start, 4 * 24 + 14)
                        + datetime.timedelta(seconds=number * 30),
                    )
                )
        with explicit_timestamps(Finding._meta.get_field("created_at")):
            self.all_findings = Finding.objects.bulk_create(findings, batch_size=BATCH)
        self.log(f"  {len(findings):,} findings")

    # The board ------------------------------------------------------------------------------

    def improvements(self) -> None:
        """Cards raised week after week; the open ones are mostly recent, some old and stuck."""
        rng = self.rng
        total = self.target["improvements"]
        columns = list(Column.objects.order_by("position"))
        self.backlog = [c for c in columns if c.state == Column.State.BACKLOG]
        active = [c for c in columns if c.state == Column.State.ACTIVE]
        self.done_column = next(c for c in columns if c.state == Column.State.DONE)
        self.path = self.backlog + active + [self.done_column]
        open_columns = self.backlog + active
        categories = list(Category.objects.all())
        weeks = len(self.retros)
        # Nothing is raised in the current week (its retro is still a draft).
        raised_in = sorted(rng.randrange(0, max(1, weeks - 1)) for _ in range(total))

        recent = list(range(max(0, total - round(self.open_cards * 1.5)), total))
        stuck = round(self.open_cards * 0.15)
        open_indexes = set(rng.sample(recent, min(len(recent), self.open_cards - stuck)))
        older = [i for i in range(total) if i not in open_indexes]
        open_indexes |= set(rng.sample(older, self.open_cards - len(open_indexes)))

        cards, plans = [], []
        for index in range(total):
            week_index = raised_in[index]
            week = self.duty_weeks[week_index]
            created = at(week.week_start, 4 * 24 + 15.5) + datetime.timedelta(seconds=index)
            if index in open_indexes:
                final = rng.choices(open_columns, [60, 25, 15][: len(open_columns)] or None)[0]
            elif rng.random() < 0.05:
                final = None  # dropped from the backlog and archived
            else:
                final = self.done_column
            moves = self.plan_moves(created, final)
            last = moves[-1][1] if moves else created
            card = Improvement(
                title=f"{rng.choice(IDEAS + PAINS)} #{index + 1}"[:200],
                description=f"Raised in the retro of {week.iso_label}.\n\n*Why:* it slows "
                "every deployment.",
                category=rng.choice(categories),
                column=final or self.path[0],
                position=0,
                unit=week.unit,
                assignee=rng.choice(self.members[week.unit_id] + self.platform_people),
                target_step=rng.choice(self.steps) if rng.random() < 0.6 else None,
                expected_effect=rng.choice(["", "deployments 20 min shorter", "fewer restarts"]),
                created_by=week.platform_person,
                created_at=created,
                column_entered_at=last,
            )
            for column, moment in moves:
                if column.state != Column.State.BACKLOG and card.started_at is None:
                    card.started_at = moment
            if final == self.done_column:
                card.done_at = last
                card.effect_verdict = rng.choice(Improvement.Verdict.values)
                if last < self.now - datetime.timedelta(weeks=26) and rng.random() < 0.3:
                    card.archived_at = last + datetime.timedelta(weeks=4)
            elif final is None:
                card.archived_at = between(rng, created, self.now)
                card.dropped_reason = "Overtaken by another improvement."
            cards.append(card)
            plans.append((week_index, moves))

        # Positions: unique per column, POSITION_GAP apart, newest done card on top.
        by_column: dict[int, list[Improvement]] = {}
        for card in cards:
            by_column.setdefault(card.column.pk, []).append(card)
        for column_cards in by_column.values():
            column_cards.sort(
                key=lambda c: (c.done_at is None, -(c.done_at or c.created_at).timestamp())
            )
            for place, card in enumerate(column_cards, start=1):
                card.position = place * POSITION_GAP
        self.cards = Improvement.objects.bulk_create(cards, batch_size=BATCH)
        self.plans = plans
        self.log(f"  {len(cards):,} improvements, {len(open_indexes):,} open")

    def plan_moves(
        self, created: datetime.datetime, final: Column | None
    ) -> list[tuple[Column, datetime.datetime]]:
        """The columns a card passed through after the first, with when it entered each."""
        if final is None:
            return []
        steps = self.path[1 : self.path.index(final) + 1]
        if final == self.done_column:
            # Finished cards took 1 to 30 weeks; squeeze the steps into the time there was.
            end = min(self.now, created + datetime.timedelta(days=self.rng.uniform(7, 210)))
        else:
            end = between(self.rng, created, self.now)
        moments = sorted(between(self.rng, created, end) for _ in steps)
        if steps:
            moments[-1] = end
        return list(zip(steps, moments, strict=True))

    def links_and_events(self) -> None:
        """Findings that raised or joined cards, and every card's history up to `events`."""
        rng = self.rng
        retro_pk_week = {retro.pk: index for index, retro in enumerate(self.retros)}
        triage: dict[int, list[Finding]] = {}
        for finding in self.all_findings:
            if finding.kind in (Finding.Kind.PAIN, Finding.Kind.IDEA):
                triage.setdefault(retro_pk_week[finding.retro_id], []).append(finding)

        links, events, comments = [], [], []
        created_by_week: dict[int, list[int]] = {}
        for index, (card, (week_index, moves)) in enumerate(
            zip(self.cards, self.plans, strict=True)
        ):
            created_by_week.setdefault(week_index, []).append(index)
            events.append(
                card.history_entry(
                    Event.Kind.CREATED, card.created_by, at=card.created_at, to_column=self.path[0]
                )
            )
            origin = triage.get(week_index)
            if origin:
                links.append((origin.pop(0), card, card.created_at))
            previous = self.path[0]
            for column, moment in moves:
                events.append(
                    card.history_entry(
                        Event.Kind.MOVED,
                        card.assignee,
                        at=moment,
                        from_column=previous,
                        to_column=column,
                    )
                )
                previous = column
            if card.archived_at:
                kind = Event.Kind.DROPPED if card.dropped_reason else Event.Kind.ARCHIVED
                events.append(card.history_entry(kind, card.assignee, at=card.archived_at))

        # The pains and ideas that raised no card: joined a recent one, no action, or waiting.
        changed_findings = []
        for week_index, findings in triage.items():
            if week_index >= len(self.retros) - 1:
                continue  # this week's draft retro is not triaged yet
            recent = [
                i
                for w in range(max(0, week_index - 26), week_index + 1)
                for i in created_by_week.get(w, [])
            ]
            submitted_at = self.retros[week_index].submitted_at
            assert submitted_at is not None  # every retro but this week's is submitted
            moment = submitted_at + datetime.timedelta(hours=1)
            for finding in findings:
                roll = rng.random()
                if recent and roll < 0.5:
                    links.append((finding, self.cards[rng.choice(recent)], moment))
                elif roll < 0.8:
                    finding.outcome = Finding.Outcome.NO_ACTION
                    finding.no_action_reason = "One-off; not worth a change."
                    changed_findings.append(finding)

        finding_links = []
        for finding, card, moment in links:
            moment = max(moment, card.created_at)
            finding.outcome = Finding.Outcome.IMPROVEMENT
            changed_findings.append(finding)
            finding_links.append(
                FindingLink(
                    finding=finding, improvement=card, linked_by=card.created_by, linked_at=moment
                )
            )
            events.append(
                card.history_entry(
                    Event.Kind.LINKED,
                    card.created_by,
                    at=moment,
                    data={"finding": finding.pk, "retro": finding.retro_id},
                )
            )
        Finding.objects.bulk_update(
            changed_findings, ["outcome", "no_action_reason"], batch_size=BATCH
        )
        FindingLink.objects.bulk_create(finding_links, batch_size=BATCH)

        # Edits and comments fill the history up to the target number of events.
        for _ in range(max(0, self.target["events"] - len(events))):
            card = rng.choice(self.cards)
            moment = between(rng, card.created_at, card.done_at or card.archived_at or self.now)
            if rng.random() < 0.4:
                comments.append(
                    Comment(
                        improvement=card,
                        author=card.assignee,
                        body="Progress: **first draft** is in review.",
                        created_at=moment,
                    )
                )
                kind = Event.Kind.COMMENTED
            else:
                kind = Event.Kind.EDITED
            events.append(card.history_entry(kind, card.assignee, at=moment))
        Comment.objects.bulk_create(comments, batch_size=BATCH)
        Improvement.record_history(events, batch_size=BATCH)
        self.log(f"  {len(finding_links):,} finding links, {len(events):,} events")

    # Deployments ------------------------------------------------------------------------------

    def deployments(self) -> None:
        """Runs that get shorter, safer and more automated over the years."""
        rng = self.rng
        total = self.target["deployments"]
        weeks = len(self.duty_weeks)
        triggers = [t.value for t in Deployment.Trigger]
        deployments = []
        for index in range(total):
            week_index = index * weeks // total
            week = self.duty_weeks[week_index]
            progress = week_index / max(1, weeks - 1)  # 0 in the first week, 1 in the last
            day = rng.randrange(0, 4 if week.week_start == self.this_monday else 5)
            started = at(week.week_start + datetime.timedelta(days=day), rng.uniform(8, 17))
            elapsed = max(5, round(rng.gauss(240 - 200 * progress, 30 - 20 * progress)))
            blocked = rng.choice([0, 0, 0, 15, 40]) if rng.random() > progress else 0
            trigger = triggers[min(3, int(progress * 4 + rng.uniform(-0.5, 0.5)))]
            members = self.members[week.unit_id]
            deployments.append(
                Deployment(
                    duty_week=week,
                    environment=rng.choice(["staging", "production", "production"]),
                    started_at=started,
                    finished_at=started + datetime.timedelta(minutes=elapsed),
                    elapsed_minutes=elapsed,
                    hands_on_minutes=round(elapsed * (0.8 - 0.6 * progress)),
                    deployer=rng.choice(members),
                    shadow=week.qa_person,
                    result=rng.choices(
                        ["success", "failure", "aborted", "rolled_back"], [85, 8, 3, 4]
                    )[0],
                    blocked_minutes=blocked,
                    blocked_cause=rng.choice(BLOCK_CAUSES) if blocked else "",
                    restarts=rng.choice([0, 0, 0, 1, 2]) if rng.random() > progress else 0,
                    manual_steps_done=max(0, round(len(PROCESS) * (1 - progress))),
                    trigger=trigger,
                    version=f"{week.iso_label}.{index}",
                    repo_url="https://git.example.com/shop/monolith",
                    external_id=f"pipeline-{index + 1}" if trigger != "manual" else None,
                    created_at=started + datetime.timedelta(minutes=elapsed),
                )
            )
        with explicit_timestamps(Deployment._meta.get_field("created_at")):
            Deployment.objects.bulk_create(deployments, batch_size=BATCH)
        self.log(f"  {len(deployments):,} deployments")
        self.all_deployments = deployments

    def runs(self) -> None:
        """The first deployment of every duty week was done as a run in the app."""
        weeks, first = set(), []
        for deployment in self.all_deployments:
            if deployment.duty_week_id not in weeks:
                weeks.add(deployment.duty_week_id)
                first.append(deployment)
        started = time.monotonic()
        count = add_runs(self.rng, first)
        self.log(f"  {count:,} deployment runs ({time.monotonic() - started:.1f} s)")
