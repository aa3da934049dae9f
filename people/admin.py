from django.contrib import admin

from people.models import Invitation, PeopleEvent, Profile, Team, TeamMember

# Daily work happens on the People pages; the admin stays for emergencies.
admin.site.register(Profile)
admin.site.register(Team)
admin.site.register(TeamMember)
admin.site.register(Invitation, list_display=["email", "created_at", "expires_at", "accepted_at"])
admin.site.register(PeopleEvent, list_display=["at", "actor", "action", "target_user"])
