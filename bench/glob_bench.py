#!/usr/bin/env python3
"""Adversarial `global_triggers` globs against a time budget, side by side
with the same repository without them (the floor).

Each pattern is a run of N stars then a path that never matches (the shape
that made the old matcher exponential: 16 stars took 0.6 s, 24 over four
minutes). `mlrepo changed --base HEAD~1` over a commit touching 200 files must
cost no more than 2x the run without the trigger, for every N.

usage: glob_bench.py [--mlrepo PATH] [--rounds N]
"""
import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ENV = dict(os.environ, GIT_CONFIG_GLOBAL="/dev/null", GIT_CONFIG_NOSYSTEM="1", NO_COLOR="1",
           GIT_AUTHOR_NAME="b", GIT_AUTHOR_EMAIL="b@x", GIT_COMMITTER_NAME="b", GIT_COMMITTER_EMAIL="b@x",
           MLREPO_NO_CACHE="1")
for k in ("CI", "GITHUB_ACTIONS"):
    ENV.pop(k, None)


def sh(*argv, cwd):
    return subprocess.run(argv, cwd=cwd, env=ENV, check=True, capture_output=True, text=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mlrepo", default=os.path.join(HERE, "..", "build", "src", "mlrepo"))
    ap.add_argument("--rounds", type=int, default=5)
    a = ap.parse_args()
    mlrepo = os.path.abspath(a.mlrepo)
    work = tempfile.mkdtemp(prefix="mlrepo-glob-bench-")
    try:
        sh("git", "init", "-q", "-b", "main", cwd=work)
        for i in range(10):
            os.makedirs(os.path.join(work, f"p{i}", "src", "deep", "er"))
            with open(os.path.join(work, f"p{i}", "Dockerfile"), "w") as f:
                f.write("FROM scratch\n")
        with open(os.path.join(work, "mlrepo.yaml"), "w") as f:
            f.write("{}\n")
        sh("git", "add", "-A", cwd=work)
        sh("git", "commit", "-qm", "one", cwd=work)
        for i in range(200):
            with open(os.path.join(work, f"p{i % 10}", "src", "deep", "er", f"f{i}.py"), "w") as f:
                f.write("x\n")
        sh("git", "add", "-A", cwd=work)
        sh("git", "commit", "-qm", "two", cwd=work)

        def timed_changed(config):
            with open(os.path.join(work, "mlrepo.yaml"), "w") as f:
                f.write(config)
            t = time.perf_counter()
            sh(mlrepo, "changed", "--base", "HEAD~1", "--no-uncommitted", cwd=work)
            return time.perf_counter() - t

        print("| stars | pattern | with the trigger (median) | without (median) | ratio | budget |")
        print("|---|---|---|---|---|---|")
        worst = 0.0
        for n in (16, 20, 24, 64, 256):
            pattern = "*" * n + "/zz/never"
            config = f"global_triggers: ['{pattern}']\n"
            w, wo = [], []
            for _ in range(a.rounds):
                w.append(timed_changed(config))
                wo.append(timed_changed("{}\n"))
            mw, mwo = statistics.median(w), statistics.median(wo)
            worst = max(worst, mw / mwo)
            shown = pattern if n <= 24 else f"{n} stars + /zz/never"
            print(f"| {n} | `{shown}` | {mw * 1000:.1f} ms | {mwo * 1000:.1f} ms | {mw / mwo:.2f}x | 2x |")
        print(f"worst ratio {worst:.2f}x: {'within' if worst <= 2 else 'OVER'} budget")
        return 0 if worst <= 2 else 1
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
