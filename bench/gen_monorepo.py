#!/usr/bin/env python3
"""Generates a synthetic monorepo with `git fast-import`, seeded and repeatable.

P projects in groups of G, F files each, a shared library, then C commits that
each touch K random files. Project i builds FROM the shared base image project.
"""
import argparse
import os
import random
import subprocess
import sys


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("dest")
    ap.add_argument("--projects", type=int, default=10000)
    ap.add_argument("--files", type=int, default=50)
    ap.add_argument("--group", type=int, default=100)
    ap.add_argument("--commits", type=int, default=20)
    ap.add_argument("--touch", type=int, default=5)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    rng = random.Random(a.seed)
    os.makedirs(a.dest, exist_ok=True)
    env = dict(os.environ, GIT_CONFIG_GLOBAL="/dev/null", GIT_CONFIG_NOSYSTEM="1")
    subprocess.run(["git", "init", "-q", "-b", "main", a.dest], check=True, env=env)
    fi = subprocess.Popen(["git", "fast-import", "--quiet"], cwd=a.dest, stdin=subprocess.PIPE, env=env)
    out = fi.stdin
    mark = [0]

    def blob(data: bytes) -> int:
        mark[0] += 1
        out.write(b"blob\nmark :%d\ndata %d\n%s\n" % (mark[0], len(data), data))
        return mark[0]

    def project_dir(i: int) -> str:
        return f"groups/g{i // a.group:04d}/p{i:05d}"

    files = []
    base_df = blob(b"FROM scratch\n")
    files.append(("images/base/Dockerfile", base_df))
    files.append(("libs/common/util.py", blob(b"def f():\n    return 1\n")))
    df = blob(b"FROM localhost:5000/base:latest\nCOPY . /app\n")
    for i in range(a.projects):
        d = project_dir(i)
        files.append((f"{d}/Dockerfile", df))
        for j in range(a.files - 1):
            files.append((f"{d}/src/m{j:03d}.py", blob(f"# {i} {j}\nX = {j}\n".encode())))

    def commit(ref_msg: str, changes, parent: bool, t: int):
        out.write(b"commit refs/heads/main\n")
        out.write(b"committer Bench <bench@example.invalid> %d +0000\n" % (1700000000 + t))
        msg = ref_msg.encode()
        out.write(b"data %d\n%s\n" % (len(msg), msg))
        if not parent:
            out.write(b"deleteall\n")
        for path, m in changes:
            out.write(b"M 100644 :%d %s\n" % (m, path.encode()))
        out.write(b"\n")

    commit("initial", files, False, 0)
    for c in range(a.commits):
        changes = []
        for _ in range(a.touch):
            i = rng.randrange(a.projects)
            j = rng.randrange(a.files - 1)
            changes.append((f"{project_dir(i)}/src/m{j:03d}.py", blob(f"# edit {c}\n".encode())))
        commit(f"commit {c}", changes, True, c + 1)
    out.close()
    if fi.wait() != 0:
        return 1
    subprocess.run(["git", "checkout", "-q", "-f", "main"], cwd=a.dest, check=True, env=env)
    return 0


if __name__ == "__main__":
    sys.exit(main())
