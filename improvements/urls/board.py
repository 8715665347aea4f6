"""The board's URLs: the board, its columns, moves and each card's page."""

from django.urls import path

from ..views import board, cards, columns

app_name = "board"

urlpatterns = [
    path("board/", board.board, name="board"),
    path("board/categories.css", board.category_css, name="category_css"),
    path("board/columns/", columns.column_settings, name="column_settings"),
    path("board/columns/<int:pk>/add/", board.column_add_card, name="column_add_card"),
    path("board/cards/<int:pk>/move/", board.card_move, name="card_move"),
    path("improvements/<int:pk>/", cards.improvement_detail, name="improvement_detail"),
    path("improvements/<int:pk>/edit/", cards.improvement_edit, name="improvement_edit"),
    path("improvements/<int:pk>/comment/", cards.improvement_comment, name="improvement_comment"),
    path("improvements/<int:pk>/archive/", cards.improvement_archive, name="improvement_archive"),
    path("improvements/<int:pk>/drop/", cards.improvement_drop, name="improvement_drop"),
]
