from django.contrib import admin

from lenses.models import Choice, Lens, LensVersion, Pillar, Question, RiskRule


@admin.register(Lens)
class LensAdmin(admin.ModelAdmin):
    list_display = ["name", "alias", "is_builtin", "owner", "updated_at"]
    search_fields = ["name", "alias"]


@admin.register(LensVersion)
class LensVersionAdmin(admin.ModelAdmin):
    list_display = ["lens", "version", "status", "created_at", "published_at"]
    list_filter = ["status"]
    list_select_related = ["lens"]
    readonly_fields = ["source", "digest", "warnings"]


class ReadOnlyAdmin(admin.ModelAdmin):
    """Lens content changes only by importing a new version: published versions are immutable."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Pillar)
class PillarAdmin(ReadOnlyAdmin):
    list_display = ["name", "pillar_id", "lens_version", "order"]
    list_select_related = ["lens_version__lens"]


class ChoiceInline(admin.TabularInline):
    model = Choice
    extra = 0
    can_delete = False
    fields = ["choice_id", "title", "order", "is_none"]


class RiskRuleInline(admin.TabularInline):
    model = RiskRule
    extra = 0
    can_delete = False
    fields = ["condition", "risk", "order"]


@admin.register(Question)
class QuestionAdmin(ReadOnlyAdmin):
    list_display = ["title", "question_id", "pillar"]
    list_select_related = ["pillar"]
    search_fields = ["title", "question_id"]
    inlines = [ChoiceInline, RiskRuleInline]


@admin.register(Choice)
class ChoiceAdmin(ReadOnlyAdmin):
    list_display = ["title", "choice_id", "question", "is_none"]
    list_select_related = ["question"]
    search_fields = ["title", "choice_id"]


@admin.register(RiskRule)
class RiskRuleAdmin(ReadOnlyAdmin):
    list_display = ["question", "condition", "risk", "order"]
    list_select_related = ["question"]
