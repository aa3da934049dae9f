"""The API keys page in a browser: create a key, use it from boto3, revoke it."""

import pytest
from django.urls import reverse

from api.models import ApiKey
from tests.browser.test_layout import WIDTHS, look_at

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
boto3 = pytest.importorskip("boto3")


def test_a_user_creates_a_key_uses_it_from_a_script_and_revokes_it(
    workshop, live_server, alice, settings
):
    settings.API_RATE_PER_SECOND = 0
    page = workshop.join(alice, reverse("api:account_keys"))
    page.get_by_text("You have no API keys yet.").wait_for()
    page.get_by_role("button", name="Create a key").click()
    lines = page.locator("#new-key-lines").inner_text().splitlines()
    values = dict(line.split("=", 1) for line in lines)
    assert values["AWS_ENDPOINT_URL_WELLARCHITECTED"] == f"{live_server.url}/aws"
    too_wide = [
        (size["width"], found)
        for size in WIDTHS
        if (found := look_at(page, "api-keys-created", size))["scroll"] > found["inner"]
    ]
    assert not too_wide

    client = boto3.client(
        "wellarchitected",
        endpoint_url=values["AWS_ENDPOINT_URL_WELLARCHITECTED"],
        region_name="us-east-1",
        aws_access_key_id=values["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=values["AWS_SECRET_ACCESS_KEY"],
    )
    assert client.list_workloads()["WorkloadSummaries"] == []

    page.reload()  # the secret is not shown again; the key was used just now
    assert page.locator("#new-key-lines").count() == 0
    row = page.locator(f"#api-key-{values['AWS_ACCESS_KEY_ID']}")
    assert "Never" not in row.inner_text()

    page.once("dialog", lambda dialog: dialog.accept())
    row.get_by_role("button", name="Revoke").click()
    page.get_by_text("is revoked").wait_for()
    for size in WIDTHS:
        look_at(page, "api-keys-revoked", size)
    assert ApiKey.objects.active().count() == 0
    with pytest.raises(client.exceptions.ClientError) as raised:
        client.list_workloads()
    assert raised.value.response["Error"]["Code"] == "UnrecognizedClientException"
    client.close()
    assert not workshop.errors, workshop.errors
