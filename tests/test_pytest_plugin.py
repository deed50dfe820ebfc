"""The pytest plugin through pytester: switched off, switched on each way, its reports."""

from __future__ import annotations

import json
import textwrap
import xml.etree.ElementTree as ElementTree

import pytest

# In-process pytester runs forget modules first imported during a run, and numpy cannot
# be imported twice in one process: load the engine before any run.
import mcgrade.grading  # noqa: F401

SET = """
title: Neuron
symbols:
  n: {dimension: true, sizes: [2, 3]}
  x: {shape: [n, 1]}
  w: {shape: [n, 1]}
  b: {}
problems:
  - id: dz_dw
    points: 2
    derivative: {of: "w.T @ x + b", wrt: w}
    partial_credit: {transposed: 0.5}
  - id: dz_db
    derivative: {of: "w.T @ x + b", wrt: b}
  - id: d2
    derivative: {of: "b**2", wrt: b}
"""

SUBMISSION = """
dz_dw = "x"          # transposed: half credit
dz_db = 1
d2 = "2*b"
"""

TRANSPOSED = ("1/2 points: transposed\n"
              "This is the transpose of the expected answer: in numerator layout the "
              "derivative of a scalar by an n×1 vector is a 1×n row (at n = 2 that is 1×2), "
              "and you gave a 2×1 column.")


@pytest.fixture
def course(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makefile(".yaml", hw1=textwrap.dedent(SET))
    pytester.makepyfile(alice=textwrap.dedent(SUBMISSION))
    return pytester


def test_switched_off_it_collects_no_yaml(course: pytest.Pytester) -> None:
    course.makepyfile(test_plain="def test_one():\n    assert True\n")
    result = course.runpytest("-q")
    result.assert_outcomes(passed=1)


def test_switched_off_it_never_imports_sympy(course: pytest.Pytester) -> None:
    course.makepyfile(test_imports="""
        import sys
        def test_no_engine():
            assert "sympy" not in sys.modules and "numpy" not in sys.modules
    """)
    result = course.runpytest_subprocess("-q", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)


def test_disabled_with_no_mcgrade(course: pytest.Pytester) -> None:
    course.makepyfile(test_plain="def test_one():\n    assert True\n")
    result = course.runpytest("-p", "no:mcgrade", "-q")
    result.assert_outcomes(passed=1)
    result = course.runpytest("-p", "no:mcgrade", "--mcgrade-submission", "alice.py")
    assert result.ret == pytest.ExitCode.USAGE_ERROR


def test_one_item_per_problem_with_feedback_and_score(course: pytest.Pytester) -> None:
    result = course.runpytest("--mcgrade-submission", "alice.py", "hw1.yaml")
    result.assert_outcomes(passed=2, failed=1)
    out = result.stdout.str()
    assert TRANSPOSED in out
    assert "Traceback" not in out and "mcgrade/" not in out
    result.stdout.fnmatch_lines([
        "*= mcgrade =*",
        "hw1.yaml::dz_dw  1/2  partial (transposed)",
        "hw1.yaml::dz_db  1/1  correct",
        "hw1.yaml::d2     1/1  correct",
        "mcgrade: 3/4 points",
        "mcgrade: the submission ran in the * sandbox",
        "FAILED hw1.yaml::dz_dw - 1/2 points: transposed",
    ])


def test_a_nested_grading_run_leaves_the_collector_alone(course: pytest.Pytester) -> None:
    """A grading run sets its live objects aside from the garbage collector as its process
    ends (``pytest_unconfigure``); a run nested in this one (pytester) must not."""
    import gc
    before = gc.get_freeze_count()
    for _ in range(2):       # as a script or an IDE calling pytest.main again and again
        course.runpytest("--mcgrade-submission", "alice.py", "hw1.yaml").assert_outcomes(
            passed=2, failed=1)
    assert gc.get_freeze_count() == before


def test_node_ids_and_selection(course: pytest.Pytester) -> None:
    result = course.runpytest("--mcgrade-submission", "alice.py", "hw1.yaml",
                              "--collect-only", "-q")
    result.stdout.fnmatch_lines(["hw1.yaml::dz_dw", "hw1.yaml::dz_db", "hw1.yaml::d2"])
    result = course.runpytest("--mcgrade-submission", "alice.py", "hw1.yaml", "-k", "d2")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["mcgrade: 1/1 points"])
    result = course.runpytest("--mcgrade-submission", "alice.py", "hw1.yaml", "-x")
    result.assert_outcomes(failed=1)
    result = course.runpytest("--mcgrade-submission", "alice.py", "hw1.yaml::dz_db")
    result.assert_outcomes(passed=1)


