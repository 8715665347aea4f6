"""URLs of teams and duty: units and their members, the duty rotation and the calendar feeds."""

from django.urls import path

from ..views import feeds, teams

app_name = "teams"

urlpatterns = [
    path("units/", teams.unit_list, name="unit_list"),
    path("units/new/", teams.unit_create, name="unit_create"),
    path("units/<int:pk>/", teams.unit_detail, name="unit_detail"),
    path("units/<int:pk>/edit/", teams.unit_edit, name="unit_edit"),
    path("units/<int:pk>/members/", teams.unit_member_add, name="unit_member_add"),
    path(
        "units/<int:pk>/members/<int:user_pk>/remove/",
        teams.unit_member_remove,
        name="unit_member_remove",
    ),
    path("units/<int:pk>/feed/renew/", teams.unit_feed_regenerate, name="unit_feed_regenerate"),
    path("rotation/", teams.rotation_page, name="rotation"),
    path("rotation/generate/", teams.rotation_generate, name="rotation_generate"),
    path("rotation/swap/", teams.rotation_swap, name="rotation_swap"),
    path("rotation/weeks/<int:pk>/", teams.duty_week_edit, name="duty_week_edit"),
    path("rotation/feed/renew/", teams.person_feed_regenerate, name="person_feed_regenerate"),
    path("feeds/units/<str:token>.ics", feeds.unit_feed, name="unit_feed"),
    path("feeds/people/<str:token>.ics", feeds.person_feed, name="person_feed"),
]
