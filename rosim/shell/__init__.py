"""A small POSIX-like shell and the programs it runs inside a container."""
