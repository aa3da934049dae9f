import re

import pytest
from django.core.management import CommandError, call_command

from api.keys import api_key_create, key_secret
from api.models import ApiKey
from reviews.errors import DomainError, Kind


def test_create_api_key_prints_an_id_and_a_secret_that_sign_requests(
    alice, workload, signed, capsys
):
    call_command("create_api_key", "alice")
    out = capsys.readouterr().out.splitlines()
    assert re.fullmatch(r"AWS_ACCESS_KEY_ID=AKAL[A-Z2-7]{16}", out[0])
    assert re.fullmatch(r"AWS_SECRET_ACCESS_KEY=[A-Za-z0-9+/]{40}", out[1])
    key = ApiKey.objects.get(access_key_id=out[0].split("=", 1)[1])
    assert key_secret(key) == out[1].split("=", 1)[1]


def test_the_secret_is_not_stored(alice):
    issued = api_key_create(user=alice)
    row = ApiKey.objects.filter(pk=issued.key.pk).values().get()
    assert issued.secret not in str(row)


def test_a_changed_server_secret_invalidates_keys(alice, settings):
    issued = api_key_create(user=alice)
    settings.SECRET_KEY = "another-secret-key-for-this-test-only-0123456789"
    assert key_secret(issued.key) != issued.secret


def test_a_third_active_key_is_refused(alice):
    api_key_create(user=alice)
    api_key_create(user=alice)
    with pytest.raises(DomainError) as raised:
        api_key_create(user=alice)
    assert raised.value.kind is Kind.QUOTA
    assert ApiKey.objects.filter(user=alice).count() == 2


def test_create_api_key_names_an_unknown_user(db):
    with pytest.raises(CommandError, match="No user named"):
        call_command("create_api_key", "nobody")


def test_create_api_key_refuses_a_deactivated_user(alice):
    alice.is_active = False
    alice.save()
    with pytest.raises(CommandError, match="deactivated"):
        call_command("create_api_key", "alice")
    assert not ApiKey.objects.exists()
