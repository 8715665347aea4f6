"""The retros app's views, one module per domain; each `urls/<domain>.py` routes to them."""
