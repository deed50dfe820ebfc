"""Batch grading: mcgrade against nbgrader's ``autograde``, side by side, on one machine.

    python bench/batch.py [--sizes 50 100 200 400] [--jobs 2] [--nbgrader 20]

Generates the assignment (10 problems) and a class of N notebooks — right, wrong, and
one hostile notebook in 50 (an infinite loop, a crash, an exit, a memory hog, an output
flood, garbage); see batch_data.py. For each N it runs ``mcgrade grade DIR --jobs J`` as
an instructor would (a fresh process, so interpreter start-up, imports and compiling the
set are counted), and reports the wall time, the time per notebook, and the peak memory
of the whole process tree (the sum of PSS over mcgrade and all its descendants, sampled
every 20 ms). The per-notebook median of mcgrade is measured with ``--jobs 1`` (the gap
between consecutive students in its progress lines), like nbgrader's, which grades one
notebook at a time: nbgrader runs in bench/.venv (created on first use, from PyPI) on
the first ``--nbgrader`` notebooks, its per-notebook median read from its log.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from batch_data import write_class, write_set  # noqa: E402


def tree_pss(root: int) -> int:
    """Bytes of PSS of ``root`` and every descendant (RSS where PSS can't be read)."""
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                with open(f"/proc/{entry.name}/stat", encoding="ascii") as stat:
                    parent = int(stat.read().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
            children.setdefault(parent, []).append(int(entry.name))
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        todo += children.get(pid, [])
        total += _memory(pid)
    return total


def _memory(pid: int) -> int:
    for name, key in (("smaps_rollup", "Pss:"), ("status", "VmRSS:")):
        try:
            with open(f"/proc/{pid}/{name}", encoding="ascii") as handle:
                for line in handle:
                    if line.startswith(key):
                        return int(line.split()[1]) * 1024
        except OSError:
            continue
    return 0


def run_mcgrade(folder: Path, problems: Path, jobs: int) -> tuple[float, int, list[float]]:
    """Wall time, peak memory, and the times at which each student's line appeared."""
    command = [sys.executable, "-m", "mcgrade", "grade", str(folder / "subs"),
               "--problems", str(problems), "--jobs", str(jobs), "--force",
               "--out", str(folder / f"out-{jobs}")]
    env = {**os.environ, "CI": "1"}
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                               text=True, env=env)
    peak = [0]
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            peak[0] = max(peak[0], tree_pss(process.pid))
            stop.wait(0.02)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    lines = []
    assert process.stderr is not None
    for line in process.stderr:
        if line.startswith("mcgrade: ["):
            lines.append(time.perf_counter() - start)
    process.wait()
    wall = time.perf_counter() - start
    stop.set()
    sampler.join()
    if process.returncode != 0:
        raise RuntimeError(f"mcgrade exited {process.returncode}")
    return wall, peak[0], lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[50, 100, 200, 400])
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--nbgrader", type=int, default=20, metavar="N",
                        help="notebooks for nbgrader (0: skip it)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="mcgrade-bench-") as tmp:
        root = Path(tmp)
        problems = write_set(root)
        print(f"assignment: {problems.name}, 10 problems; one notebook in 50 is hostile; "
              f"{os.cpu_count()} cores, Python {sys.version.split()[0]}")
        print(f"\nmcgrade grade DIR --jobs {args.jobs} (a fresh process each run)")
        print(f"{'N':>5} {'total s':>9} {'s/notebook':>11} {'peak MiB':>9}")
        totals = []
        for size in args.sizes:
            folder = root / f"n{size}"
            write_class(folder / "subs", size)
            wall, peak, _ = run_mcgrade(folder, problems, args.jobs)
            totals.append((size, wall))
            print(f"{size:>5} {wall:>9.2f} {wall / size:>11.4f} {peak / 2**20:>9.0f}")
        (small, t_small), (large, t_large) = totals[0], totals[-1]
        slope = (t_large - t_small) / (large - small) if large > small else 0.0
        print(f"growth N={small}→{large}: ×{t_large / t_small:.2f} time for "
              f"×{large / small:.0f} notebooks; marginal {slope * 1000:.0f} ms/notebook, "
              f"fixed ≈ {t_small - slope * small:.2f} s")
        sequential = root / "seq"
        write_class(sequential / "subs", 50)
        _, _, stamps = run_mcgrade(sequential, problems, 1)
        gaps = [b - a for a, b in zip(stamps, stamps[1:])]
        mc_median = statistics.median(gaps)
        print(f"\nmcgrade per notebook, --jobs 1, 50 notebooks: median {mc_median:.4f} s")
        if args.nbgrader:
            from batch_nbgrader import run as run_nbgrader
            result = run_nbgrader(root / "nbgrader", args.nbgrader)
            print(f"nbgrader autograde, {result['count']:.0f} notebooks: total "
                  f"{result['total']:.1f} s, median {result['median']:.3f} s, mean "
                  f"{result['mean']:.3f} s per notebook")
            print(f"ratio (nbgrader median / mcgrade median): "
                  f"×{result['median'] / mc_median:.0f}")


if __name__ == "__main__":
    main()
