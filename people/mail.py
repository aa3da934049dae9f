"""Mail that people pages send: invitations and password resets.

Mail goes through SMTP when EMAIL_HOST is set. Without it nothing leaves the machine (the
console prints it while debugging) and the pages show the invitation link to pass on instead.
A mail server that is down or refuses the message is one line in the log, never an error page:
the invitation stays, and its link is shown.
"""

from __future__ import annotations

import logging
import smtplib
from enum import StrEnum

from django.conf import settings
from django.core.mail import send_mail
from django.template.loader import render_to_string

from people.models import Invitation

log = logging.getLogger("archlens.mail")


class Delivery(StrEnum):
    SENT = "sent"  # handed to the mail server
    NOT_CONFIGURED = "not_configured"  # no EMAIL_HOST: pass the link on by hand
    FAILED = "failed"  # the mail server could not be reached or refused it


def mail_configured() -> bool:
    return bool(settings.EMAIL_HOST)


def deliver(*, subject: str, body: str, to: str, what: str) -> Delivery:
    """Send one plain-text message; `what` names it in the log line if it fails."""
    try:
        send_mail(subject, body, None, [to])
    except (smtplib.SMTPException, OSError) as error:
        log.warning("Could not send %s to %s: %s", what, to, error or type(error).__name__)
        return Delivery.FAILED
    return Delivery.SENT if mail_configured() else Delivery.NOT_CONFIGURED


def invitation_mail_send(*, invitation: Invitation, link: str) -> Delivery:
    context = {"invitation": invitation, "link": link, "inviter": invitation.invited_by}
    return deliver(
        subject="You are invited to Archlens",
        body=render_to_string("people/invitation_mail.txt", context),
        to=invitation.email,
        what="an invitation",
    )
