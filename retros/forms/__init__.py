"""The retros app's forms, one module per domain, beside the views of that domain."""
