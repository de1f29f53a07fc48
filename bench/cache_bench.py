#!/usr/bin/env python3
"""The registry layer cache on a fresh runner, against the uncached baseline.

A project whose Dockerfile has an expensive dependency layer (a slow RUN
standing in for `pip install`) and then copies code. Each round: build and
push it (cold); remove every local image and the whole BuildKit cache, as a
fresh CI runner has none; change one code file; `mlrepo build --push` again.
Rounds alternate the registry cache (default) with `build_cache: off`.
Target: the second build takes <= 0.25x the first with the cache.

usage: cache_bench.py [--rounds N] [--slow SECONDS] [--mlrepo PATH] [--json OUT]
Needs Debian's docker-registry and the 20.10 client at /usr/bin/docker.
"""
import argparse
import json
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def sh(*argv, cwd=None, check=True):
    return subprocess.run(argv, cwd=cwd, check=check, capture_output=True, text=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def busybox_image():
    tag = "mlrepo-bench/busybox:1"
    if sh("docker", "image", "inspect", tag, check=False).returncode == 0:
        return tag
    d = tempfile.mkdtemp()
    shutil.copy("/bin/busybox", os.path.join(d, "busybox"))
    with open(os.path.join(d, "Dockerfile"), "w") as f:
        f.write("FROM scratch\nCOPY busybox /bin/busybox\nRUN [\"/bin/busybox\", \"--install\", \"-s\", \"/bin\"]\n")
    subprocess.run(["docker", "build", "-q", "-t", tag, d], check=True, capture_output=True,
                   env={**os.environ, "DOCKER_BUILDKIT": "0"})
    return tag


def forget(repository):
    ids = set(sh("docker", "images", "-q", repository).stdout.split())
    for i in ids:
        sh("docker", "rmi", "-f", i, check=False)
    sh("docker", "builder", "prune", "-af", check=False)


def one_round(mlrepo, registry, cache, slow, base_image):
    repo = tempfile.mkdtemp(prefix="mlrepo-cache-bench-")
    try:
        sh("git", "init", "-q", "-b", "main", cwd=repo)
        sh("git", "config", "user.email", "bench@example.com", cwd=repo)
        sh("git", "config", "user.name", "bench", cwd=repo)
        nonce = f"{random.getrandbits(64):x}"
        os.makedirs(os.path.join(repo, "app"))
        with open(os.path.join(repo, "mlrepo.yaml"), "w") as f:
            f.write(f"registry: {registry}/bench\ndocker: /usr/bin/docker\nbuild_cache: {'on' if cache else 'off'}\n")
        with open(os.path.join(repo, "app", "Dockerfile"), "w") as f:
            f.write(f"FROM {base_image}\n"
                    f"RUN echo {nonce} && sleep {slow} && echo deps > /deps  # stands in for pip install\n"
                    "COPY train.py /app/train.py\n")
        with open(os.path.join(repo, "app", "train.py"), "w") as f:
            f.write("print(1)\n")
        sh("git", "add", "-A", cwd=repo)
        sh("git", "commit", "-qm", "one", cwd=repo)
        t0 = time.monotonic()
        sh(mlrepo, "build", "app", "--push", "-q", cwd=repo)
        first = time.monotonic() - t0
        forget(f"{registry}/bench/app")
        with open(os.path.join(repo, "app", "train.py"), "w") as f:
            f.write("print(2)\n")
        sh("git", "commit", "-qam", "two", cwd=repo)
        t0 = time.monotonic()
        sh(mlrepo, "build", "app", "--push", "-q", cwd=repo)
        second = time.monotonic() - t0
        forget(f"{registry}/bench/app")
        return first, second
    finally:
        shutil.rmtree(repo, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--slow", type=int, default=20, help="seconds the dependency layer takes")
    ap.add_argument("--mlrepo", default=os.path.join(HERE, "..", "build", "src", "mlrepo"))
    ap.add_argument("--json")
    a = ap.parse_args()
    store = tempfile.mkdtemp(prefix="mlrepo-cache-bench-registry-")
    port = free_port()
    with open(os.path.join(store, "config.yml"), "w") as f:
        f.write(f"version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: {store}/data\n"
                f"http:\n  addr: 127.0.0.1:{port}\n")
    registry = subprocess.Popen(["docker-registry", "serve", os.path.join(store, "config.yml")],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        time.sleep(1)
        base = busybox_image()
        rows = []
        for r in range(a.rounds):
            for cache in (True, False):  # alternating, same run
                first, second = one_round(os.path.abspath(a.mlrepo), f"127.0.0.1:{port}", cache, a.slow, base)
                rows.append({"round": r + 1, "cache": cache, "first_s": round(first, 2),
                             "second_s": round(second, 2), "ratio": round(second / first, 3)})
                print(json.dumps(rows[-1]), flush=True)
        for cache in (True, False):
            ratios = sorted(x["ratio"] for x in rows if x["cache"] == cache)
            print(f"{'registry cache' if cache else 'build_cache: off'}: median second/first = "
                  f"{ratios[len(ratios) // 2]:.3f}")
        if a.json:
            with open(a.json, "w") as f:
                json.dump(rows, f, indent=1)
    finally:
        registry.terminate()
        registry.wait()
        shutil.rmtree(store, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
