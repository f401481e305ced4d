"""A simulated CRI-O server and crictl, configured with real files."""
