"""Runtimes, containers and running code inside them."""
