import pytest

from improvements.issue_links import issue_reference
from tests.factories import ImprovementFactory


@pytest.mark.parametrize(
    ("url", "tracker", "key"),
    [
        ("https://acme.atlassian.net/browse/PLAT-123", "jira", "PLAT-123"),
        ("https://jira.acme.example/browse/OPS-7?focusedCommentId=1", "jira", "OPS-7"),
        (
            "https://acme.atlassian.net/jira/software/projects/PLAT/boards/1?selectedIssue=PLAT-9",
            "jira",
            "PLAT-9",
        ),
        ("https://github.com/acme/shop/issues/42", "github", "shop#42"),
        ("https://github.com/acme/shop/pull/7/files", "github", "shop#7"),
        ("https://github.acme.example/team/shop/issues/3", "github", "shop#3"),
        ("https://gitlab.com/acme/platform/shop/-/issues/42", "gitlab", "shop#42"),
        ("https://git.acme.example/acme/shop/-/merge_requests/5", "gitlab", "shop!5"),
        ("https://linear.app/acme/issue/ENG-123/automate-smoke-tests", "linear", "ENG-123"),
    ],
)
def test_it_reads_the_key_a_tracker_url_names(url, tracker, key):
    reference = issue_reference(url)
    assert (reference.tracker, reference.key) == (tracker, key)


@pytest.mark.parametrize(
    "url",
    [
        "",
        "https://example.com/wiki/Deploys",
        "https://github.com/acme/shop",
        "https://github.com/acme/shop/issues/0",
        "javascript:alert(1)",
        "https://[::1",
        "https://linear.app/acme/project/x",
        "https://acme.atlassian.net/browse/",
    ],
)
def test_other_links_name_no_issue(url):
    assert issue_reference(url) is None


def test_the_board_and_the_card_show_the_key_and_link(owner_client, columns):
    card = ImprovementFactory(
        title="Automate smoke", external_link="https://github.com/acme/shop/issues/42"
    )
    board = owner_client.get("/board/").content.decode()
    assert (
        '<a class="issue-key" href="https://github.com/acme/shop/issues/42" '
        'rel="noopener noreferrer" title="GitHub issue">shop#42</a>'
    ) in board
    detail = owner_client.get(card.get_absolute_url()).content.decode()
    assert "GitHub issue" in detail
    assert 'href="https://github.com/acme/shop/issues/42"' in detail
    assert ">shop#42</a>" in detail
