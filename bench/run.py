#!/usr/bin/env python3
"""mlrepo's scale benchmark, one command: `python3 bench/run.py`.

Generates synthetic monorepos (bench/gen_monorepo.py, seeded), then measures
mlrepo against the floor for the same question, alternating the two in one
run, and prints medians, ratios and peak RSS as markdown (docs/performance.md).
With --sweep it also times the main cases at 1k, 5k, 10k and 20k projects and
plots time against size (needs matplotlib).
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ENV = dict(os.environ, GIT_CONFIG_GLOBAL="/dev/null", GIT_CONFIG_NOSYSTEM="1", NO_COLOR="1")
for k in ("CI", "GITHUB_ACTIONS", "MLREPO_NO_CACHE"):
    ENV.pop(k, None)


def run(cmd, cwd, env=None, shell=False):
    """Runs one command; returns (seconds, peak RSS in MiB)."""
    start = time.perf_counter()
    p = subprocess.Popen(cmd, cwd=cwd, env=env or ENV, shell=shell,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(p.pid, 0)
    elapsed = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) not in (0, 1):
        raise SystemExit(f"failed: {cmd}")
    return elapsed, usage.ru_maxrss / 1024


FLOOR_C = """#include <git2.h>
int main(void) { git_libgit2_init(); git_libgit2_shutdown(); return 0; }
"""


def build_stack_floor(work):
    """A program that only loads and initialises libgit2: what any tool built on
    Debian's libgit2 pays before its first line of work. None if it cannot be built."""
    src, exe = os.path.join(work, "floor.c"), os.path.join(work, "libgit2-init")
    with open(src, "w") as f:
        f.write(FLOOR_C)
    try:
        flags = subprocess.run(["pkg-config", "--cflags", "--libs", "libgit2"], check=True,
                               capture_output=True, text=True).stdout.split()
        subprocess.run(["cc", "-O2", src, "-o", exe] + flags, check=True, capture_output=True)
    except (OSError, subprocess.CalledProcessError):
        return None
    return exe


def generate(dest, projects, files, commits=20):
    subprocess.run([sys.executable, os.path.join(HERE, "gen_monorepo.py"), dest, "--projects",
                    str(projects), "--files", str(files), "--commits", str(commits)],
                   check=True, env=ENV)


class Case:
    def __init__(self, name, mlrepo, floor, target=None, prepare=None, shell_floor=False, rounds=None):
        self.name, self.mlrepo, self.floor, self.target = name, mlrepo, floor, target
        self.prepare, self.shell_floor, self.rounds = prepare, shell_floor, rounds


