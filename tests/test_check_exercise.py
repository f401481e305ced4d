"""The capstone exercise: its check passes the solution and answers every wrong try."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

import rosim

MANIFEST, DIFF = rosim.workload_exercise()
SOLUTION = MANIFEST + """\
          securityContext:
            readOnlyRootFilesystem: true
            runAsNonRoot: true
            runAsUser: 1000
          volumeMounts:
            - {name: reports, mountPath: /app/reports}
            - {name: tmp, mountPath: /tmp}
            - {name: logs, mountPath: /var/log}
      volumes:
        - name: reports
          persistentVolumeClaim: {claimName: reports}
        - name: tmp
          emptyDir: {sizeLimit: 64Mi}
        - name: logs
          emptyDir: {sizeLimit: 64Mi}
"""


def test_solution_passes():
    """The notebook's solution passes."""
    assert rosim.check_workload_exercise(SOLUTION).startswith("PASS: no finding")


def test_starting_manifest_fails_with_the_first_hint():
    """The unsolved manifest fails on RO001 with the readOnlyRootFilesystem hint."""
    answer = rosim.check_workload_exercise(MANIFEST)
    assert answer.startswith("FAIL: RO001")
    assert "Hint: add securityContext: {readOnlyRootFilesystem: true}" in answer


def test_wrong_answers_get_hints():
    """Each typical mistake gets a FAIL line and a hint that points at it."""
    cases = {
        SOLUTION.replace("persistentVolumeClaim: {claimName: reports}",
                         "emptyDir: {sizeLimit: 1Gi}"): "RO004",
        SOLUTION.replace("            - {name: tmp, mountPath: /tmp}\n", ""): "RO003",
        SOLUTION.replace("emptyDir: {sizeLimit: 64Mi}", "emptyDir: {}"): "RO005",
        SOLUTION.replace("            runAsNonRoot: true\n            runAsUser: 1000\n",
                         ""): "RO002",
        SOLUTION.replace("{name: tmp, mountPath: /tmp}",
                         "{name: tmp, mountPath: /tmp, readOnly: true}"): "gives EROFS",
        SOLUTION.replace("name: logs, mountPath", "name: log, mountPath"):
            "is not a volume of the pod",
        SOLUTION.replace("image: shop/reports:2.0", "image: busybox"): "must still run",
        "kind: [": "not valid YAML",
        "": "must be the manifest",
    }
    for answer, expected in cases.items():
        result = rosim.check_workload_exercise(answer)
        assert result.startswith("FAIL: "), result
        assert expected in result, (expected, result)
        assert "\nHint: " in result


@settings(max_examples=60, deadline=None)
@given(st.one_of(st.text(max_size=200), st.integers(), st.none(),
                 st.lists(st.text(max_size=5), max_size=3)))
def test_any_answer_gets_an_answer_never_a_traceback(answer):
    """Whatever a learner types, the check answers with PASS or FAIL."""
    assert rosim.check_workload_exercise(answer).startswith(("PASS", "FAIL"))
