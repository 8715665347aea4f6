"""The improvements app's forms, one module per domain, next to their views' domain."""
