"""factory-boy factories for every model the tests need."""

import datetime

import factory
from django.contrib.auth import get_user_model
from django.utils import timezone
from factory.django import DjangoModelFactory

from improvements.models import POSITION_GAP, Category, Column, Comment, Event, Improvement
from retros.models import (
    Deployment,
    DutyWeek,
    Finding,
    ProcessStep,
    Retrospective,
    Unit,
)
from retros.weeks import monday_of


def this_monday() -> datetime.date:
    """The Monday of this week: the week a DutyWeekFactory is on duty unless told otherwise."""
    return monday_of(timezone.localdate())


def weeks_from_now(n: int) -> datetime.date:
    """The Monday `n` weeks after this one (before it, when `n` is negative)."""
    return this_monday() + datetime.timedelta(weeks=n)


class UserFactory(DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ["username"]
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda user: f"{user.username}@example.com")
    first_name = factory.Faker("first_name")
    password = factory.django.Password("password")


class UnitFactory(DjangoModelFactory):
    class Meta:
        model = Unit
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Unit {n}")
    kind = Unit.Kind.PRODUCT

    @factory.post_generation
    def members(self, create, extracted, **kwargs):
        if create and extracted:
            self.members.add(*extracted)


class DutyWeekFactory(DjangoModelFactory):
    class Meta:
        model = DutyWeek

    week_start = factory.LazyFunction(this_monday)
    unit = factory.SubFactory(UnitFactory)
    qa_person = factory.SubFactory(UserFactory)
    platform_person = factory.SubFactory(UserFactory)


class RetrospectiveFactory(DjangoModelFactory):
    class Meta:
        model = Retrospective

    duty_week = factory.SubFactory(DutyWeekFactory)


class FindingFactory(DjangoModelFactory):
    class Meta:
        model = Finding

    retro = factory.SubFactory(RetrospectiveFactory)
    kind = Finding.Kind.PAIN
    text = factory.Faker("sentence")


class DeploymentFactory(DjangoModelFactory):
    class Meta:
        model = Deployment

    started_at = factory.LazyFunction(lambda: timezone.now() - datetime.timedelta(hours=2))
    finished_at = factory.LazyAttribute(lambda d: d.started_at + datetime.timedelta(minutes=45))
    hands_on_minutes = 30


class ProcessStepFactory(DjangoModelFactory):
    class Meta:
        model = ProcessStep

    title = factory.Sequence(lambda n: f"Step {n}")
    position = factory.Sequence(lambda n: n)
    minutes = 10


class CategoryFactory(DjangoModelFactory):
    class Meta:
        model = Category
        django_get_or_create = ["slug"]

    name = factory.Sequence(lambda n: f"Category {n}")
    slug = factory.Sequence(lambda n: f"category-{n}")


class ColumnFactory(DjangoModelFactory):
    class Meta:
        model = Column

    name = factory.Sequence(lambda n: f"Column {n}")
    position = factory.Sequence(lambda n: 100 + n)


class ImprovementFactory(DjangoModelFactory):
    class Meta:
        model = Improvement

    title = factory.Faker("sentence", nb_words=5)
    category = factory.LazyFunction(lambda: Category.objects.get(slug="automate"))
    column = factory.LazyFunction(lambda: Column.objects.order_by("position").first())
    position = factory.LazyAttribute(lambda card: Improvement.next_position(card.column))


class EventFactory(DjangoModelFactory):
    class Meta:
        model = Event

    improvement = factory.SubFactory(ImprovementFactory)
    kind = Event.Kind.CREATED


class CommentFactory(DjangoModelFactory):
    class Meta:
        model = Comment

    improvement = factory.SubFactory(ImprovementFactory)
    body = factory.Faker("sentence")


__all__ = ["POSITION_GAP"]
