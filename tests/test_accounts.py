import pytest
from django.contrib.auth.models import User
from django.urls import reverse


@pytest.mark.django_db
def test_the_login_page_sends_the_first_visitor_to_set_up(client):
    response = client.get(reverse("login"))

    assert response.status_code == 302
    assert response.url == reverse("first_run")


@pytest.mark.django_db
def test_set_up_creates_the_first_administrator_and_logs_them_in(client):
    response = client.post(
        reverse("first_run"),
        {
            "username": "ada",
            "email": "",
            "password1": "a-long-pass-42",
            "password2": "a-long-pass-42",
        },
    )

    assert response.status_code == 302
    assert response.url == reverse("people:people")  # where the administrator invites others
    ada = User.objects.get()
    assert ada.username == "ada"
    assert ada.is_staff and ada.is_superuser
    assert client.get(reverse("lenses:catalogue")).status_code == 200


@pytest.mark.django_db
def test_set_up_rejects_a_weak_password_and_creates_nobody(client):
    response = client.post(
        reverse("first_run"),
        {"username": "ada", "email": "", "password1": "123", "password2": "123"},
    )

    assert response.status_code == 200
    assert "too short" in response.content.decode()
    assert not User.objects.exists()


def test_set_up_is_closed_once_someone_has_an_account(client, alice):
    assert client.get(reverse("first_run")).url == reverse("login")
    response = client.post(
        reverse("first_run"),
        {"username": "eve", "password1": "a-long-pass-42", "password2": "a-long-pass-42"},
    )

    assert response.status_code == 302
    assert not User.objects.filter(username="eve").exists()


def test_the_login_page_shows_a_form_once_users_exist(client, alice):
    response = client.get(reverse("login"))

    assert response.status_code == 200
    assert 'name="password"' in response.content.decode()


def test_a_user_logs_in_and_out(client, alice):
    response = client.post(reverse("login"), {"username": "alice", "password": "pw-for-tests-9"})
    assert response.status_code == 302

    response = client.post(reverse("logout"))

    assert response.status_code == 302
    assert client.get(reverse("lenses:catalogue")).status_code == 302


def test_the_home_page_requires_login(client, alice):
    response = client.get(reverse("home"))

    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))
