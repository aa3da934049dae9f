from django.apps import AppConfig


class ReviewTemplatesConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "review_templates"
    verbose_name = "Review templates"
