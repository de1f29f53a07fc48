#!/usr/bin/env python3
"""`mlrepo promote` against the docker way of adding a tag, on a real registry.

An image of about 200 MB is built and pushed to a local registry (Debian's
docker-registry). Then, from an engine that does not hold it locally (as on a
CI runner), each round adds one new tag two ways, alternating:
  mlrepo:  mlrepo promote app --tag rN-m      (manifest copied registry-side)
  docker:  docker pull IMG; docker tag IMG IMG:rN-d; docker push IMG:rN-d
and removes the local copy again. Medians are reported. Target: <= 0.1x.

usage: promote_bench.py [--rounds N] [--mb SIZE] [--mlrepo PATH]
"""
import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

from benchlib import LocalRegistry, busybox

HERE = os.path.dirname(os.path.abspath(__file__))
ENV = dict(os.environ, GIT_CONFIG_GLOBAL="/dev/null", GIT_CONFIG_NOSYSTEM="1", NO_COLOR="1",
           GIT_AUTHOR_NAME="b", GIT_AUTHOR_EMAIL="b@x", GIT_COMMITTER_NAME="b", GIT_COMMITTER_EMAIL="b@x")
for k in ("CI", "GITHUB_ACTIONS"):
    ENV.pop(k, None)


def sh(*argv, cwd=None, check=True):
    return subprocess.run(argv, cwd=cwd, env=ENV, check=check, capture_output=True, text=True)


def timed(fn):
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--mb", type=int, default=200)
    ap.add_argument("--mlrepo", default=os.path.join(HERE, "..", "build", "src", "mlrepo"))
    a = ap.parse_args()
    mlrepo = os.path.abspath(a.mlrepo)
    work = tempfile.mkdtemp(prefix="mlrepo-promote-bench-")
    with LocalRegistry() as registry:
        port = registry.port
        image = f"127.0.0.1:{port}/bench/app"
        busybox("mlrepo-bench/busybox:1", ENV)
        repo = os.path.join(work, "repo")
        os.makedirs(os.path.join(repo, "app"))
        sh("git", "init", "-q", "-b", "main", cwd=repo)
        with open(os.path.join(repo, "mlrepo.yaml"), "w") as f:
            f.write(f"registry: 127.0.0.1:{port}/bench\n")
        with open(os.path.join(repo, "app", "Dockerfile"), "w") as f:
            # Random bytes: a layer that does not compress, like model weights.
            f.write(f"FROM mlrepo-bench/busybox:1\nRUN head -c {a.mb * 1000 * 1000} /dev/urandom > /weights.bin\n")
        sh("git", "add", "-A", cwd=repo)
        sh("git", "commit", "-qm", "init", cwd=repo)
        print(f"# building and pushing a {a.mb} MB image", file=sys.stderr)
        sh(mlrepo, "build", "app", "--push", "-q", cwd=repo)
        content = [t for t in sh("docker", "image", "ls", "--format", "{{.Repository}}:{{.Tag}}").stdout.split()
                   if t.startswith(image + ":content-")][0]
        size = sh("docker", "image", "inspect", "--format", "{{.Size}}", content).stdout.strip()

        def forget():
            ids = set(sh("docker", "images", "-q", image).stdout.split())
            for i in ids:
                sh("docker", "rmi", "-f", i, check=False)

        forget()
        m, d = [], []
        for r in range(a.rounds):
            m.append(timed(lambda: sh(mlrepo, "promote", "app", "--tag", f"r{r}-m", "-q", cwd=repo)))
            forget()
            d.append(timed(lambda: (sh("docker", "pull", "-q", content),
                                    sh("docker", "tag", content, f"{image}:r{r}-d"),
                                    sh("docker", "push", "-q", f"{image}:r{r}-d"))))
            forget()
        mm, dd = statistics.median(m), statistics.median(d)
        print(f"image: {int(size) / 1e6:.0f} MB on the engine; rounds: {a.rounds}")
        print("| case | mlrepo (median) | docker (median) | ratio |")
        print("|---|---|---|---|")
        print(f"| add one tag to an image the engine does not hold | {mm:.3f} s | {dd:.2f} s | {mm / dd:.3f}x |")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
