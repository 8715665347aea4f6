"""The improvements app's views, one module per domain."""
