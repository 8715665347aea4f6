"""Fill an empty database with a believable organisation for trying Wallbreaker out."""

import datetime
import random
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import User
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.utils import timezone

from improvements.models import POSITION_GAP, Category, Column, Comment, Event, Improvement
from improvements.reporting.run_history import add_running_run, add_runs
from retros.models import (
    Deployment,
    DutyWeek,
    Finding,
    ProcessStep,
    Retrospective,
    Unit,
)
from retros.weeks import monday_of

PRODUCT_UNITS = ["Payments", "Checkout", "Search", "Catalogue", "Accounts", "Mobile"]
FIRST_NAMES = [
    "Ana",
    "Ben",
    "Chloé",
    "Dev",
    "Emre",
    "Fatima",
    "Gus",
    "Hana",
    "Ivo",
    "Jia",
    "Kofi",
    "Lena",
    "Milo",
    "Nadia",
    "Omar",
    "Priya",
    "Quinn",
    "Rosa",
    "Sven",
    "Tariq",
    "Uma",
    "Viktor",
]
PROCESS = [
    ("Freeze the release branch", "manual", 10),
    ("Write the changelog by hand", "manual", 25),
    ("Run the manual regression checklist", "manual", 90),
    ("Build the release artefact", "semi", 15),
    ("Deploy to staging", "semi", 20),
    ("Run end-to-end tests on staging", "automated", 35),
    ("Smoke-test staging by hand", "manual", 20),
    ("Get QA sign-off", "manual", 15),
    ("Deploy to production", "semi", 25),
    ("Smoke-test production by hand", "manual", 15),
    ("Announce the release in chat", "manual", 5),
]
PAINS = [
    "The e2e checkout test failed twice for no reason and we restarted the pipeline",
    "Manual regression checklist took most of Tuesday afternoon",
    "Waited 40 minutes for QA sign-off while QA was in a meeting",
    "Writing the changelog by hand is slow and nobody reads it",
    "Staging smoke test by hand: nobody knew which pages to check",
    "Deploy script needs three manual SSH steps",
    "Half-finished feature blocked the release: no release toggle",
    "The runbook on the wiki is out of date",
    "Flaky search e2e test blocked deploy for an hour",
    "Production smoke test is the same as the automated e2e suite",
]
IDEAS = [
    "Automate the production smoke test with the e2e suite",
    "Generate the changelog from merged pull requests",
    "Put unfinished features behind release toggles",
    "Drop the manual regression items covered by e2e tests",
    "One-button deploy script for staging and production",
    "Quarantine flaky tests automatically",
]
WENT_WELL = [
    "Shadowing QA explained the manual checks well",
    "Staging deploy went through in one go",
    "Platform team answered within minutes",
    "Rollback drill worked",
]
QUESTIONS = ["Who owns the deploy script?", "Why do we freeze the branch for a whole day?"]


