#!/usr/bin/env python3
"""Image builds per CI run on the example monorepo, counted from the docker
engine's own record, for the generated workflows of two mlrepo binaries
(before and after a change), in both CI modes.

The workflows run in the local harness (tests/ci_harness) over one history:
the first push to main, a pull request touching the shared library, its
merge, a pull request touching the base image's pin file (constraints.txt)
and its merge, a push touching one leaf project, a push changing nothing
buildable, and a pull request from a fork. Every job starts on a "fresh
runner" (no project images in the engine). Per-project workflows run one after
the other here; on GitHub they run at once and can only build more.

usage: ci_builds.py --before OLD_MLREPO [--after NEW_MLREPO] [--modes matrix,per-project]
"""
import argparse
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "ci_harness"))

from world import World  # noqa: E402

STEPS = [
    "first push to main",
    "PR touching libs/mlcommon",
    "its merge to main",
    "PR touching constraints.txt (the base)",
    "its merge to main",
    "push touching one leaf project",
    "push changing nothing buildable",
    "fork PR touching a leaf project",
]


def history(world):
    """Yields (step, Run) along the history above."""
    yield world.push_main()
    world.git("checkout", "-q", "-b", "lib")
    world.commit("mlcommon: a feature", {"libs/mlcommon/mlcommon/features.py": "\n# more\n"})
    yield world.pull_request(1, "lib")
    merge(world, 1)
    yield world.push_main()
    world.git("checkout", "-q", "-b", "pins", "main")
    world.commit("pins: bump", {"constraints.txt": "\n# bumped\n"})
    yield world.pull_request(2, "pins")
    merge(world, 2)
    yield world.push_main()
    world.commit("forecast: a comment", {"projects/demand-forecast/src/forecast.py": "\n# horizon\n"})
    yield world.push_main()
    world.commit("docs", {"README.md": "# notes\n"})
    yield world.push_main()
    world.git("checkout", "-q", "-b", "fork", "main")
    world.commit("forecast: pin", {"projects/demand-forecast/requirements.txt": "holidays==0.40\n"})
    yield world.pull_request(3, "fork", fork=True)


def merge(world, number):
    world.git("checkout", "-q", "main")
    world.git("fetch", "-q", world.origin, f"refs/pull/{number}/merge")
    world.git("merge", "-q", "--ff-only", "FETCH_HEAD")


def count(mlrepo, mode):
    world = World(mode=mode, mlrepo=mlrepo)
    try:
        return [sum(run.builds().values()) for run in history(world)]
    finally:
        world.close()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--before", required=True, help="the mlrepo binary whose workflows are the baseline")
    ap.add_argument("--after", default=os.path.join(HERE, "..", "build", "src", "mlrepo"))
    ap.add_argument("--modes", default="matrix,per-project")
    args = ap.parse_args()
    for mode in args.modes.split(","):
        before = count(os.path.abspath(args.before), mode)
        after = count(os.path.abspath(args.after), mode)
        print(f"\n{mode} mode: image builds per run (docker build calls)")
        print(f"| {'run':<42} | before | after |")
        print(f"|{'-' * 44}|--------|-------|")
        for step, b, a in zip(STEPS, before, after):
            print(f"| {step:<42} | {b:>6} | {a:>5} |")
        print(f"| {'total':<42} | {sum(before):>6} | {sum(after):>5} |")


if __name__ == "__main__":
    main()
