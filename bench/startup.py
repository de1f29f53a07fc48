#!/usr/bin/env python3
"""Start-up cost of small commands against plain git, on a real repository.

For `mlrepo --version`, `mlrepo list` and `mlrepo changed --base HEAD~1`
(committed range), runs mlrepo and its floor (`git --version`, `git ls-files`,
`git diff --no-renames --name-only HEAD~1 HEAD`) alternately, ROUNDS times
each, and prints the median wall time, the median CPU time (user + system,
from wait4) and the ratio as a markdown table. With --before BINARY, a second
mlrepo (e.g. one built from an earlier commit) runs in the same rounds.

usage: startup.py REPO [--mlrepo PATH] [--before PATH] [--rounds N]
"""
import argparse
import os
import statistics
import subprocess
import time

ENV = dict(os.environ, GIT_CONFIG_GLOBAL="/dev/null", GIT_CONFIG_NOSYSTEM="1", NO_COLOR="1")
for k in ("CI", "GITHUB_ACTIONS", "MLREPO_NO_CACHE"):
    ENV.pop(k, None)


def once(cmd, cwd):
    """(wall seconds, CPU seconds) of one run."""
    start = time.perf_counter()
    p = subprocess.Popen(cmd, cwd=cwd, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(p.pid, 0)
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"failed: {' '.join(cmd)}")
    return wall, usage.ru_utime + usage.ru_stime


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("repo")
    ap.add_argument("--mlrepo", default=os.path.join(os.path.dirname(__file__), "..", "build", "src", "mlrepo"))
    ap.add_argument("--before")
    ap.add_argument("--rounds", type=int, default=31)
    a = ap.parse_args()
    cases = [
        ("--version", ["--version"], ["git", "--version"]),
        ("list", ["list"], ["git", "ls-files"]),
        ("changed HEAD~1", ["changed", "--base", "HEAD~1", "--no-uncommitted", "-q"],
         ["git", "diff", "--no-renames", "--name-only", "HEAD~1", "HEAD"]),
    ]
    binaries = [("mlrepo", a.mlrepo)] + ([("before", a.before)] if a.before else [])
    print("| command | " + " | ".join(f"{n} wall / CPU" for n, _ in binaries) +
          " | git floor wall / CPU | ratio (wall) | floor command |")
    print("|---|" + "---|" * len(binaries) + "---|---|---|")
    for label, args, floor in cases:
        for _, b in binaries:  # warm caches (discovery cache, page cache)
            once([b, *args], a.repo)
        samples = {n: [] for n, _ in binaries}
        samples["floor"] = []
        for _ in range(a.rounds):
            for n, b in binaries:
                samples[n].append(once([b, *args], a.repo))
            samples["floor"].append(once(floor, a.repo))

        def med(n, k):
            return statistics.median(s[k] for s in samples[n]) * 1000

        cells = [f"{med(n, 0):.1f} ms / {med(n, 1):.1f} ms" for n, _ in binaries]
        ratio = med("mlrepo", 0) / med("floor", 0)
        print(f"| `mlrepo {' '.join(args)}` | " + " | ".join(cells) +
              f" | {med('floor', 0):.1f} ms / {med('floor', 1):.1f} ms | {ratio:.1f}x | `{' '.join(floor)}` |")


if __name__ == "__main__":
    main()
