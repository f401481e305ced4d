"""The teaching layer: probes that turn simulations into tables, and figures."""
