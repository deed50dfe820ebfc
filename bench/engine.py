"""Benchmark of the checking engine: time per check over the bundled answer corpus.

    python bench/engine.py [--repeat 3]

Loads every bundled problem set once (timing the compile: references at every size,
sample points), then checks every answer of ``tests/corpus/`` — right and wrong — and
prints the median, p99 and maximum time per check, and how the correct verdicts were
settled: proved, exactly checked (mod p), numeric with a certified bound (balls), numeric.
It also times the refusal of absurd input. Checks run in this process, with
no child process: this measures the engine, not the sandbox.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from mcgrade.grading import Grader  # noqa: E402
from mcgrade.model import Answer  # noqa: E402
from mcgrade.problemset import load_problem_set  # noqa: E402
from tests.test_corpus import answer_of, set_path  # noqa: E402


def load_corpus() -> list[tuple[str, dict]]:
    """(problem-set file name, case) for every case of tests/corpus/, read as the corpus
    test reads it."""
    cases = []
    for path in sorted((ROOT / "tests" / "corpus").glob("*.yaml")):
        cases += [(path.name, case)
                  for case in yaml.safe_load(path.read_text(encoding="utf-8")) or []]
    return cases


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


HARD_SET = ROOT / "bench" / "hard.yaml"    # log det X, xᵀX⁻¹x, tr(XᵀAX)… at n = 2, 4, 8

_COMPILE = """
import sys, time
start = time.process_time()
import sympy, numpy
floor = time.process_time() - start
if sys.argv[1] == 'floor':
    print(floor, 0.0); sys.exit()
from mcgrade.problemset import load_problem_set
from mcgrade.engine.compiler import compile_problem_set
begin = time.process_time()
compile_problem_set(load_problem_set(sys.argv[1]))
print(floor, time.process_time() - begin)
"""


def _fresh(path: str, cache: str | None = None) -> tuple[float, float]:
    """CPU seconds of `import sympy, numpy` and of loading and compiling ``path``, in a
    fresh process (nothing warmed by this one), with the compile cache in ``cache`` (None:
    off)."""
    env = {**os.environ, **({"MCGRADE_CACHE_DIR": cache} if cache else {"MCGRADE_CACHE": "0"})}
    if cache:
        env.pop("MCGRADE_CACHE", None)
    done = subprocess.run([sys.executable, "-c", _COMPILE, path], capture_output=True,
                          text=True, check=True, cwd=ROOT, env=env)
    floor, spent = (float(v) for v in done.stdout.split())
    return floor, spent


def compile_in_fresh_processes(set_names: list[str]) -> None:
    """Each set compiled in a fresh process: without the cache (cold), into an empty cache
    (cold, and the entry written), then again from it (cached)."""
    floor = statistics.median(_fresh("floor")[0] for _ in range(3))
    print(f"fresh process: import sympy, numpy {floor:6.3f} s CPU (the floor)")
    print(f"{'CPU s beyond the floor':<38} {'cold':>7} {'+write':>7} {'cached':>7}")
    paths = [(name, str(set_path(name))) for name in set_names] + [
        ("hard set (n<=8)", str(HARD_SET))]
    with tempfile.TemporaryDirectory() as tmp:
        for name, path in paths:
            cold = _fresh(path)[1]
            written = _fresh(path, tmp)[1]
            cached = _fresh(path, tmp)[1]
            print(f"fresh compile {name:<24} {cold:7.3f} {written:7.3f} {cached:7.3f}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3,
                        help="times each answer is checked; its median time counts")
    args = parser.parse_args()
    os.environ["MCGRADE_CACHE"] = "0"     # in this process: compiles as a first run does

    cases = load_corpus()
    graders: dict[str, Grader] = {}
    for set_name in sorted({name for name, _ in cases}):
        start = time.perf_counter()
        graders[set_name] = Grader(load_problem_set(set_path(set_name)))
        print(f"compile {set_name:<20} {time.perf_counter() - start:7.3f} s "
              f"({len(graders[set_name].problem_set.problems)} problems)")

    times, methods, statuses = [], [], []
    for set_name, case in cases:
        grader = graders[set_name]
        problem = grader.problem_set.problem(case["problem"])
        answer = answer_of(case)
        runs = []
        for _ in range(args.repeat):
            start = time.perf_counter()
            verdict = grader.check(problem, answer)
            runs.append(time.perf_counter() - start)
        times.append(statistics.median(runs))
        # a numeric verdict whose certified balls stated a bound counts apart
        methods.append("bounded" if verdict.method == "numeric" and "checked" in
                       verdict.evidence else verdict.method)
        statuses.append(verdict.status)

    milli = [t * 1000 for t in times]
    print(f"checks              {len(times)} answers, each checked {args.repeat} times")
    print(f"median per check    {statistics.median(milli):7.2f} ms")
    print(f"p99 per check       {percentile(milli, 0.99):7.2f} ms")
    print(f"max per check       {max(milli):7.2f} ms")
    correct = [m for m, s in zip(methods, statuses) if s == "correct"]
    for method, label in (("symbolic", "proved"), ("exact", "exactly checked"),
                          ("bounded", "numeric, bound"), ("numeric", "numeric")):
        count = sum(m == method for m in correct)
        print(f"correct, {label:<16} {count / len(correct):6.1%} of correct verdicts "
              f"({count}/{len(correct)})")
    compile_in_fresh_processes(sorted({name for name, _ in cases}))
    grader = next(iter(graders.values()))
    problem = grader.problem_set.problems[0]
    for label, text in [("1 MB string", "x" * (1 << 20)), ("x**(10**10)", "x**(10**10)"),
                        ("nesting 1,000 deep", "(" * 1000 + "x" + ")" * 1000)]:
        start = time.perf_counter()
        verdict = grader.check(problem, Answer("string", text=text))
        elapsed = (time.perf_counter() - start) * 1000
        print(f"refuse {label:<20} {elapsed:7.3f} ms ({verdict.diagnoses[0]})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