def test_switched_on_by_pyproject(course: pytest.Pytester) -> None:
    course.makepyprojecttoml("""
        [tool.pytest.ini_options]
        mcgrade_problems = ["hw1.yaml"]
        mcgrade_submission = "alice.py"
    """)
    result = course.runpytest()
    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines(["mcgrade: 3/4 points"])


def test_switched_on_by_environment(course: pytest.Pytester,
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MCGRADE_SUBMISSION", "alice.py")
    monkeypatch.setenv("MCGRADE_PROBLEMS", "hw1.yaml")
    result = course.runpytest()
    result.assert_outcomes(passed=2, failed=1)


def test_command_line_beats_environment_beats_ini(course: pytest.Pytester,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    course.makepyfile(perfect='dz_dw = "x.T"\ndz_db = 1\nd2 = "2*b"\n')
    course.makepyprojecttoml("""
        [tool.pytest.ini_options]
        mcgrade_problems = ["hw1.yaml"]
        mcgrade_submission = "alice.py"
    """)
    monkeypatch.setenv("MCGRADE_SUBMISSION", "perfect.py")
    course.runpytest().assert_outcomes(passed=3)
    course.runpytest("--mcgrade-submission", "alice.py").assert_outcomes(passed=2, failed=1)


def test_a_bad_setting_says_where_it_came_from(course: pytest.Pytester,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    result = course.runpytest("--mcgrade-submission", "alice.py", "hw1.yaml",
                              "--mcgrade-sandbox", "docker")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*mcgrade: --mcgrade-sandbox: sandbox 'docker' is not one "
                                 "of auto, bwrap, process, subprocess"])
    course.makepyprojecttoml("""
        [tool.pytest.ini_options]
        mcgrade_problems = ["hw1.yaml"]
        mcgrade_submission = "bob.py"
    """)
    result = course.runpytest()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*mcgrade: mcgrade_submission in *pyproject.toml: "
                                 "submission */bob.py does not exist"])
    monkeypatch.setenv("MCGRADE_SANDBOX", "vm")
    result = course.runpytest("--mcgrade-submission", "alice.py", "hw1.yaml")
    result.stderr.fnmatch_lines(["*mcgrade: the environment variable MCGRADE_SANDBOX: "
                                 "sandbox 'vm' is not one of auto, bwrap, process, subprocess"])


def test_submission_without_problem_set_is_a_usage_error(course: pytest.Pytester) -> None:
    result = course.runpytest("--mcgrade-submission", "alice.py")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--mcgrade-submission names a submission but no problem "
                                 "set is given*"])


def test_a_broken_problem_set_is_one_collection_error(course: pytest.Pytester) -> None:
    course.makefile(".yaml", hw1=textwrap.dedent(SET).replace("wrt: b}", "wrt: v}", 1))
    result = course.runpytest("--mcgrade-submission", "alice.py", "hw1.yaml")
    assert result.ret == pytest.ExitCode.INTERRUPTED
    assert ("hw1.yaml:13: problems[1] (id='dz_db') → derivative → wrt: 'v' is not a "
            "declared symbol; declared: x, w, b") in result.stdout.str()
    assert "Traceback" not in result.stdout.str()


