"""A small Kubernetes: nodes, pods, volumes with their real lifecycles."""
