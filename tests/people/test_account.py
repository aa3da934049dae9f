import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from api.keys import api_key_create
from people.models import UserSession
from people.selectors import browser_of

PASSWORD = "pw-for-tests-9"


def signed_in(username="alice", password=PASSWORD, **extra) -> Client:
    browser = Client(**extra)
    response = browser.post(reverse("login"), {"username": username, "password": password})
    assert response.status_code == 302
    return browser


def test_the_account_page_changes_name_and_email(alice):
    browser = signed_in()

    response = browser.post(
        reverse("account:account"),
        {"account-first_name": "Alice", "account-last_name": "Archer", "account-email": "a@x.org"},
    )

    assert response.status_code == 302
    alice.refresh_from_db()
    assert (alice.get_full_name(), alice.email) == ("Alice Archer", "a@x.org")


def test_an_email_another_account_uses_is_refused(alice, bob):
    browser = signed_in()

    response = browser.post(
        reverse("account:account"),
        {"account-first_name": "", "account-last_name": "", "account-email": "BOB@example.com"},
    )

    assert response.status_code == 200
    assert "Another account uses that email address." in response.content.decode()
    alice.refresh_from_db()
    assert alice.email == "alice@example.com"


def test_a_password_change_keeps_this_session_and_ends_the_others(alice):
    here, elsewhere = signed_in(), signed_in()

    response = here.post(
        reverse("account:password"),
        {
            "old_password": PASSWORD,
            "new_password1": "new-pass-for-7",
            "new_password2": "new-pass-for-7",
        },
    )

    assert response.status_code == 302
    assert here.get(reverse("account:account")).status_code == 200
    assert elsewhere.get(reverse("account:account")).status_code == 302
    assert UserSession.objects.filter(user=alice).count() == 1
    assert User.objects.get(pk=alice.pk).check_password("new-pass-for-7")


def test_a_wrong_old_password_changes_nothing(alice):
    here = signed_in()

    response = here.post(
        reverse("account:password"),
        {
            "old_password": "nope",
            "new_password1": "new-pass-for-7",
            "new_password2": "new-pass-for-7",
        },
    )

    assert response.status_code == 200
    assert "old password was entered incorrectly" in response.content.decode()
    assert User.objects.get(pk=alice.pk).check_password(PASSWORD)


def test_sign_out_everywhere_ends_every_other_session(alice, bob):
    here = signed_in(HTTP_USER_AGENT="Firefox here")
    elsewhere = signed_in(HTTP_USER_AGENT="Chromium elsewhere", REMOTE_ADDR="10.1.2.3")
    bobs = signed_in("bob")
    page = here.get(reverse("account:account")).content.decode()
    assert "Chromium elsewhere" in page and "10.1.2.3" in page

    response = here.post(reverse("account:sessions_end"), follow=True)

    assert "Signed out of 1 other session." in response.content.decode()
    assert here.get(reverse("account:account")).status_code == 200
    assert elsewhere.get(reverse("account:account")).status_code == 302
    assert bobs.get(reverse("account:account")).status_code == 200


def test_a_single_sign_on_account_has_no_password_form(client, alice):
    alice.set_unusable_password()
    alice.save()
    client.force_login(alice)

    page = client.get(reverse("account:account")).content.decode()

    assert "old_password" not in page and "single sign-on" in page
    assert client.post(reverse("account:password"), {}).status_code == 403


def test_the_account_page_lists_the_api_keys_and_creates_one_in_place(client, alice):
    issued = api_key_create(user=alice)
    client.force_login(alice)

    page = client.get(reverse("account:account")).content.decode()
    assert 'id="api-keys"' in page and issued.key.access_key_id in page
    assert issued.secret not in page
    created = client.post(
        reverse("api:account_keys"), {"action": "create"}, headers={"HX-Request": "true"}
    )
    assert "AWS_SECRET_ACCESS_KEY=" in created.content.decode()
    assert alice.api_keys.count() == 2


def test_the_old_password_change_address_leads_to_the_account_page(client, alice):
    client.force_login(alice)

    response = client.get(reverse("password_change"))

    assert response.status_code == 302 and response.url == reverse("account:account")


@pytest.mark.parametrize(
    ("user_agent", "shown"),
    [
        (
            "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
            "Firefox on Linux",
        ),
        (
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/126.0 Safari/537.36 Edg/126.0",
            "Edge on Windows",
        ),
        (
            "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
            "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
            "Safari on iOS",
        ),
        ("curl/8.5.0", "Unknown browser"),
    ],
)
def test_sessions_name_their_browser_in_short(user_agent, shown):
    assert browser_of(user_agent) == shown