def test_scores_travel_to_junit_xml(course: pytest.Pytester) -> None:
    course.runpytest("--mcgrade-submission", "alice.py", "hw1.yaml", "--junitxml=out.xml")
    tree = ElementTree.parse(course.path / "out.xml")
    properties = {case.get("name"): {p.get("name"): p.get("value")
                                     for p in case.iter("property")}
                  for case in tree.iter("testcase")}
    assert properties["dz_dw"]["mcgrade_score"] == "1.0"
    assert properties["dz_dw"]["mcgrade_max_score"] == "2.0"
    assert properties["d2"]["mcgrade_score"] == "1.0"


def test_scores_travel_through_xdist(course: pytest.Pytester) -> None:
    pytest.importorskip("xdist")
    result = course.runpytest("--mcgrade-submission", "alice.py", "hw1.yaml", "-n", "2",
                              "--mcgrade-json", "grades.json")
    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines(["mcgrade: 3/4 points"])
    record = json.loads((course.path / "grades.json").read_text())
    assert (record["score"], record["max_score"]) == (3, 4)


def test_json_and_gradescope_outputs(course: pytest.Pytester) -> None:
    course.runpytest("--mcgrade-submission", "alice.py", "hw1.yaml",
                     "--mcgrade-json", "out/grades.json",
                     "--mcgrade-gradescope", "out/results.json")
    record = json.loads((course.path / "out" / "grades.json").read_text())
    assert list(record) == ["submission", "problem_set", "score", "max_score", "sandbox",
                            "problems"]
    assert record["sandbox"] == "bwrap" or record["sandbox"].startswith("process")
    assert [p["id"] for p in record["problems"]] == ["dz_dw", "dz_db", "d2"]
    results = json.loads((course.path / "out" / "results.json").read_text())
    assert results["score"] == 3
    assert [(t["name"], t["score"], t["max_score"], t["status"]) for t in results["tests"]] \
        == [("dz_dw", 1, 2, "failed"), ("dz_db", 1, 1, "passed"), ("d2", 1, 1, "passed")]


def test_gradescope_file_is_valid_when_grading_could_not_run(course: pytest.Pytester) -> None:
    course.makefile(".yaml", hw1="title: [unclosed\n")
    course.runpytest("--mcgrade-submission", "alice.py", "hw1.yaml",
                     "--mcgrade-gradescope", "results.json")
    results = json.loads((course.path / "results.json").read_text())
    assert results["score"] == 0 and results["tests"] == []
    assert results["output"].startswith("mcgrade could not grade this submission")


def test_answers_fixture_gives_plain_data(course: pytest.Pytester) -> None:
    course.makepyfile(test_extra="""
        def test_answers(mcgrade_answers):
            assert mcgrade_answers["dz_dw"] == "x"
            assert mcgrade_answers["dz_db"] == 1
    """)
    result = course.runpytest("--mcgrade-submission", "alice.py", "hw1.yaml",
                              "test_extra.py")
    result.assert_outcomes(passed=3, failed=1)


def test_a_bare_pytest_grades_the_notebook(course: pytest.Pytester) -> None:
    import nbformat
    cells = [nbformat.v4.new_markdown_cell("# Homework 1"),
             nbformat.v4.new_code_cell('dz_dw = "x"'),
             nbformat.v4.new_code_cell("dz_db = 1\nd2 = '2*b'")]
    nbformat.write(nbformat.v4.new_notebook(cells=cells), str(course.path / "hw1.ipynb"))
    course.makepyprojecttoml("""
        [tool.pytest.ini_options]
        mcgrade_problems = ["hw1.yaml"]
        mcgrade_submission = "hw1.ipynb"
    """)
    result = course.runpytest()
    result.assert_outcomes(passed=2, failed=1)
    assert TRANSPOSED in result.stdout.str()
    result.stdout.fnmatch_lines(["mcgrade: 3/4 points"])


def test_a_student_copy_says_local_checks(course: pytest.Pytester) -> None:
    from mcgrade.cli import main
    assert main(["publish", str(course.path / "hw1.yaml"), "-o",
                 str(course.path / "student")]) == 0
    result = course.runpytest("--mcgrade-submission", "alice.py", "student/hw1.yaml")
    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines(["mcgrade: 3/4 points (local checks: your instructor grades "
                                 "again, with other sample points)"])
