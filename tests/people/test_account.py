from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from people.models import UserSession

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


def test_the_account_page_keeps_a_place_for_api_keys(client, alice):
    client.force_login(alice)

    assert "<!-- api keys -->" in client.get(reverse("account:account")).content.decode()


def test_the_old_password_change_address_leads_to_the_account_page(client, alice):
    client.force_login(alice)

    response = client.get(reverse("password_change"))

    assert response.status_code == 302 and response.url == reverse("account:account")
