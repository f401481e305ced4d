"""The file system model: image layers, the overlay, mounts and the kernel."""
