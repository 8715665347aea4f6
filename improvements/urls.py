from django.urls import path

from . import views

urlpatterns = [
    path("board/", views.board, name="board"),
    path("board/categories.css", views.category_css, name="category_css"),
    path("board/cards/<int:pk>/move/", views.card_move, name="card_move"),
    path("improvements/<int:pk>/", views.improvement_detail, name="improvement_detail"),
    path("retros/<int:pk>/triage/", views.retro_triage, name="retro_triage"),
    path("findings/<int:pk>/promote/", views.finding_promote, name="finding_promote"),
    path("dashboard/", views.dashboard, name="dashboard"),
]
