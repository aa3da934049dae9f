from django.urls import path

from people.views import staff, teams

app_name = "people"

urlpatterns = [
    path("", staff.people, name="people"),
    path("invite/", staff.invite, name="invite"),
    path(
        "invitations/<int:invitation_id>/resend/", staff.invitation_resend, name="invitation_resend"
    ),
    path(
        "invitations/<int:invitation_id>/revoke/", staff.invitation_revoke, name="invitation_revoke"
    ),
    path("users/<int:user_id>/", staff.person, name="person"),
    path("users/<int:user_id>/deactivate/", staff.deactivate, name="deactivate"),
    path("users/<int:user_id>/reactivate/", staff.reactivate, name="reactivate"),
    path("users/<int:user_id>/staff/", staff.staff_flag, name="staff_flag"),
    path("users/<int:user_id>/viewer/", staff.viewer_flag, name="viewer_flag"),
    path("users/<int:user_id>/hand-over/", staff.hand_over, name="hand_over"),
    path("teams/", teams.teams, name="teams"),
    path("teams/<int:team_id>/", teams.team, name="team"),
    path("teams/<int:team_id>/delete/", teams.team_delete, name="team_delete"),
    path("teams/<int:team_id>/members/", teams.member_add, name="member_add"),
    path(
        "teams/<int:team_id>/members/<int:user_id>/remove/",
        teams.member_remove,
        name="member_remove",
    ),
    path("log/", staff.log, name="log"),
]
