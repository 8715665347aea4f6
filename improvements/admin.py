from django.contrib import admin

from .models import Category, Column, Comment, Event, FindingLink, Improvement


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "colour", "position"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(Column)
class ColumnAdmin(admin.ModelAdmin):
    list_display = ["name", "position", "state", "wip_limit"]


class CommentInline(admin.TabularInline):
    model = Comment
    extra = 0


class FindingLinkInline(admin.TabularInline):
    model = FindingLink
    extra = 0
    raw_id_fields = ["finding"]


@admin.register(Improvement)
class ImprovementAdmin(admin.ModelAdmin):
    list_display = ["title", "category", "column", "unit", "assignee", "effect_verdict"]
    list_filter = ["category", "column", "effect_verdict"]
    search_fields = ["title", "description"]
    raw_id_fields = ["target_step"]
    inlines = [FindingLinkInline, CommentInline]


@admin.register(Event)
class EventAdmin(admin.ModelAdmin):
    list_display = ["improvement", "kind", "actor", "at"]
    list_filter = ["kind"]
    raw_id_fields = ["improvement"]
