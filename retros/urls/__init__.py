"""The retros app's URLs, one module per domain, each its own namespace (see config/urls.py)."""
