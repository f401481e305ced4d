"""The capstone exercise of notebook 05: make the reports service read-only.

:func:`workload_exercise` gives the starting manifest and the ``docker diff``
of a real run of the service; :func:`check_workload_exercise` checks a
learner's manifest with ``rosim check`` and answers with one ``PASS`` or
``FAIL`` line and a hint. Any text a learner can type gets an answer, never
a traceback.

>>> manifest, diff = workload_exercise()
>>> print(check_workload_exercise(manifest).splitlines()[1])
Hint: add securityContext: {readOnlyRootFilesystem: true} to the container.
"""

from __future__ import annotations

from typing import Any

from rosim._errors import RosimError

__all__ = ["CAPSTONE_MANIFEST", "EXERCISE_DIFF", "EXERCISE_MANIFEST", "capstone_manifest",
           "check_workload_exercise", "workload_exercise"]

CAPSTONE_MANIFEST = """\
# The shop: an nginx front end and a Python worker that stores orders.
apiVersion: apps/v1
kind: Deployment
metadata:
  name: shop   # the Service selects pods by this name
spec:
  replicas: 1
  selector:
    matchLabels: {app: shop}
  template:
    metadata:
      labels: {app: shop}
    spec:
      containers:
        - name: web
          image: nginx:1.25   # the official image
          ports:
            - containerPort: 80
        - name: worker
          image: shop/worker:1.4   # Python 3.12, the app in /app
          env:
            - {name: ORDERS, value: /app/data/orders.csv}
---
apiVersion: v1
kind: Service
metadata:
  name: shop
spec:
  selector: {app: shop}
  ports:
    - port: 80
"""

EXERCISE_MANIFEST = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: reports   # renders monthly reports from the orders database
spec:
  selector: {matchLabels: {app: reports}}
  template:
    metadata: {labels: {app: reports}}
    spec:
      containers:
        - name: reports
          image: shop/reports:2.0   # Python 3.12, the app in /app
          args: ["--month", "2024-01"]
"""

#: ``docker diff`` of one real run of the reports service.
EXERCISE_DIFF = """\
C /app
A /app/reports
A /app/reports/2024-01.pdf
C /tmp
A /tmp/render-2024-01.html
C /var
C /var/log
A /var/log/reports.log
"""

_HINTS = {
    "RO001": "Hint: add securityContext: {readOnlyRootFilesystem: true} to the container.",
    "RO002": "Hint: run as a non-root user: securityContext runAsNonRoot: true and "
             "runAsUser: 1000 (/dev is writable and executable for root).",
    "RO003": "Hint: give that directory a volume (volumeMounts + volumes). Which kind? "
             "Temporary files: an emptyDir; logs: an emptyDir (or stdout); reports that "
             "must be kept: a persistentVolumeClaim.",
    "RO004": "Hint: an emptyDir is deleted with the pod; data that must survive a "
             "reschedule needs a persistentVolumeClaim.",
    "RO005": "Hint: give every emptyDir a sizeLimit (or the container a "
             "resources.limits.ephemeral-storage), so nothing fills the node's disk.",
    "RO006": "Hint: a hostPath stays on one node; use an emptyDir or a "
             "persistentVolumeClaim.",
    "RO007": "Hint: that mount hides files of the image; mount a directory the app "
             "creates, not one the image ships.",
    "RO008": "Hint: remove privileged: true.",
}


def capstone_manifest() -> str:
    """The shop of notebook 05: an nginx Deployment with a Python worker, and its Service."""
    return CAPSTONE_MANIFEST


def workload_exercise() -> tuple[str, str]:
    """The exercise's starting manifest and the ``docker diff`` of a real run."""
    return EXERCISE_MANIFEST, EXERCISE_DIFF


def check_workload_exercise(manifest: Any) -> str:
    """Check a learner's manifest for the reports service: ``PASS`` or ``FAIL`` + hint.

    PASS needs no finding at all from ``rosim check`` (with the run's diff as
    the write source), and a proof in which every write works with the
    read-only root, the reports survive a reschedule and no pod is evicted.
    """
    from rosim.check.engine import check_manifests
    from rosim.check.manifests import load_workloads

    if not isinstance(manifest, str) or not manifest.strip():
        return ("FAIL: the answer must be the manifest as YAML text (a str).\n"
                "Hint: start from the manifest printed above and edit it.")
    try:
        workloads = load_workloads(manifest, source="manifest").workloads
    except RosimError as exc:
        return f"FAIL: {exc}\nHint: check the indentation: YAML nests by spaces."
    pods = [w for w in workloads if w.name == "reports"]
    containers = [c for w in pods for c in w.pod["containers"] if c.get("name") == "reports"]
    if len(pods) != 1 or len(containers) != 1 or containers[0].get("image") != \
            "shop/reports:2.0":
        return ("FAIL: the manifest must still run the workload 'reports' with its "
                "container 'reports' (image shop/reports:2.0).\n"
                "Hint: change the pod around the app, not the app.")
    try:
        report = check_manifests({"manifest": manifest}, diffs={"reports": EXERCISE_DIFF})
    except RosimError as exc:
        return f"FAIL: {exc}\nHint: every volumeMount needs a volume of the same name."
    if report.findings:
        first = report.findings[0]
        more = len(report.findings) - 1
        rest = f" ({more} more finding(s) after this one)" if more else ""
        return f"FAIL: {first.rule}: {first.message}{rest}\n{_HINTS[first.rule]}"
    proof = report.proofs[0]
    for outcome in proof.outcomes:
        if outcome.after_fix != "OK":
            return (f"FAIL: writing {outcome.path} gives {outcome.after_fix}.\n"
                    "Hint: a volume mounted readOnly cannot take the app's writes.")
        if outcome.kept_after_fix is False:
            return (f"FAIL: {outcome.path} is lost when the pod is rescheduled.\n"
                    + _HINTS["RO004"])
    if proof.evicted:
        return f"FAIL: the kubelet evicted {proof.evicted}.\n" + _HINTS["RO005"]
    return ("PASS: no finding; every write works on the read-only root, the reports "
            "survive a reschedule, and the pod stays inside its ephemeral-storage budget.")
