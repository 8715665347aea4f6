from django.contrib import admin, messages

from .models import (
    ApiToken,
    Deployment,
    DutyWeek,
    Finding,
    FindingGroup,
    ProcessStep,
    ProcessStepChange,
    RetroRevision,
    Retrospective,
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

    def save_model(self, request, obj, form, change):
        """A mode changed here is recorded in the step's history like one changed in the app."""
        if not change or "mode" not in form.changed_data:
            return super().save_model(request, obj, form, change)
        new_mode, obj.mode = obj.mode, form.initial["mode"]
        super().save_model(request, obj, form, change)
        obj.change_mode(new_mode, user=request.user, note="Changed in the admin")
        return None


@admin.register(RetroRevision)
class RetroRevisionAdmin(admin.ModelAdmin):
    list_display = ["retro", "user", "at"]


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ["name", "prefix", "user", "created_at", "last_used_at", "revoked_at"]
    readonly_fields = ["prefix", "created_at", "last_used_at"]
    fields = ["name", "user", "prefix", "created_at", "last_used_at", "revoked_at"]
    actions = ["revoke"]

    def save_model(self, request, obj, form, change):
        if change:
            return super().save_model(request, obj, form, change)
        token, key = ApiToken.issue(obj.name, user=obj.user)
        obj.pk, obj.prefix, obj.key_hash = token.pk, token.prefix, token.key_hash
        obj.created_at = token.created_at
        messages.warning(request, f"Copy the token now, it is not shown again: {key}")
        return None

    @admin.action(description="Revoke the selected tokens")
    def revoke(self, request, queryset):
        from django.utils import timezone

        queryset.filter(revoked_at__isnull=True).update(revoked_at=timezone.now())
