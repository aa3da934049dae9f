from django.contrib import admin

from profiles.models import Profile, WorkloadProfile


@admin.register(Profile)
class ProfileAdmin(admin.ModelAdmin):
    list_display = ["name", "is_builtin", "version", "updated_at"]
    readonly_fields = ["is_builtin", "version"]


@admin.register(WorkloadProfile)
class WorkloadProfileAdmin(admin.ModelAdmin):
    list_display = ["workload", "profile", "updated_at"]
