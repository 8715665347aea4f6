"""A real OpenID Connect provider for the single sign-on tests: django-oauth-toolkit in its own
Django project, started on loopback in a separate process by tests/test_sso.py."""
