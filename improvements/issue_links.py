"""Issue tracker links on cards: the key a person recognises (PLAT-123, shop#42) from a URL."""

import re
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

JIRA_KEY = re.compile(r"\b([A-Z][A-Z0-9_]{0,30}-[1-9][0-9]{0,9})\b")
GITHUB_PATH = re.compile(r"^/[^/]+/([^/]+)/(issues|pull)/([1-9][0-9]{0,9})(?:/|$)")
GITLAB_PATH = re.compile(
    r"^/(?:[^/]+/)*([^/]+)/-/(issues|merge_requests|work_items)/([1-9][0-9]{0,9})"
)
LINEAR_PATH = re.compile(r"^/[^/]+/issue/([A-Za-z][A-Za-z0-9]{0,30}-[1-9][0-9]{0,9})(?:/|$)")


@dataclass(frozen=True)
class IssueReference:
    tracker: str  # "jira", "github", "gitlab", "linear"
    key: str

    @property
    def label(self) -> str:
        return {"jira": "Jira", "github": "GitHub", "gitlab": "GitLab", "linear": "Linear"}[
            self.tracker
        ]


def issue_reference(url: str) -> IssueReference | None:
    """The tracker and key an issue URL names, or None for any other link.

    GitHub and GitLab are recognised by their path shape (so self-hosted GitLab and GitHub
    Enterprise work too); a pull or merge request is shop#42 or shop!42 as those tools write
    them. Jira is any URL with /browse/KEY-1 or a selectedIssue=KEY-1; Linear is linear.app.
    """
    try:
        parts = urlsplit(url or "")
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    host, path = parts.hostname.lower(), parts.path
    if host == "linear.app" and (match := LINEAR_PATH.match(path)):
        return IssueReference("linear", match[1].upper())
    if match := GITLAB_PATH.match(path):
        mark = "!" if match[2] == "merge_requests" else "#"
        return IssueReference("gitlab", f"{match[1]}{mark}{match[3]}")
    if (host == "github.com" or host.startswith("github.")) and (match := GITHUB_PATH.match(path)):
        return IssueReference("github", f"{match[1]}#{match[3]}")
    if "/browse/" in path and (match := JIRA_KEY.search(path.rsplit("/browse/", 1)[1])):
        return IssueReference("jira", match[1])
    selected = parse_qs(parts.query).get("selectedIssue", [])
    if selected and (match := JIRA_KEY.fullmatch(selected[0])):
        return IssueReference("jira", match[1])
    if "atlassian.net" in host and (match := JIRA_KEY.search(path)):
        return IssueReference("jira", match[1])
    return None
