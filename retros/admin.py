from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from .models import (
    ApiToken,
    ChatWebhook,
    Delivery,
    Deployment,
    DeploymentRun,
    DutyWeek,
    Finding,
    FindingGroup,
    OutboxMessage,
    OutgoingWebhook,
    ProcessStep,
    ProcessStepChange,
    ProcessStepRevision,
    RetroRevision,
    Retrospective,
    RunEvent,
    RunStep,
    RunStepInterval,
    Unit,
    Vote,
)


@admin.register(Unit)
class UnitAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "is_active"]
    list_filter = ["kind", "is_active"]
    filter_horizontal = ["members"]
    search_fields = ["name"]


@admin.register(DutyWeek)
class DutyWeekAdmin(admin.ModelAdmin):
    list_display = ["week_start", "unit", "qa_person", "platform_person"]
    list_filter = ["unit"]
    date_hierarchy = "week_start"


class FindingInline(admin.TabularInline):
    model = Finding
    extra = 0
    raw_id_fields = ["author", "group"]


@admin.register(Retrospective)
class RetrospectiveAdmin(admin.ModelAdmin):
    list_display = ["duty_week", "status", "pain_rating", "facilitator"]
    list_filter = ["status"]
    inlines = [FindingInline]
    filter_horizontal = ["attendees"]


@admin.register(Finding)
class FindingAdmin(admin.ModelAdmin):
    list_display = ["text", "kind", "outcome", "retro"]
    list_filter = ["kind", "outcome"]
    search_fields = ["text"]


@admin.register(FindingGroup)
class FindingGroupAdmin(admin.ModelAdmin):
    list_display = ["title", "retro", "created_by"]
    raw_id_fields = ["retro", "created_by"]
    search_fields = ["title"]


@admin.register(Vote)
class VoteAdmin(admin.ModelAdmin):
    list_display = ["retro", "voter", "finding", "group", "created_at"]
    raw_id_fields = ["retro", "voter", "finding", "group"]


@admin.register(Deployment)
class DeploymentAdmin(admin.ModelAdmin):
    list_display = ["started_at", "environment", "result", "elapsed_minutes", "trigger"]
    list_filter = ["environment", "result", "trigger"]
    date_hierarchy = "started_at"
    search_fields = ["version", "external_id"]
    # Deployment.save derives these from the start and finish times.
    readonly_fields = ["duty_week", "elapsed_minutes", "created_at"]
    list_select_related = ["duty_week"]


class ProcessStepChangeInline(admin.TabularInline):
    model = ProcessStepChange
    extra = 0


@admin.register(ProcessStep)
class ProcessStepAdmin(admin.ModelAdmin):
    list_display = ["position", "title", "mode", "minutes", "unit"]
    list_editable = ["mode"]
    inlines = [ProcessStepChangeInline]

    def save_model(
        self, request: HttpRequest, obj: ProcessStep, form: forms.ModelForm, change: bool
    ) -> None:
        """A mode changed here is recorded in the step's history like one changed in the app."""
        if not change or "mode" not in form.changed_data:
            super().save_model(request, obj, form, change)
            return
        new_mode, obj.mode = obj.mode, form.initial["mode"]
        super().save_model(request, obj, form, change)
        user = request.user if request.user.is_authenticated else None
        obj.change_mode(new_mode, user=user, note="Changed in the admin")


@admin.register(RetroRevision)
class RetroRevisionAdmin(admin.ModelAdmin):
    list_display = ["retro", "user", "at"]


