"""The improvements app's URLs, one module per domain, each its own namespace (config/urls.py)."""
