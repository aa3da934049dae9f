import pytest
from django.urls import reverse

from api.identifiers import account_id
from api.keys import api_key_create, key_secret
from api.models import ApiKey

URL = "/account/api-keys/"


def test_the_page_is_where_the_account_page_links_to():
    assert reverse("api:account_keys") == URL


def test_it_requires_login(client):
    response = client.get(URL)
    assert response.status_code == 302 and response.url.startswith(reverse("login"))


def test_it_lists_only_the_users_own_keys_with_their_state(client, alice, bob):
    mine = api_key_create(user=alice).key
    revoked = api_key_create(user=alice).key
    ApiKey.objects.filter(pk=revoked.pk).update(revoked_at=mine.created_at)
    theirs = api_key_create(user=bob).key
    client.force_login(alice)

    page = client.get(URL).content.decode()
    assert mine.access_key_id in page and revoked.access_key_id in page
    assert theirs.access_key_id not in page
    assert "Never" in page and "Revoked" in page and "Active" in page
    assert f"Your account id is <code>{account_id(alice.pk)}</code>" in page
    assert key_secret(mine) not in page  # a secret is shown once, when it is created


def test_creating_a_key_shows_its_secret_once_with_the_lines_to_paste(client, alice):
    client.force_login(alice)
    response = client.post(URL, {"action": "create"})
    assert response.status_code == 200
    assert response["Cache-Control"] == "private, no-store"
    key = ApiKey.objects.get(user=alice)
    page = response.content.decode()
    assert f"AWS_ACCESS_KEY_ID={key.access_key_id}\nAWS_SECRET_ACCESS_KEY={key_secret(key)}" in page
    assert "AWS_ENDPOINT_URL_WELLARCHITECTED=http://testserver/aws" in page
    assert key_secret(key) not in client.get(URL).content.decode()


def test_a_third_active_key_is_refused_with_a_message(client, alice):
    client.force_login(alice)
    client.post(URL, {"action": "create"})
    client.post(URL, {"action": "create"})
    page = client.post(URL, {"action": "create"}).content.decode()
    assert "revoke one before creating another" in page
    assert "Create a key</button>" not in page
    assert ApiKey.objects.active().filter(user=alice).count() == 2


def test_revoking_a_key_stops_it_and_frees_a_place(client, alice):
    issued = [api_key_create(user=alice) for _ in range(2)]
    client.force_login(alice)
    page = client.post(URL, {"action": "revoke", "key": issued[0].key.access_key_id}).content
    assert b"is revoked" in page and b"Create a key</button>" in page
    assert list(ApiKey.objects.active().filter(user=alice)) == [issued[1].key]


def test_nobody_revokes_someone_elses_key(client, alice, mallory):
    theirs = api_key_create(user=alice).key
    client.force_login(mallory)
    page = client.post(URL, {"action": "revoke", "key": theirs.access_key_id}).content.decode()
    assert "No such active key." in page
    assert ApiKey.objects.active().filter(pk=theirs.pk).exists()


def test_a_post_without_an_action_changes_nothing(client, alice):
    client.force_login(alice)
    response = client.post(URL, {"action": "delete-everything"})
    assert response.status_code == 200 and b"Choose to create a key" in response.content
    assert not ApiKey.objects.exists()


def test_an_htmx_request_gets_the_key_list_partial(client, alice):
    client.force_login(alice)
    response = client.post(URL, {"action": "create"}, headers={"HX-Request": "true"})
    page = response.content.decode()
    assert page.lstrip().startswith('<section class="card api-keys" id="api-keys"')
    assert "<html" not in page and "AWS_SECRET_ACCESS_KEY=" in page


def test_other_methods_are_refused(client, alice):
    client.force_login(alice)
    assert client.delete(URL).status_code == 405


def test_the_partial_can_be_included_by_another_page(rf, alice):
    from django.template import engines

    from api.key_views import keys_context

    api_key_create(user=alice)
    request = rf.get("/account/")
    request.user = alice
    template = engines["django"].from_string('{% include "api/account_keys.html#keys" %}')
    html = template.render(keys_context(request), request)
    assert 'id="api-keys"' in html and "Create a key" in html


pytestmark = pytest.mark.django_db
