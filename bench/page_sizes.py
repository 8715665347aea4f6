"""Page height and HTML bytes of every main page at laptop and phone width, for before/after notes.

Runs against a server that is already up with demo data (`make run`, or `manage.py runserver` on
a database filled by `manage.py seed_demo`), in Debian's headless Chromium through Playwright:

    .venv/bin/python bench/page_sizes.py --url http://127.0.0.1:8000 --out /tmp/sizes.json
    .venv/bin/python bench/page_sizes.py --url ... --screenshots /tmp/shots   # and a PNG per page

Height is the document's scroll height after load; "sideways" is how many pixels the page is
wider than the window (0 is right). Bytes are the HTML as the server sends it without
compression ("raw") and gzipped at level 6 as GZipMiddleware would send it ("gzip").
"""

import argparse
import gzip
import json
import re
import sys
from pathlib import Path

WIDTHS = {"1280": {"width": 1280, "height": 800}, "390": {"width": 390, "height": 844}}
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"]


def first_link(html: str, pattern: str) -> str | None:
    match = re.search(pattern, html)
    return match.group(0) if match else None


def main_pages(request) -> dict[str, str]:
    """The main pages by name; the detail pages are the first of their kind the lists link to."""
    pages = {
        "board": "/board/",
        "card detail": None,
        "retro list": "/retros/",
        "retro page": None,
        "triage": None,
        "dashboard": "/dashboard/",
        "deployment log": "/deployments/",
        "deployment detail": None,
        "process map": "/process/",
        "rotation": "/rotation/",
        "units": "/units/",
        "weekly update": "/updates/",
    }
    board = request.get("/board/").text()
    pages["card detail"] = first_link(board, r"/improvements/\d+/")
    retros = request.get("/retros/").text()
    retro = first_link(retros, r"/retros/\d+/(?!triage)")
    pages["retro page"] = retro
    pages["triage"] = f"{retro}triage/" if retro else None
    deployments = request.get("/deployments/").text()
    pages["deployment detail"] = first_link(deployments, r"/deployments/\d+/")
    return pages


def measure(page, request, path: str, shot: Path | None) -> dict:
    response = page.goto(path, wait_until="networkidle")
    # Let lazy panels (htmx `load` triggers) and charts settle.
    page.wait_for_timeout(500)
    height, sideways = page.evaluate(
        "[document.documentElement.scrollHeight,"
        " document.documentElement.scrollWidth - window.innerWidth]"
    )
    body = request.get(path, headers={"Accept-Encoding": "identity"}).body()
    if shot is not None:
        page.screenshot(path=str(shot), full_page=True)
    cards = body.count(b'class="board-card')
    return {
        "cards": cards,
        "bytes per card": round(len(body) / cards) if cards else None,
        "status": response.status if response else None,
        "height": height,
        "sideways": sideways,
        "raw": len(body),
        "gzip": len(gzip.compress(body, compresslevel=6)),
    }


def run(url: str, username: str, password: str, screenshots: Path | None) -> dict:
    from playwright.sync_api import sync_playwright

    results: dict = {}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS
        )
        for width, viewport in WIDTHS.items():
            context = browser.new_context(viewport=viewport, base_url=url)
            page = context.new_page()
            page.goto("/accounts/login/")
            page.fill("input[name=username]", username)
            page.fill("input[name=password]", password)
            page.click("form [type=submit]")
            page.wait_for_load_state()
            request = context.request
            pages = {"login": None, **main_pages(request)}
            for name, path in pages.items():
                shot = (
                    screenshots / f"{name.replace(' ', '-')}-{width}.png" if screenshots else None
                )
                if name == "login":
                    # Measured in a fresh context: a logged-in user is sent on from the login page.
                    anonymous = browser.new_context(viewport=viewport, base_url=url)
                    figures = measure(
                        anonymous.new_page(), anonymous.request, "/accounts/login/", shot
                    )
                    anonymous.close()
                elif path is None:
                    figures = {"missing": True}
                else:
                    figures = measure(page, request, path, shot)
                figures["path"] = path or "/accounts/login/"
                results.setdefault(name, {})[width] = figures
            context.close()
        browser.close()
    return results


def table(results: dict) -> str:
    lines = [
        "| Page | 1280 height | 390 height | 390 sideways | HTML raw | HTML gzip |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, by_width in results.items():
        wide, narrow = by_width.get("1280", {}), by_width.get("390", {})
        if wide.get("missing"):
            lines.append(f"| {name} | missing | | | | |")
            continue
        lines.append(
            f"| {name} | {wide['height']:,} | {narrow['height']:,} | {narrow['sideways']} "
            f"| {wide['raw']:,} | {wide['gzip']:,} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("--username", default="demo")
    parser.add_argument("--password", default="demo")
    parser.add_argument("--out", type=Path, help="write the figures as JSON here")
    parser.add_argument("--screenshots", type=Path, help="save a full-page PNG per page here")
    args = parser.parse_args(argv)
    if args.screenshots:
        args.screenshots.mkdir(parents=True, exist_ok=True)
    results = run(args.url.rstrip("/"), args.username, args.password, args.screenshots)
    if args.out:
        args.out.write_text(json.dumps(results, indent=2))
    print(table(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
