"""Login throttling beyond the username-and-address pair (config/login_throttle.py)."""

from django.test import Client
from django.urls import reverse

PASSWORD = "pw-for-tests-9"


def login(username: str, address: str, password: str = "wrong-password"):
    return Client(REMOTE_ADDR=address).post(
        reverse("login"), {"username": username, "password": password}
    )


def test_one_username_tried_from_many_addresses_is_locked_everywhere(alice):
    for n in range(19):
        assert login("alice", f"10.0.0.{n}").status_code == 200

    assert login("alice", "10.0.0.19").status_code == 429
    # Even with the right password, from an address that never failed.
    assert login("alice", "192.0.2.50", PASSWORD).status_code == 429


def test_many_usernames_from_one_address_lock_that_address(alice, bob):
    for n in range(29):
        assert login(f"someone{n}", "10.9.9.9").status_code == 200

    assert login("someone29", "10.9.9.9").status_code == 429
    assert login("alice", "10.9.9.9", PASSWORD).status_code == 429
    # Elsewhere, people sign in as usual.
    assert login("bob", "10.0.0.1", PASSWORD).status_code == 302


def test_a_successful_login_does_not_clear_an_address_that_sprays(alice, mallory):
    for n in range(25):
        login(f"someone{n}", "10.9.9.9")

    assert login("mallory", "10.9.9.9", PASSWORD).status_code == 302
    for n in range(4):
        login(f"other{n}", "10.9.9.9")

    assert login("other9", "10.9.9.9").status_code == 429


def test_the_limits_scale_below_the_pair_limit(alice):
    # 10 failures for one username from different addresses lock nothing yet.
    for n in range(10):
        login("alice", f"10.0.1.{n}")

    assert login("alice", "10.0.2.1", PASSWORD).status_code == 302
