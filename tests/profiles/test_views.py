"""The profile pages: staff write profiles, everyone logged in reads them, a workload's writers
choose its profile and answer it."""

import json

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from profiles.models import Profile, WorkloadProfile
from tests.profiles.conftest import QUESTIONS, use


def editor_data(**changes) -> dict:
    return {
        "name": "Clinic systems",
        "description": "For the clinic.",
        "questions": json.dumps(QUESTIONS),
        "format": "json",
        **changes,
    }


def test_staff_create_a_profile_in_the_editor(client, builtin_lens, admin_user):
    client.force_login(admin_user)

    response = client.post(reverse("profiles:create"), editor_data())

    profile = Profile.objects.get()
    assert response.url == reverse("profiles:detail", args=[profile.pk])
    assert profile.questions[0]["choices"][0]["prioritises"][0]["question"] == "sec2"
    assert profile.owner == admin_user


def test_the_editor_names_the_place_of_each_problem_and_saves_nothing(
    client, builtin_lens, admin_user
):
    client.force_login(admin_user)
    questions = json.loads(json.dumps(QUESTIONS))
    questions[1]["choices"][0]["prioritises"][0]["question"] = "ops42"

    response = client.post(reverse("profiles:create"), editor_data(questions=json.dumps(questions)))

    assert response.status_code == 200
    page = response.content.decode()
    assert "Not saved: nothing was changed." in page
    assert (
        "questions[1].choices[0].prioritises[0].question: no question &#x27;ops42&#x27; in the "
        "lens &#x27;wellarchitected&#x27;"
    ) in page
    assert not Profile.objects.exists()


def test_the_editor_refuses_text_that_is_not_json(client, builtin_lens, admin_user):
    client.force_login(admin_user)

    response = client.post(reverse("profiles:create"), editor_data(questions="[{"))

    assert "Not valid JSON" in response.content.decode()
    assert not Profile.objects.exists()


def test_the_editor_refuses_a_name_another_profile_has(client, profile, admin_user):
    client.force_login(admin_user)

    response = client.post(reverse("profiles:create"), editor_data(name="clinic systems"))

    assert "A profile with this name exists already." in response.content.decode()
    assert Profile.objects.count() == 1


def test_staff_edit_a_profile(client, profile, admin_user):
    client.force_login(admin_user)
    assert (
        "Clinic systems" in client.get(reverse("profiles:edit", args=[profile.pk])).content.decode()
    )

    client.post(reverse("profiles:edit", args=[profile.pk]), editor_data(name="Clinic"))

    profile.refresh_from_db()
    assert profile.name == "Clinic"


def test_anyone_logged_in_reads_and_exports_a_profile(client, profile, carol):
    client.force_login(carol)

    page = client.get(reverse("profiles:detail", args=[profile.pk])).content.decode()
    download = client.get(reverse("profiles:export", args=[profile.pk]))

    assert "Regulated data" in page and "sec2" in page
    assert "Edit" not in page.split("</h1>")[1].split("</div>")[1]
    assert download["Content-Type"] == "application/json"
    assert json.loads(download.content)["questions"] == profile.questions


def test_a_profile_name_is_escaped(client, builtin_lens, admin_user):
    client.force_login(admin_user)
    client.post(reverse("profiles:create"), editor_data(name="<script>x</script>"))

    page = client.get(reverse("profiles:list")).content.decode()

    assert "<script>x</script>" not in page
    assert "&lt;script&gt;x&lt;/script&gt;" in page


def test_importing_a_wrong_file_lists_its_problems_and_creates_nothing(
    client, builtin_lens, admin_user
):
    client.force_login(admin_user)
    upload = SimpleUploadedFile("p.json", b'{"name": "Ab", "questions": [{"id": "a b"}]}')

    response = client.post(reverse("profiles:import"), {"file": upload})

    page = response.content.decode()
    assert "The file was not imported" in page
    assert "name: must be 3 characters or more" in page
    assert "questions[0].id: must be 1–64 letters" in page
    assert not Profile.objects.exists()


def test_an_exported_profile_imports_through_the_page(client, profile, admin_user):
    client.force_login(admin_user)
    exported = client.get(reverse("profiles:export", args=[profile.pk])).content
    profile.delete()

    response = client.post(
        reverse("profiles:import"), {"file": SimpleUploadedFile("p.json", exported)}
    )

    imported = Profile.objects.get()
    assert response.url == reverse("profiles:detail", args=[imported.pk])
    assert imported.questions == QUESTIONS


def workload_profile_url(workload):
    return reverse("profiles:workload_profile", args=[workload.public_id])


def test_a_writer_attaches_a_profile_answering_its_questions(client, workload, profile, bob):
    client.force_login(bob)
    form = client.get(workload_profile_url(workload), {"profile": profile.pk}).content.decode()
    assert "Which data does it hold?" in form and 'type="radio"' in form

    response = client.post(
        workload_profile_url(workload),
        {
            "profile": profile.pk,
            "q_data": "regulated",
            "q_users": ["staff", "customers"],
            "follows_pillar_order": "on",
        },
    )

    assert response.status_code == 302
    use_row = WorkloadProfile.objects.get(workload=workload)
    assert use_row.answers == {"data": ["regulated"], "users": ["staff", "customers"]}
    workload.refresh_from_db()
    assert workload.pillar_priorities[:2] == ["security", "reliability"]


