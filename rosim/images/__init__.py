"""The built-in image catalogue."""