def measure(case, repo, rounds, env=None):
    m, f, rss = [], [], []
    for _ in range(case.rounds or rounds):
        if case.prepare:
            case.prepare(repo)
        t, r = run(case.mlrepo, repo, env)
        m.append(t)
        rss.append(r)
        if case.floor:
            t, _ = run(case.floor, repo, shell=case.shell_floor)
            f.append(t)
    return {"case": case.name, "mlrepo_s": statistics.median(m), "floor_s": statistics.median(f) if f else None,
            "peak_rss_mib": max(rss), "target": case.target,
            "mlrepo_cmd": " ".join(case.mlrepo), "floor_cmd": case.floor if isinstance(case.floor, str) else " ".join(case.floor or [])}


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--mlrepo", default=os.path.join(HERE, "..", "build", "src", "mlrepo"))
    ap.add_argument("--projects", type=int, default=10000)
    ap.add_argument("--files", type=int, default=50)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--sweep", action="store_true", help="also time 1k/5k/10k/20k projects and plot")
    ap.add_argument("--plot", default=os.path.join(HERE, "..", "docs", "scaling.png"))
    ap.add_argument("--json", help="write the raw results here too")
    a = ap.parse_args()
    ml = os.path.abspath(a.mlrepo)
    work = tempfile.mkdtemp(prefix="mlrepo-scale-")
    results = {"machine": {"cores": os.cpu_count(), "uname": " ".join(os.uname())}, "cases": [], "sweep": []}
    try:
        repo = os.path.join(work, "repo")
        print(f"# generating {a.projects} projects x {a.files} files", file=sys.stderr)
        generate(repo, a.projects, a.files)
        time.sleep(2.1)  # a settled checkout (see the sweep below)
        cache = os.path.join(repo, ".git", "mlrepo", "cache")
        dirty = ["groups/g0000/p00000/src/m000.py", "groups/g0050/p05000/src/m001.py", "libs/common/util.py"]

        def drop_cache(_):
            shutil.rmtree(cache, ignore_errors=True)

        def modify(_):
            for i, path in enumerate(dirty):
                with open(os.path.join(repo, path), "a") as f:
                    f.write(f"# local edit {i}\n")

        trash = os.path.join(work, "trash")
        os.makedirs(trash)

        def no_workflows(_):
            # Moved aside, not deleted: ext4 allocates inodes slowly for a few minutes
            # after thousands of deletions, which would time the kernel, not mlrepo.
            if os.path.exists(os.path.join(repo, ".github")):
                os.rename(os.path.join(repo, ".github"), os.path.join(trash, str(len(os.listdir(trash)))))

        script = ("git ls-tree -r --name-only HEAD | grep '/Dockerfile$' | while read -r f; do "
                  "d=${f%/Dockerfile}; git diff --quiet HEAD~1 HEAD -- \"$d\" || echo \"$d\"; done")
        floor_exe = build_stack_floor(work)
        cases = [
            Case("committed range, HEAD~1 (warm)", [ml, "changed", "--base", "HEAD~1", "--no-uncommitted", "-q"],
                 ["git", "diff", "--name-only", "HEAD~1", "HEAD"], "<= 1.5x"),
            Case("committed range, 20 commits (warm)", [ml, "changed", "--base", "HEAD~20", "--no-uncommitted", "-q"],
                 ["git", "diff", "--name-only", "HEAD~20", "HEAD"], "<= 1.5x"),
        ] + ([Case("stack floor: a program that only loads and initialises libgit2", [floor_exe],
                   ["git", "diff", "--name-only", "HEAD~1", "HEAD"])] if floor_exe else []) + [
            Case("committed range, HEAD~1, cold (no cache)", [ml, "changed", "--base", "HEAD~1", "--no-uncommitted", "-q"],
                 "git ls-tree -r --name-only HEAD | grep Dockerfile", "<= 1.0x", prepare=drop_cache, shell_floor=True),
            Case("discovery: list (work tree)", [ml, "list"],
                 "git ls-tree -r --name-only HEAD | grep Dockerfile", "<= 1.0x", shell_floor=True),
            Case("discovery: list --rev HEAD (warm)", [ml, "list", "--rev", "HEAD"],
                 "git ls-tree -r --name-only HEAD | grep Dockerfile", "<= 1.0x", shell_floor=True),
            Case("uncommitted: changed --base HEAD, 3 files edited", [ml, "changed", "--base", "HEAD", "-q"],
                 ["git", "status", "--porcelain"], "<= 1.2x", prepare=modify),
            Case("the script it replaces (one git diff per project)", [ml, "changed", "--base", "HEAD~1", "--no-uncommitted", "-q"],
                 script, None, shell_floor=True, rounds=1),
            Case("ci generate, all projects, fresh", [ml, "ci", "generate", "-q"], None, "< 2 s", prepare=no_workflows),
            Case("ci generate --check, in sync", [ml, "ci", "generate", "--check", "-q"], None, "< 2 s"),
        ]
        run([ml, "list", "--rev", "HEAD"], repo)  # warm the cache and the page cache
        for c in cases:
            print(f"# {c.name}", file=sys.stderr)
            results["cases"].append(measure(c, repo, a.rounds))
        subprocess.run(["git", "checkout", "-q", "--", "."], cwd=repo, env=ENV)

        if a.sweep:
            for n in (1000, 5000, 10000, 20000):
                d = os.path.join(work, f"sweep{n}")
                print(f"# sweep: {n} projects x 10 files", file=sys.stderr)
                generate(d, n, 10)
                # Files written within two seconds are "racily clean" for git and for
                # mlrepo's work-tree caches alike: start from a settled checkout.
                time.sleep(2.1)
                run([ml, "list", "--rev", "HEAD"], d)
                row = {"projects": n}
                for key, cmd, shell in [
                    ("mlrepo changed HEAD~1", [ml, "changed", "--base", "HEAD~1", "--no-uncommitted", "-q"], False),
                    ("git diff --name-only", ["git", "diff", "--name-only", "HEAD~1", "HEAD"], False),
                    ("mlrepo list", [ml, "list"], False),
                    ("ls-tree | grep", "git ls-tree -r --name-only HEAD | grep Dockerfile", True),
                    ("mlrepo changed --base HEAD", [ml, "changed", "--base", "HEAD", "-q"], False),
                    ("git status --porcelain", ["git", "status", "--porcelain"], False)]:
                    row[key] = statistics.median(run(cmd, d, shell=shell)[0] for _ in range(a.rounds))
                results["sweep"].append(row)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    print("| case | mlrepo (median) | floor (median) | ratio | target | peak RSS | mlrepo command | floor |")
    print("|---|---|---|---|---|---|---|---|")
    for r in results["cases"]:
        ratio = f"{r['mlrepo_s'] / r['floor_s']:.2f}x" if r["floor_s"] else "-"
        floor = f"{r['floor_s'] * 1000:.1f} ms" if r["floor_s"] else "-"
        print(f"| {r['case']} | {r['mlrepo_s'] * 1000:.1f} ms | {floor} | {ratio} | {r['target'] or '-'} | "
              f"{r['peak_rss_mib']:.0f} MiB | `{r['mlrepo_cmd'].replace(ml, 'mlrepo').replace(work + '/', '')}` | `{r['floor_cmd'] or '-'}` |")
    if results["sweep"]:
        keys = [k for k in results["sweep"][0] if k != "projects"]
        print("\n| projects | " + " | ".join(keys) + " |")
        print("|---|" + "---|" * len(keys))
        for row in results["sweep"]:
            print(f"| {row['projects']} | " + " | ".join(f"{row[k] * 1000:.1f} ms" for k in keys) + " |")
        try:
            import matplotlib
            matplotlib.use("Agg")
            import matplotlib.pyplot as plt
            xs = [r["projects"] for r in results["sweep"]]
            fig, ax = plt.subplots(figsize=(8, 5))
            for k in keys:
                ax.plot(xs, [r[k] * 1000 for r in results["sweep"]], marker="o",
                        linestyle="-" if k.startswith("mlrepo") else "--", label=k)
            ax.set_xlabel("projects (10 files each)")
            ax.set_ylabel("median time (ms)")
            ax.set_yscale("log")
            ax.set_title("mlrepo against git, by repository size")
            ax.grid(True, which="both", alpha=0.3)
            ax.legend()
            fig.tight_layout()
            fig.savefig(a.plot, dpi=100)
            print(f"\nplot: {a.plot}", file=sys.stderr)
        except ImportError:
            print("\n(no matplotlib: no plot)", file=sys.stderr)
    if a.json:
        with open(a.json, "w") as f:
            json.dump(results, f, indent=2)


if __name__ == "__main__":
    main()