class ApiTokenForm(forms.ModelForm):
    """Scopes as checkboxes; at least one, so no token is issued that can do nothing."""

    scopes = forms.MultipleChoiceField(
        choices=ApiToken.Scope.choices,
        widget=forms.CheckboxSelectMultiple,
        help_text="Card writes act as the token's user, with that user's rights on the board.",
    )

    class Meta:
        model = ApiToken
        fields = ["name", "user", "scopes", "revoked_at"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.initial["scopes"] = self.instance.scope_list if self.instance.pk else []

    def clean_scopes(self) -> str:
        return " ".join(self.cleaned_data["scopes"])


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    form = ApiTokenForm
    list_display = ["name", "prefix", "user", "scopes", "created_at", "last_used_at", "revoked_at"]
    readonly_fields = ["prefix", "created_at", "last_used_at"]
    fields = ["name", "user", "scopes", "prefix", "created_at", "last_used_at", "revoked_at"]
    actions = ["revoke"]

    def save_model(
        self, request: HttpRequest, obj: ApiToken, form: forms.ModelForm, change: bool
    ) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        token, key = ApiToken.issue(obj.name, user=obj.user, scopes=obj.scopes.split())
        obj.pk, obj.prefix, obj.key_hash = token.pk, token.prefix, token.key_hash
        obj.created_at = token.created_at
        messages.warning(request, f"Copy the token now, it is not shown again: {key}")

    @admin.action(description="Revoke the selected tokens")
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiToken]) -> None:
        from django.utils import timezone

        queryset.filter(revoked_at__isnull=True).update(revoked_at=timezone.now())


# Deployment runs: their state changes go through the run page (model methods that keep the
# intervals, events and deployment right), so the admin shows them read-only.


class RunStepInline(admin.TabularInline):
    model = RunStep
    extra = 0
    can_delete = False
    readonly_fields = [
        "position",
        "title",
        "mode",
        "state",
        "acted_by",
        "acted_at",
        "hands_on_seconds",
        "waiting_seconds",
        "blocked_seconds",
        "blocks",
        "restarts_caused",
    ]
    fields = [*readonly_fields]

    def has_add_permission(self, request: HttpRequest, obj: DeploymentRun | None = None) -> bool:
        return False


@admin.register(DeploymentRun)
class DeploymentRunAdmin(admin.ModelAdmin):
    list_display = ["__str__", "state", "result", "duty_week", "started_by", "started_at"]
    list_filter = ["state", "environment"]
    search_fields = ["version", "pipeline_id"]
    readonly_fields = [
        "duty_week",
        "state",
        "result",
        "restarts",
        "started_at",
        "finished_at",
        "started_by",
        "ended_by",
        "revision",
        "deployment",
    ]
    fields = ["environment", "version", "pipeline_id", "abort_reason", *readonly_fields]
    inlines = [RunStepInline]


@admin.register(RunEvent)
class RunEventAdmin(admin.ModelAdmin):
    list_display = ["run", "kind", "step", "actor", "at"]
    list_filter = ["kind"]
    readonly_fields = ["run", "step", "kind", "actor", "at", "text"]


@admin.register(RunStepInterval)
class RunStepIntervalAdmin(admin.ModelAdmin):
    list_display = ["step", "kind", "started_at", "ended_at"]
    readonly_fields = ["step", "kind", "started_at", "ended_at", "started_by", "ended_by"]


@admin.register(ProcessStepRevision)
class ProcessStepRevisionAdmin(admin.ModelAdmin):
    list_display = ["step", "author", "at", "run"]
    readonly_fields = ["step", "author", "at", "run"]


@admin.register(ChatWebhook)
class ChatWebhookAdmin(admin.ModelAdmin):
    list_display = ["__str__", "kind", "is_active", "created_at"]
    list_filter = ["kind", "is_active"]


@admin.register(OutgoingWebhook)
class OutgoingWebhookAdmin(admin.ModelAdmin):
    list_display = ["name", "url", "topics", "is_active"]


@admin.register(OutboxMessage)
class OutboxMessageAdmin(admin.ModelAdmin):
    list_display = ["topic", "unit", "created_at", "fanned_out_at"]
    list_filter = ["topic"]
    readonly_fields = [field.name for field in OutboxMessage._meta.fields]


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    list_display = ["id", "message", "attempts", "next_attempt_at", "sent_at", "gave_up_at"]
    list_filter = [
        ("sent_at", admin.EmptyFieldListFilter),
        ("gave_up_at", admin.EmptyFieldListFilter),
    ]
    readonly_fields = [field.name for field in Delivery._meta.fields]
    actions = ["retry_now"]

    @admin.action(description="Try the selected deliveries again now")
    def retry_now(self, request: HttpRequest, queryset: QuerySet[Delivery]) -> None:
        from django.utils import timezone

        count = queryset.filter(sent_at__isnull=True).update(
            gave_up_at=None, next_attempt_at=timezone.now()
        )
        messages.success(request, f"{count} deliveries will be tried again within seconds.")
