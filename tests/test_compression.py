"""Pages go out gzipped, and the CSRF token in them changes with every response (BREACH)."""

import gzip
import re

from django.urls import reverse

from tests.factories import ImprovementFactory


def test_a_page_is_gzipped_for_a_browser_that_accepts_it(owner_client):
    ImprovementFactory(title="Compressed card")
    response = owner_client.get(reverse("board:board"), headers={"Accept-Encoding": "gzip, br"})
    assert response["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in response["Vary"]
    assert "Compressed card" in gzip.decompress(response.content).decode()


def test_a_client_that_does_not_accept_gzip_gets_plain_html(owner_client):
    response = owner_client.get(reverse("board:board"))
    assert not response.has_header("Content-Encoding")
    assert b"<!doctype html>" in response.content


def test_the_csrf_token_in_a_page_differs_in_every_response(owner_client):
    tokens = set()
    for _ in range(3):
        page = owner_client.get(reverse("board:board")).content.decode()
        tokens.add(re.search(r'"X-CSRFToken": "([^"]+)"', page).group(1))
    assert len(tokens) == 3
