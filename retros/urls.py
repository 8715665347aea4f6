from django.urls import path

from . import views

urlpatterns = [
    path("retros/", views.retro_list, name="retro_list"),
    path("retros/start/", views.retro_start, name="retro_start"),
    path("retros/<int:pk>/", views.retro_detail, name="retro_detail"),
    path("retros/<int:pk>/findings/", views.finding_add, name="finding_add"),
    path("retros/<int:pk>/submit/", views.retro_submit, name="retro_submit"),
    path("findings/<int:pk>/delete/", views.finding_delete, name="finding_delete"),
]
