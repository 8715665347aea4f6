"""Every text the app stores, made one long unbroken word, still fits the window.

A pasted URL, a stack-trace line or a runaway key press has no space to wrap at; before this
test a long comment or an audit-log value pushed the card and retro pages 46 000 px wide.
"""

import io

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import models
from django.test import Client

from improvements.models import Improvement

from .conftest import LAPTOP, PHONE
from .page_sweep import main_pages, open_context, visit

# The outermost elements that reach past the window's right edge, when the page scrolls sideways.
WIDEST = """() => {
  const width = document.documentElement.clientWidth;
  if (document.documentElement.scrollWidth <= width) return null;
  const scrolls = el => el && el !== document.body && (
    getComputedStyle(el).overflowX !== "visible" || scrolls(el.parentElement));
  const wide = el => el.getBoundingClientRect().right > width + 1 && !scrolls(el.parentElement);
  const name = el => `${el.tagName.toLowerCase()}.${el.className}`;
  const all = Array.from(document.body.querySelectorAll("*")).filter(wide);
  const outer = all.filter(el => !wide(el.parentElement))
    .map(el => `${name(el.parentElement.parentElement)} > ${name(el.parentElement)} > ${name(el)}`);
  const inner = all.filter(el => !Array.from(el.children).some(wide)).map(name);
  return [...new Set([...outer.slice(0, 3), "...", ...inner.slice(0, 3)])];
}"""
SKIPPED_NAMES = (
    "password",
    "token",
    "secret",
    "key",
    "hash",
    "slug",
    "sha",
    "url",
    "email",
    "colour",
)


def text_fields(model):
    for field in model._meta.concrete_fields:
        if not isinstance(field, (models.CharField, models.TextField)):
            continue
        if field.choices or isinstance(field, (models.SlugField, models.EmailField)):
            continue
        if any(part in field.name for part in SKIPPED_NAMES) or field.name == "username":
            continue
        yield field


def make_every_text_one_long_word() -> int:
    """Fill every free-text field of every row with a word as long as the field allows."""
    changed = 0
    for config in ("retros", "improvements"):
        for model in apps.get_app_config(config).get_models():
            fields = list(text_fields(model))
            for row in model.objects.all():
                for field in fields:
                    length = min(field.max_length or 600, 600)
                    setattr(row, field.attname, f"{row.pk}{'W' * length}"[:length])
                    changed += 1
                if fields:
                    row.save(update_fields=[field.attname for field in fields])
    user_model = get_user_model()
    for user in user_model.objects.all():
        user.first_name = "N" * 150
        user.last_name = "L" * 150
        user.save(update_fields=["first_name", "last_name"])
    return changed


@pytest.fixture
def demo_with_long_words(transactional_db):
    call_command("seed_demo", force=True, stdout=io.StringIO())
    demo = get_user_model().objects.get(username="demo")
    add_long_comment(demo)
    assert make_every_text_one_long_word() > 400
    return demo


def add_long_comment(user):
    """A comment on the first card, which main_pages() opens."""
    client = Client()
    client.force_login(user)
    card = Improvement.objects.filter(archived_at__isnull=True).order_by("pk").first()
    response = client.post(f"/improvements/{card.pk}/comment/", {"body": "C" * 3000})
    assert response.status_code in (200, 302)


@pytest.mark.parametrize("viewport", [LAPTOP, PHONE], ids=["laptop", "phone"])
def test_long_unbroken_words_never_widen_a_page(
    browser, live_server, demo_with_long_words, viewport
):
    pages = main_pages()
    context, session = open_context(browser, live_server, demo_with_long_words, viewport)
    problems, sideways = [], {}
    try:
        for name, path in pages.items():
            page = visit(context, session, live_server, name, path, problems)
            widest = page.evaluate(WIDEST)
            if widest:
                sideways[name] = widest
            page.close()
    finally:
        context.close()
    assert len(pages) >= 13  # test_every_page.main_pages() grows with the app
    assert not sideways, f"Pages wider than the {viewport['width']} px window: {sideways}"
    assert not problems, "The browser reported errors:\n" + "\n".join(problems)
