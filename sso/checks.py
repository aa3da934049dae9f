"""Configuration checks for single sign-on, run by `manage.py check` and at start-up."""

from django.conf import settings
from django.core.checks import Error, Warning, register


@register()
def sso_configured(app_configs=None, **kwargs) -> list:
    problems: list = []
    if settings.OIDC_ISSUER:
        for name, setting in (
            ("OIDC_CLIENT_ID", "OIDC_RP_CLIENT_ID"),
            ("OIDC_CLIENT_SECRET", "OIDC_RP_CLIENT_SECRET"),
        ):
            if not getattr(settings, setting):
                problems.append(
                    Error(
                        f"OIDC_ISSUER is set but {name} is empty: single sign-on cannot work.",
                        hint=f"Set {name} to the value the provider gave for Archlens.",
                        id="archlens.E101",
                    )
                )
    elif not settings.PASSWORD_LOGIN:
        problems.append(
            Warning(
                "PASSWORD_LOGIN=0 without OIDC_ISSUER: there is no other way to log in, so the "
                "password form stays on the login page.",
                hint="Set OIDC_ISSUER, OIDC_CLIENT_ID and OIDC_CLIENT_SECRET, or unset it.",
                id="archlens.W101",
            )
        )
    return problems
