"""Several gradings at once, again and again: every correct submission gets full marks.

A machine fault (a lost worker, a result cut short, a limit shared between runs) must
never be a student's zero (SPEC §5.4). Here the CLI and the pytest plugin grade the
course's neuron solution side by side, each with its own warm pool, several rounds in a
row, and every one of them must score every point.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOLUTION = ROOT / "examples" / "neuron_solution.py"
SET = ROOT / "problem_sets" / "neuron.yaml"
ROUNDS, AT_ONCE = 3, 2          # per round: AT_ONCE CLI gradings and AT_ONCE pytest runs


def _cli(out: Path) -> list[str]:
    return [sys.executable, "-m", "mcgrade", "grade", str(SOLUTION), "--problems", str(SET),
            "--json", str(out)]


def _plugin(out: Path) -> list[str]:
    return [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
            "--mcgrade-submission", str(SOLUTION), str(SET), "--mcgrade-json", str(out),
            "--rootdir", str(out.parent)]


def test_concurrent_gradings_all_give_full_marks(tmp_path: Path) -> None:
    for round_ in range(ROUNDS):
        outs = [tmp_path / f"r{round_}-{kind}{i}.json" for kind in ("cli", "plugin")
                for i in range(AT_ONCE)]
        commands = [(_cli if "cli" in out.name else _plugin)(out) for out in outs]
        running = [subprocess.Popen(c, cwd=tmp_path, stdout=subprocess.PIPE,
                                    stderr=subprocess.STDOUT, text=True) for c in commands]
        for out, process in zip(outs, running):
            log = process.communicate(timeout=600)[0]
            assert out.exists(), log[-3000:]
            record = json.loads(out.read_text(encoding="utf-8"))
            assert record["score"] == record["max_score"] > 0, (out.name, log[-3000:])
            assert all(p["status"] == "correct" for p in record["problems"]), out.name
