"""``rosim check``: make your own workload read-only.

Linters say "set ``readOnlyRootFilesystem: true``"; this package says what
breaks when you do, which volumes the app needs, and proves the fix in a
simulated cluster. Modules, in the order a check runs:

* :mod:`~rosim.check.manifests` — workloads and their pod templates;
* :mod:`~rosim.check.sources` — where each container writes (``docker
  diff``, Python code run in rosim, an image tar) and
  :mod:`~rosim.check.catalogue` — common images' write paths with sources;
* :mod:`~rosim.check.fix` — the mounts each path needs, written back into
  the user's YAML;
* :mod:`~rosim.check.rules` — rule ids and their linter equivalents;
* :mod:`~rosim.check.proof` — before/after in a simulated cluster;
* :mod:`~rosim.check.report`, :mod:`~rosim.check.sarif` — text, JSON, SARIF.

:func:`~rosim.check.engine.check_manifests` ties them together.
"""
