"""Teams and deployment duty: units, the weekly duty rota and the calendar feeds' secrets."""

import datetime
import secrets
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.db import models
from django.db.models import Q
from django.db.models.signals import m2m_changed, pre_save
from django.dispatch import receiver
from django.urls import reverse
from django.utils import timezone

from ..weeks import monday_of, week_label


def new_feed_token() -> str:
    return secrets.token_urlsafe(24)


class Unit(models.Model):
    class Kind(models.TextChoices):
        PRODUCT = "product", "Product unit"
        QA = "qa", "QA"
        PLATFORM = "platform", "Platform"

    name = models.CharField(max_length=100, unique=True)
    kind = models.CharField(max_length=10, choices=Kind, default=Kind.PRODUCT)
    is_active = models.BooleanField(default=True, help_text="Inactive units leave the rotation.")
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="units")
    feed_token = models.CharField(
        max_length=64, unique=True, default=new_feed_token, editable=False
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("teams:unit_detail", args=[self.pk])

    def regenerate_feed_token(self) -> None:
        """A new secret feed URL; the old one stops working at once."""
        self.feed_token = new_feed_token()
        self.save(update_fields=["feed_token"])


class PersonFeed(models.Model):
    """A person's secret calendar feed of their duty weeks (calendar apps cannot log in)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="duty_feed"
    )
    token = models.CharField(max_length=64, unique=True, default=new_feed_token, editable=False)

    def __str__(self) -> str:
        return f"Duty feed of {self.user}"

    @classmethod
    def for_user(cls, user: User) -> "PersonFeed":
        return cls.objects.get_or_create(user=user)[0]

    def regenerate(self) -> None:
        self.token = new_feed_token()
        self.save(update_fields=["token"])


class DutyWeekQuerySet(models.QuerySet["DutyWeek"]):
    def current(self) -> "DutyWeek | None":
        return self.filter(week_start=monday_of(timezone.localdate())).first()

    def involving(self, user: User) -> "DutyWeekQuerySet":
        return self.filter(
            Q(unit__members=user) | Q(qa_person=user) | Q(platform_person=user)
        ).distinct()

    def link_deployments(self) -> int:
        """Point every deployment that started in one of these weeks at its week.

        A deployment is linked to its duty week when it is saved, so one logged before its
        week was planned (or moved) had none. Planning, editing and swapping weeks call this.
        Deployments still linked to one of these weeks but started outside it (its date was
        changed) go to the week they did start in, if any. Returns how many changed: two
        queries, plus one update per week that gains or loses deployments.
        """
        from .deployments import Deployment  # deployments build on these models

        weeks = dict(self.values_list("week_start", "pk"))
        if not weeks:
            return 0
        zone = timezone.get_current_timezone()
        in_weeks = Q()
        for monday in weeks:
            start = datetime.datetime.combine(monday, datetime.time.min, tzinfo=zone)
            end = datetime.datetime.combine(
                monday + datetime.timedelta(weeks=1), datetime.time.min, tzinfo=zone
            )
            in_weeks |= Q(started_at__gte=start, started_at__lt=end)
        rows = list(
            Deployment.objects.filter(in_weeks | Q(duty_week__in=weeks.values())).values_list(
                "pk", "started_at", "duty_week_id"
            )
        )
        outside = {
            monday_of(timezone.localdate(started_at))
            for _, started_at, _ in rows
            if monday_of(timezone.localdate(started_at)) not in weeks
        }
        if outside:
            weeks |= dict(
                DutyWeek.objects.filter(week_start__in=outside).values_list("week_start", "pk")
            )
        moves: dict[int | None, list[int]] = {}
        for pk, started_at, current in rows:
            week = weeks.get(monday_of(timezone.localdate(started_at)))
            if week != current:
                moves.setdefault(week, []).append(pk)
        for week, pks in moves.items():
            Deployment.objects.filter(pk__in=pks).update(duty_week=week)
        return sum(len(pks) for pks in moves.values())


class DutyWeek(models.Model):
    """One ISO week: the product unit on deployment duty, its QA shadow and platform member."""

    week_start = models.DateField(unique=True, help_text="The Monday of the ISO week.")
    unit = models.ForeignKey(
        Unit,
        on_delete=models.PROTECT,
        related_name="duty_weeks",
        limit_choices_to={"kind": Unit.Kind.PRODUCT},
    )
    qa_person = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="qa_duty_weeks",
        verbose_name="QA shadow",
    )
    platform_person = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="platform_duty_weeks",
        verbose_name="platform member",
    )

    objects = DutyWeekQuerySet.as_manager()

    class Meta:
        ordering = ["-week_start"]

    def __str__(self) -> str:
        return f"{self.iso_label} · {self.unit}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        super().save(*args, **kwargs)
        DutyWeek.objects.filter(pk=self.pk).link_deployments()

    @property
    def iso_label(self) -> str:
        return week_label(self.week_start)

    @property
    def week_end(self) -> datetime.date:
        return self.week_start + datetime.timedelta(days=6)


# A unit's feed URL is a secret its members share. Someone who leaves the unit (or whose account
# is deactivated) must not keep reading it, so the URL is renewed then; the members who stay
# find the new one on the unit's page (their personal feed, which covers their units, is kept).
# Signals, because members change in the unit pages, in the admin and from the user's side.
@receiver(m2m_changed, sender=Unit.members.through)
def _renew_unit_feeds_when_a_member_leaves(
    sender: object,
    instance: Any,  # the user when `reverse` (changed from the user's side), else the unit
    action: str,
    reverse: bool,
    pk_set: set[int] | None,
    **kwargs: Any,
) -> None:
    if action == "pre_clear" and reverse:
        instance._units_before_clear = list(instance.units.all())
    elif action == "post_clear" and reverse:
        for unit in getattr(instance, "_units_before_clear", []):
            unit.regenerate_feed_token()
    elif action == "post_clear" or (action == "post_remove" and not reverse and pk_set):
        instance.regenerate_feed_token()
    elif action == "post_remove" and reverse and pk_set:
        for unit in Unit.objects.filter(pk__in=pk_set):
            unit.regenerate_feed_token()


@receiver(pre_save, sender=settings.AUTH_USER_MODEL)
def _renew_unit_feeds_when_a_member_is_deactivated(
    sender: type[User], instance: User, update_fields: frozenset[str] | None, **kwargs: Any
) -> None:
    if instance.pk is None or instance.is_active:
        return
    if update_fields is not None and "is_active" not in update_fields:
        return
    if sender.objects.filter(pk=instance.pk, is_active=True).exists():
        for unit in Unit.objects.filter(members=instance):
            unit.regenerate_feed_token()