class Command(BaseCommand):
    help = (
        "Load demo data: six product units, QA, platform, twelve weeks of duty, retros and a board."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--force", action="store_true", help="Run even when DEBUG is off.")
        parser.add_argument(
            "--if-empty", action="store_true", help="Do nothing when the database has units."
        )

    def handle(
        self, *args: Any, force: bool = False, if_empty: bool = False, **options: Any
    ) -> None:
        if not settings.DEBUG and not force:
            raise CommandError("seed_demo adds demo users; it runs only with DEBUG on or --force.")
        if Unit.objects.exists():
            if if_empty:
                self.stdout.write("The database already has data; demo data not loaded.")
                return
            raise CommandError("The database already has units; seed_demo fills empty databases.")
        with transaction.atomic():
            self.seed(random.Random(2026))  # noqa: S311 - demo data, not security
        self.stdout.write(self.style.SUCCESS("Demo data loaded. Log in as demo / demo."))

    def seed(self, rng: random.Random) -> None:
        User = get_user_model()
        demo = User.objects.create_superuser("demo", "demo@example.com", "demo")
        demo.first_name, demo.last_name = "Demo", "User"
        demo.save()
        password = make_password("demo")  # hashed once: hashing per user takes seconds
        people = User.objects.bulk_create(
            User(
                username=name.lower(),
                email=f"{name.lower()}@example.com",
                first_name=name,
                password=password,
            )
            for name in FIRST_NAMES
        )
        units = [Unit.objects.create(name=name) for name in PRODUCT_UNITS]
        for index, unit in enumerate(units):
            unit.members.add(*people[index * 3 : index * 3 + 3])
        qa = Unit.objects.create(name="QA", kind=Unit.Kind.QA)
        qa.members.add(*people[18:20])
        platform = Unit.objects.create(name="Platform", kind=Unit.Kind.PLATFORM)
        platform.members.add(demo, *people[20:22])

        steps = [
            ProcessStep.objects.create(
                position=index,
                title=title,
                mode=mode,
                minutes=minutes,
                unit=platform if mode != "manual" else qa,
                how_to=f"See the runbook section *{title}*.",
            )
            for index, (title, mode, minutes) in enumerate(PROCESS)
        ]

        today = timezone.localdate()
        this_monday = monday_of(today)
        weeks = []
        for offset in range(11, -2, -1):  # eleven past weeks, this week and next week
            week_start = this_monday - datetime.timedelta(weeks=offset)
            unit = units[(11 - offset) % len(units)]
            weeks.append(
                DutyWeek.objects.create(
                    week_start=week_start,
                    unit=unit,
                    qa_person=rng.choice(list(qa.members.all())),
                    platform_person=rng.choice(list(platform.members.all())),
                )
            )

        self.seed_deployments(rng, weeks, today)
        columns = {column.state: column for column in Column.objects.all()}
        columns_by_name = {column.name: column for column in Column.objects.all()}
        categories = {category.slug: category for category in Category.objects.all()}

        improvements: list[Improvement] = []
        for index, week in enumerate(weeks):
            if week.week_start > today:
                continue
            is_current = week.week_start == this_monday
            # Every demo week has both people (created above).
            qa_person, platform_person = week.qa_person, week.platform_person
            assert qa_person is not None and platform_person is not None
            members = list(week.unit.members.all())
            retro = Retrospective.objects.create(
                duty_week=week,
                facilitator=members[0],
                pain_rating=min(5, max(1, 5 - index // 3 + rng.choice([-1, 0, 0, 1]))),
                confidence_rating=min(5, 2 + index // 4),
                summary="" if is_current else "Deployments got through; see the pains below.",
                status=Retrospective.Status.DRAFT if is_current else Retrospective.Status.SUBMITTED,
            )
            retro.attendees.add(*members, qa_person, platform_person)
            if is_current:
                Finding.objects.create(
                    retro=retro, kind="pain", text=rng.choice(PAINS), author=members[0]
                )
                continue
            retro.submitted_at = timezone.make_aware(
                datetime.datetime.combine(week.week_end, datetime.time(16))
            )
            retro.save(update_fields=["submitted_at"])
            texts = (
                [("well", rng.choice(WENT_WELL))]
                + [("pain", text) for text in rng.sample(PAINS, 2)]
                + [("idea", rng.choice(IDEAS))]
                + ([("question", rng.choice(QUESTIONS))] if index % 3 == 0 else [])
            )
            for kind, text in texts:
                finding = Finding.objects.create(
                    retro=retro, kind=kind, text=text, author=rng.choice(members)
                )
                if kind not in ("pain", "idea"):
                    continue
                existing = next((i for i in improvements if i.description == text), None)
                if existing:
                    existing.link_finding(finding, platform_person)
                    continue
                if rng.random() < 0.15:
                    finding.set_outcome(Finding.Outcome.NO_ACTION, "One-off; not worth a change.")
                    continue
                created = retro.submitted_at
                improvement = Improvement.objects.create(
                    title=text[:80],
                    description=text,
                    category=self.category_for(text, categories),
                    column=columns_by_name["Ideas"],
                    position=(len(improvements) + 1) * POSITION_GAP,
                    unit=week.unit,
                    assignee=rng.choice(members + [platform_person]),
                    target_step=rng.choice(steps),
                    created_by=platform_person,
                    created_at=created,
                    column_entered_at=created,
                )
                Improvement.record_history(
                    [
                        improvement.history_entry(
                            Event.Kind.CREATED,
                            platform_person,
                            at=created,
                            to_column=improvement.column,
                        )
                    ]
                )
                improvement.link_finding(finding, platform_person)
                Event.objects.filter(improvement=improvement, kind=Event.Kind.LINKED).update(
                    at=created
                )
                improvements.append(improvement)

        self.spread_over_board(rng, improvements, columns, columns_by_name, demo, today)
        # The last ten weeks' deployments were done as runs in the app.
        recent = timezone.now() - datetime.timedelta(weeks=10)
        add_runs(rng, list(Deployment.objects.filter(started_at__gte=recent).order_by("pk")))
        # And one is under way now, to watch.
        current = DutyWeek.objects.current()
        if current is not None:
            add_running_run(
                current.unit.members.first() or demo,
                [
                    ("question", "Why is the changelog still written by hand?"),
                    ("pain", "Sign-offs from every unit took twenty minutes of chasing."),
                ],
            )

    @staticmethod
    def category_for(text: str, categories: dict) -> Category:
        from improvements.operations import guess_category

        return guess_category(text) or categories["automate"]

    @staticmethod
    def seed_deployments(rng: random.Random, weeks: list[DutyWeek], today: datetime.date) -> None:
        for index, week in enumerate(weeks):
            members = list(week.unit.members.all())
            for day in range(0, 5, 1 if index > 6 else 2):
                date = week.week_start + datetime.timedelta(days=day)
                if date >= today:
                    break
                started = timezone.make_aware(datetime.datetime.combine(date, datetime.time(10)))
                # The process improves in steps as improvements land (weeks 5 and 9), with
                # the day-to-day noise of a real deployment around each level, so the XmR
                # charts show routine variation and then a signal, not a wall of alarms.
                phase = 0 if index < 5 else 1 if index < 9 else 2
                elapsed = max(20, (180, 160, 135)[phase] + rng.randint(-35, 35))
                blocked = (
                    rng.choice([0, 0, 0, 15, 40]) if index < 8 else rng.choice([0, 0, 0, 0, 10])
                )
                Deployment.objects.create(
                    started_at=started,
                    finished_at=started + datetime.timedelta(minutes=elapsed),
                    hands_on_minutes=int(elapsed * (0.5, 0.48, 0.44)[phase]),
                    environment=rng.choice(["staging", "production", "production"]),
                    deployer=rng.choice(members),
                    shadow=week.qa_person,
                    result=rng.choices(["success", "failure", "rolled_back"], [85, 10, 5])[0],
                    blocked_minutes=blocked,
                    blocked_cause="Waiting for QA sign-off" if blocked else "",
                    restarts=rng.choice([0, 0, 0, 1, 2]) if index < 8 else rng.choice([0, 0, 1]),
                    manual_steps_done=max(2, 8 - index // 2),
                    trigger="manual" if index < 6 else "scripted" if index < 10 else "one_button",
                    version=f"2026.{index + 1}.{day}",
                )

    @staticmethod
    def spread_over_board(
        rng: random.Random,
        improvements: list[Improvement],
        columns: dict[str, Column],
        columns_by_name: dict[str, Column],
        demo: User,
        today: datetime.date,
    ) -> None:
        """Walk older cards further along the board, with an event for every move."""
        now = timezone.now()
        path = [columns_by_name["Next"], columns_by_name["In progress"], columns[Column.State.DONE]]
        moves = []
        for index, improvement in enumerate(improvements):
            age_days = (now - improvement.created_at).days
            steps = 0 if index % 5 == 4 else min(3, age_days // 14 + rng.randint(0, 1))
            if index % 4 == 1:  # some work is always under way
                steps = min(steps, 2) if steps else 2
            moment = improvement.created_at
            for target in path[:steps]:
                moment = min(now, moment + datetime.timedelta(days=rng.randint(2, 9)))
                moves.append(
                    improvement.history_entry(
                        Event.Kind.MOVED,
                        improvement.assignee,
                        at=moment,
                        from_column=improvement.column,
                        to_column=target,
                    )
                )
                improvement.column = target
                improvement.column_entered_at = moment
                if target.state == Column.State.ACTIVE and improvement.started_at is None:
                    improvement.started_at = moment
                if target.state == Column.State.DONE:
                    improvement.done_at = moment
            improvement.position = (index + 1) * POSITION_GAP
            improvement.save()
            if steps >= 2:
                Comment.objects.create(
                    improvement=improvement,
                    author=improvement.assignee,
                    body="Started on this; **first draft** is in review.",
                    created_at=moment,
                )
        Improvement.record_history(moves)
