"""Scenarios: the labs' stories, run in the simulation and returned as result objects."""
