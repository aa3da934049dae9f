"""System checks of our own, run by every management command that checks (migrate, check)."""

from pathlib import Path

from django.conf import settings
from django.core.checks import Error, register
from django.core.exceptions import ImproperlyConfigured


def missing_static_manifest() -> Path | None:
    """The static files manifest, when DEBUG is off and collectstatic has not written it."""
    if settings.DEBUG:
        return None  # runserver serves static files from their folders
    manifest = Path(settings.STATIC_ROOT) / "staticfiles.json"
    return None if manifest.exists() else manifest


def require_collected_static() -> None:
    """Refuse to serve with DEBUG=0 before collectstatic: every page would lack CSS and JS."""
    manifest = missing_static_manifest()
    if manifest is not None:
        raise ImproperlyConfigured(
            f"Static files are not collected ({manifest} is missing). "
            "Run: python manage.py collectstatic --no-input"
        )


@register()
def static_files_collected(app_configs=None, **kwargs) -> list[Error]:
    manifest = missing_static_manifest()
    if manifest is None:
        return []
    return [
        Error(
            f"Static files are not collected ({manifest} is missing): with DEBUG=0 pages would "
            "have no CSS or JavaScript.",
            hint="Run: python manage.py collectstatic --no-input (make serve does).",
            id="archlens.E001",
        )
    ]
