from django.conf import settings
from django.db import models


class Identity(models.Model):
    """A person's account at an OpenID provider, tied to their Archlens user.

    Later sign-ins find the user by the provider's subject, which never changes, rather than by
    email, which can. `team_keys` remembers which teams the last groups claim named, so that a
    group dropped at the provider takes the person out of that team and leaves the teams staff
    added them to by hand alone.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="sso_identities"
    )
    issuer = models.CharField(max_length=255)
    subject = models.CharField(max_length=255)
    team_keys = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_sign_in_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["issuer", "subject"], name="sso_identity_unique")
        ]
        verbose_name_plural = "identities"

    def __str__(self) -> str:
        return f"{self.subject} at {self.issuer}"
