"""403 and 404 pages: in the site's layout, with a way back, and logged as one line."""

import logging

from django.urls import reverse


def test_a_forbidden_page_has_the_site_layout_the_reason_and_a_way_back(client, workload, carol):
    client.force_login(carol)

    response = client.get(reverse("reviews:workload_edit", args=[workload.public_id]))

    body = response.content.decode()
    assert response.status_code == 403
    assert 'class="topbar"' in body and "Log out" in body
    assert "You can read this workload but not change it." in body
    assert f'href="{reverse("reviews:workload_list")}">Back to your workloads' in body


def test_a_missing_page_has_the_site_layout_and_a_way_back(client, workload, mallory):
    client.force_login(mallory)

    response = client.get(reverse("reviews:workload_detail", args=[workload.public_id]))

    body = response.content.decode()
    assert response.status_code == 404
    assert 'class="topbar"' in body
    assert "No such workload." in body
    assert "Back to your workloads" in body


def test_an_unknown_address_says_nothing_of_the_url_patterns(client, alice):
    client.force_login(alice)

    response = client.get("/no/such/page/")

    body = response.content.decode()
    assert response.status_code == 404
    assert "There is nothing at this address." in body
    assert "tried" not in body and "workloads/&lt;str" not in body


def test_a_missing_page_works_for_someone_not_logged_in(client, db):
    response = client.get("/no/such/page/")

    assert response.status_code == 404
    assert "Back to your workloads" in response.content.decode()


def test_an_expected_403_is_logged_as_one_line_without_a_traceback(client, workload, carol, caplog):
    client.force_login(carol)

    with caplog.at_level(logging.INFO):
        response = client.get(reverse("reviews:workload_edit", args=[workload.public_id]))

    assert response.status_code == 403
    [record] = caplog.records
    assert record.name == "archlens.requests"
    assert record.exc_info is None
    assert " 403 " in record.getMessage()


def test_an_expected_404_is_logged_as_one_line_without_a_traceback(
    client, workload, mallory, caplog
):
    client.force_login(mallory)

    with caplog.at_level(logging.INFO):
        client.get(reverse("reviews:workload_detail", args=[workload.public_id]))

    [record] = caplog.records
    assert record.name == "archlens.requests" and record.exc_info is None
