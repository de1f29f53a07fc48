#!/usr/bin/env python3
"""mlrepo build against plain docker, in one run, on the real engine.

1. No-op: `mlrepo build --all` over P up-to-date projects, against a shell loop
   of cached `docker build` over the same projects (the floor a script pays).
2. Real builds: K projects whose content changed, `mlrepo build` against the
   exact docker commands `mlrepo build --dry-run` prints, run one after another.
Rounds alternate between the two sides; medians are reported.

`--docker /usr/bin/docker` runs both sides with that client (mlrepo through the
workspace `docker:` setting); a client older than 23 builds with BuildKit there.
"""
import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ENV = dict(os.environ, GIT_CONFIG_GLOBAL="/dev/null", GIT_CONFIG_NOSYSTEM="1",
           GIT_AUTHOR_NAME="b", GIT_AUTHOR_EMAIL="b@x", GIT_COMMITTER_NAME="b",
           GIT_COMMITTER_EMAIL="b@x", NO_COLOR="1")
for k in ("CI", "GITHUB_ACTIONS"):
    ENV.pop(k, None)
BASE = "mlrepo-bench/busybox:1"


def sh(args, cwd=None, check=True):
    return subprocess.run(args, cwd=cwd, env=ENV, check=check, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True)


def timed(fn):
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--mlrepo", default=os.path.join(os.path.dirname(__file__), "..", "build", "src", "mlrepo"))
    ap.add_argument("--projects", type=int, default=50)
    ap.add_argument("--real", type=int, default=6, help="projects rebuilt in the real-build rounds")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--docker", default="docker", help="the docker client both sides use")
    ap.add_argument("--classic", action="store_true",
                    help="force the classic builder on the floor side (DOCKER_BUILDKIT=0)")
    a = ap.parse_args()
    docker = a.docker
    # The floor gets what mlrepo picks: BuildKit with a pre-23 client, classic otherwise.
    ver = sh([docker, "version", "--format", "{{.Client.Version}}"]).stdout.strip()
    buildkit = not a.classic and int(ver.split(".")[0]) < 23
    ENV["DOCKER_BUILDKIT"] = "1" if buildkit else "0"
    print(f"# client {docker} {ver}: {'BuildKit' if buildkit else 'classic builder'}", file=sys.stderr)
    mlrepo = os.path.abspath(a.mlrepo)
    work = tempfile.mkdtemp(prefix="mlrepo-bench-")
    try:
        ctx = os.path.join(work, "base")
        os.makedirs(ctx)
        shutil.copy("/bin/busybox", ctx)
        with open(os.path.join(ctx, "Dockerfile"), "w") as f:
            f.write('FROM scratch\nCOPY busybox /bin/busybox\nRUN ["/bin/busybox","--install","-s","/bin"]\n')
        sh([docker, "build", "-q", "-t", BASE, ctx])
        repo = os.path.join(work, "repo")
        os.makedirs(repo)
        sh(["git", "init", "-q", "-b", "main"], cwd=repo)
        with open(os.path.join(repo, "mlrepo.yaml"), "w") as f:
            f.write("image_prefix: mlrepo-bench-\n")
            if docker != "docker":
                f.write(f"docker: {docker}\n")
        names = [f"p{i:03d}" for i in range(a.projects)]
        for n in names:
            os.makedirs(os.path.join(repo, n))
            with open(os.path.join(repo, n, "Dockerfile"), "w") as f:
                f.write(f"FROM {BASE}\nCOPY data.txt /data.txt\n")
            with open(os.path.join(repo, n, "data.txt"), "w") as f:
                f.write(n)
        sh(["git", "add", "-A"], cwd=repo)
        sh(["git", "commit", "-q", "-m", "init"], cwd=repo)
        print(f"# setting up: building {a.projects} projects once", file=sys.stderr)
        sh([mlrepo, "build", "--all", "-q"], cwd=repo)
        for n in names:  # warm the raw side's cache too
            sh([docker, "build", "-q", "-t", f"raw-{n}:bench", n], cwd=repo)

        noop_m, noop_d = [], []
        for _ in range(a.rounds):
            noop_m.append(timed(lambda: sh([mlrepo, "build", "--all", "-q"], cwd=repo)))
            noop_d.append(timed(lambda: [sh([docker, "build", "-q", "-t", f"raw-{n}:bench", n], cwd=repo)
                                         for n in names]))

        real_m, real_d = [], []
        chosen = names[: a.real]
        counter = [0]

        def touch():
            counter[0] += 1
            for n in chosen:
                with open(os.path.join(repo, n, "data.txt"), "w") as f:
                    f.write(f"{n} {counter[0]}")
            sh(["git", "commit", "-q", "-am", f"round {counter[0]}"], cwd=repo)

        for _ in range(a.rounds):
            touch()
            real_m.append(timed(lambda: sh([mlrepo, "build", "-q", "-j", "1", *chosen], cwd=repo)))
            touch()
            cmds = sh([mlrepo, "build", "--dry-run", *chosen], cwd=repo).stdout.splitlines()
            real_d.append(timed(lambda: [sh(["sh", "-c", c], cwd=repo) for c in cmds]))

        def row(what, m, d, mcmd, dcmd):
            mm, dd = statistics.median(m), statistics.median(d)
            print(f"| {what} | {mm:.2f} s | {dd:.2f} s | {mm / dd:.2f}x | `{mcmd}` | `{dcmd}` |")

        print("| case | mlrepo (median) | plain docker (median) | ratio | mlrepo command | floor |")
        print("|---|---|---|---|---|---|")
        row(f"no-op, {a.projects} up-to-date projects", noop_m, noop_d, "mlrepo build --all",
            f"for p in {a.projects} dirs: docker build -q -t raw-$p:bench $p (cached)")
        row(f"real builds, {a.real} changed projects, -j 1", real_m, real_d,
            f"mlrepo build -j 1 p000..p{a.real - 1:03d}", "the same docker build commands from --dry-run, in sequence")
    finally:
        out = sh([docker, "image", "ls", "--format", "{{.Repository}}:{{.Tag}}"]).stdout.split()
        junk = [i for i in out if i.startswith(("mlrepo-bench-", "raw-p"))]
        if junk:
            sh(["docker", "image", "rm", "-f", *junk], check=False)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
