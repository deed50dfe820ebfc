"""Per-submission cost: a warm worker pool against a fresh interpreter, in each sandbox.

    python bench/submissions.py [--warm 40] [--fresh 6]

Each run grades the same small notebook (five answers: a string, a sympy matrix, a numpy
array, a shape, a function called at four points) through ``mcgrade.submission``: the time
is from handing the job to the pool until its answers are decoded. "warm" reuses one
zygote that has imported numpy and sympy (a fork per submission); "fresh" starts a new
worker for every submission (interpreter start-up, imports, then the same fork), which is
what running each submission in its own ``python`` costs. The process sandbox is measured
with the layers this machine gives it (Landlock, seccomp, a uid of its own…) and without
any, which is what the layers cost; the portable subprocess sandbox spawns a fresh
interpreter per submission by design. Prints medians in milliseconds.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import nbformat
from nbformat import v4

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from mcgrade.submission.layers import Sandbox, choose  # noqa: E402
from mcgrade.submission.pool import Pool  # noqa: E402
from mcgrade.submission.portable import PortablePool  # noqa: E402
from mcgrade.submission.runner import make_job, to_result  # noqa: E402
from mcgrade.submission.sources import load  # noqa: E402

CELLS = [
    "%matplotlib inline\nimport numpy as np\nimport sympy as sp",
    "dz_dw = 'x.T'\nx = sp.Symbol('x')\njac = sp.Matrix([[2 * x, 1], [0, sp.exp(x)]])",
    "hess = 2 * np.eye(3)\nshape = ('m', 'n')",
    "def grad(w, X, y):\n    return 2 * (X @ w - y).T @ X",
]
NAMES = ["dz_dw", "jac", "hess", "shape", "grad"]
CALLS = {"grad": [[[[1.0], [2.0]], [[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]],
                   [[1.0], [0.0], [2.0]]]] * 4}


def one(pool: Any, path: Path, confine: dict[str, Any]) -> float:
    source = load(path)
    job = make_job(source, NAMES, timeout=10.0, calls=CALLS, confine=confine)
    start = time.perf_counter()
    ((_, outcome),) = pool.run([job])
    result = to_result(job, outcome, before=source.notes)
    answers = [result.answer(n) for n in NAMES]
    elapsed = time.perf_counter() - start
    assert all(a.kind not in ("error", "timeout", "missing") for a in answers), answers
    return elapsed


def measure(sandbox: Sandbox, confine: bool, warm: int,
            fresh: int, path: Path) -> tuple[float, float, float]:
    """(worker start-up, median warm submission, median fresh worker + submission)."""
    def layers() -> dict[str, Any]:
        return sandbox.for_job() if confine else {}
    if sandbox.kind == "subprocess":                 # no worker: every run is fresh
        pool = PortablePool()
        times = [one(pool, path, {}) for _ in range(fresh)]
        return 0.0, statistics.median(times), statistics.median(times)
    pool = Pool(sandbox.kind)
    t = time.perf_counter()
    pool.start()
    start_up = time.perf_counter() - t
    one(pool, path, layers())                         # the first fork warms caches
    warm_times = [one(pool, path, layers()) for _ in range(warm)]
    pool.close()
    fresh_times = []
    for _ in range(fresh):
        t = time.perf_counter()
        pool = Pool(sandbox.kind)
        pool.start()
        one(pool, path, layers())
        pool.close()
        fresh_times.append(time.perf_counter() - t)
    return start_up, statistics.median(warm_times), statistics.median(fresh_times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--warm", type=int, default=40)
    parser.add_argument("--fresh", type=int, default=6)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "hw1.ipynb"
        path.write_text(nbformat.writes(v4.new_notebook(
            cells=[v4.new_code_cell(c) for c in CELLS])), encoding="utf-8")
        runs = [("process, no layers", choose("process"), False),
                (choose("process").label, choose("process"), True),
                ("subprocess", choose("subprocess"), False)]
        bwrap = choose("auto")
        if bwrap.kind == "bwrap":
            runs.insert(0, ("bwrap", bwrap, True))
        print(f"{'sandbox':<50} {'worker start':>13} {'warm pool':>10} {'fresh python':>13} "
              f"{'speed-up':>9}   (medians; warm n={args.warm}, fresh n={args.fresh})")
        for label, sandbox, confine in runs:
            start_up, warm, fresh = measure(sandbox, confine, args.warm, args.fresh, path)
            print(f"{label:<50} {start_up * 1e3:>10.0f} ms {warm * 1e3:>7.1f} ms "
                  f"{fresh * 1e3:>10.0f} ms {fresh / warm:>8.1f}×")
        if bwrap.kind != "bwrap":
            print("bwrap: not measured (bubblewrap can't run here)")

if __name__ == "__main__":
    main()
