import logging
import re

from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

RESET_LINK = re.compile(r"http://testserver/accounts/reset/[^/\s]+/[^/\s]+/")


def test_without_mail_password_reset_is_neither_offered_nor_served(client, alice, no_mail):
    assert "Forgot your password" not in client.get(reverse("login")).content.decode()

    assert client.get(reverse("password_reset")).status_code == 404
    assert client.post(reverse("password_reset"), {"email": "alice@example.com"}).status_code == 404
    assert client.get(reverse("password_reset_done")).status_code == 404


def test_a_reset_mailed_through_smtp_sets_a_new_password(client, alice, smtp_server):
    assert reverse("password_reset") in client.get(reverse("login")).content.decode()

    response = client.post(reverse("password_reset"), {"email": "alice@example.com"})

    assert response.url == reverse("password_reset_done")
    [mail] = smtp_server.messages
    link = RESET_LINK.search(mail.get_body().get_content()).group(0)
    form = client.get(link, follow=True)
    assert form.status_code == 200 and "new_password1" in form.content.decode()
    done = client.post(
        form.redirect_chain[-1][0],
        {"new_password1": "fresh-pass-42", "new_password2": "fresh-pass-42"},
    )
    assert done.url == reverse("password_reset_complete")
    assert User.objects.get(pk=alice.pk).check_password("fresh-pass-42")


def test_a_known_address_with_the_mail_server_down_logs_one_line_and_answers_the_same(
    client, alice, smtp_down, caplog
):
    with caplog.at_level(logging.INFO):
        known = client.post(reverse("password_reset"), {"email": "alice@example.com"})
        unknown = client.post(reverse("password_reset"), {"email": "nobody@example.com"})

    assert known.status_code == unknown.status_code == 302
    assert known.url == unknown.url == reverse("password_reset_done")
    failures = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(failures) == 1
    assert failures[0].exc_info is None and "password reset" in failures[0].getMessage()
    page = client.get(reverse("password_reset_done")).content.decode()
    assert "If the address belongs to an account" in page


def test_resets_for_one_address_are_capped_at_five_an_hour(client, alice, smtp_server):
    for _ in range(7):
        response = Client().post(reverse("password_reset"), {"email": "alice@example.com"})
        assert response.url == reverse("password_reset_done")

    assert len(smtp_server.messages) == 5


def test_resets_in_all_are_capped_per_hour(client, alice, bob, smtp_server, settings):
    settings.PASSWORD_RESET_PER_HOUR = 3
    for name in ("alice", "bob", "alice", "bob"):
        client.post(reverse("password_reset"), {"email": f"{name}@example.com"})

    assert len(smtp_server.messages) == 3