def test_the_answers_given_show_when_the_page_comes_back(client, workload, profile, alice):
    use(workload, profile, alice, users=["customers"])
    client.force_login(alice)

    page = client.get(workload_profile_url(workload)).content.decode()

    assert "In use:" in page
    assert 'value="customers" id="id_q_users_1" checked' in page


def test_a_reader_sees_the_profile_but_no_form(client, workload, profile, alice, carol):
    use(workload, profile, alice, data=["public"])
    client.force_login(carol)

    page = client.get(workload_profile_url(workload), {"profile": profile.pk}).content.decode()

    assert "Public data only" in page
    assert "profile-answers" not in page
    assert client.post(workload_profile_url(workload), {"remove": "1"}).status_code == 403


def test_an_unknown_choice_posted_is_refused_and_changes_nothing(client, workload, profile, bob):
    client.force_login(bob)

    response = client.post(workload_profile_url(workload), {"profile": profile.pk, "q_data": "x"})

    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert not WorkloadProfile.objects.exists()


def test_a_writer_stops_using_the_profile(client, workload, profile, alice, bob):
    use(workload, profile, alice, data=["public"])
    client.force_login(bob)

    client.post(workload_profile_url(workload), {"remove": "1"})

    assert not WorkloadProfile.objects.exists()


def test_staff_delete_a_profile_but_not_a_built_in_one(client, profile, builtin_profiles, stan):
    client.force_login(stan)

    client.post(reverse("profiles:delete", args=[builtin_profiles[0].pk]))
    client.post(reverse("profiles:delete", args=[profile.pk]))

    assert set(Profile.objects.values_list("is_builtin", flat=True)) == {True}
    assert Profile.objects.count() == 5


def fields(**changes) -> dict:
    """The row editor's fields for one question of two choices (and the blank rows)."""
    data = {
        "name": "Shop",
        "description": "For the shop.",
        "q-0-present": "1",
        "q-0-id": "peaks",
        "q-0-title": "How uneven is the traffic?",
        "q-0-selectionType": "SINGLE",
        "q-0-c-0-present": "1",
        "q-0-c-0-id": "spiky",
        "q-0-c-0-title": "Spiky",
        "q-0-c-0-prioritises": "rel1, perf2 wellarchitected/cost6",
        "q-0-c-0-pillars": "reliability, performance",
        "q-0-c-1-present": "1",
        "q-0-c-1-id": "steady",
        "q-0-c-1-title": "Steady",
        "q-0-c-2-present": "1",  # a blank row
        "q-1-present": "1",  # the blank question
        "q-1-c-0-present": "1",
    }
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


def test_staff_write_a_profile_in_the_row_editor(client, builtin_lens, admin_user):
    client.force_login(admin_user)

    response = client.post(reverse("profiles:create"), fields())

    profile = Profile.objects.get()
    assert response.url == reverse("profiles:detail", args=[profile.pk])
    [question] = profile.questions
    assert [c["id"] for c in question["choices"]] == ["spiky", "steady"]
    assert question["choices"][0]["prioritises"] == [
        {"lens": "wellarchitected", "question": q} for q in ("rel1", "perf2", "cost6")
    ]
    assert question["choices"][0]["pillarOrder"] == ["reliability", "performance"]


def test_the_row_editor_shows_a_profile_with_blank_rows_to_fill_in(client, profile, admin_user):
    client.force_login(admin_user)

    page = client.get(reverse("profiles:edit", args=[profile.pk])).content.decode()

    assert 'value="sec2, rel6"' in page
    assert 'value="security, reliability"' in page
    assert "New question" in page
    assert 'name="q-2-present"' in page and 'name="q-3-present"' not in page


def test_the_row_editor_names_rows_as_people_see_them_and_keeps_what_was_typed(
    client, builtin_lens, admin_user
):
    client.force_login(admin_user)

    response = client.post(
        reverse("profiles:create"),
        fields(**{"q-0-c-1-title": "", "q-0-c-0-prioritises": "rel1, sec99"}),
    )

    page = response.content.decode()
    assert "Question 1, choice 2, title: is required" in page
    assert (
        "Question 1, choice 1, prioritises[1].question: no question &#x27;sec99&#x27; in the "
        "lens &#x27;wellarchitected&#x27;"
    ) in page
    assert 'value="rel1, sec99"' in page
    assert not Profile.objects.exists()


def test_a_choice_ticked_remove_is_left_out(client, profile, admin_user):
    client.force_login(admin_user)
    page = client.get(reverse("profiles:edit", args=[profile.pk]))
    assert page.status_code == 200

    client.post(
        reverse("profiles:edit", args=[profile.pk]),
        fields(name="Clinic systems", **{"q-0-c-1-remove": "1"}),
    )

    profile.refresh_from_db()
    assert [c["id"] for c in profile.questions[0]["choices"]] == ["spiky"]
