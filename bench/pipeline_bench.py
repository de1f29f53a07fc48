#!/usr/bin/env python3
"""`mlrepo pipeline run` against its floor: plain `docker run`s.

1. A chain of 5 trivial steps (each reads the previous step's output and writes
   its own), run by `mlrepo pipeline run --no-cache` and by a shell script that
   runs the same 5 `docker run`s with the same mounts, alternately, ROUNDS
   times each: the median wall time of each and the ratio.
2. The same pipeline run again with every step cached: its median wall time
   against the first (uncached) run's, and how many containers it started
   (counted from `docker events`).
3. A 40-step fan-out/fan-in pipeline (one source, 38 steps side by side
   reading it, one step reading all 38) with -j 4: the wall time and a
   timeline of how many containers ran at once, from the steps' start and end
   as `docker events` reports them.
4. The same 40 steps rendered as Argo Workflows objects (`pipeline render p
   -o -`, the image pinned through a local docker-registry), ROUNDS times:
   the median, beside its floor in the same run: `git show HEAD:mlrepo.yaml`
   and one manifest HEAD request by curl (what any render must at least do).

The images are FROM a local busybox image (nothing is pulled). Prints
markdown tables for docs/performance.md.

usage: pipeline_bench.py [--mlrepo PATH] [--rounds N] [--busybox IMAGE]
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import tempfile
import threading
import time

from benchlib import LocalRegistry, busybox

HERE = os.path.dirname(os.path.abspath(__file__))
ENV = dict(os.environ, GIT_CONFIG_GLOBAL="/dev/null", GIT_CONFIG_NOSYSTEM="1", NO_COLOR="1",
           GIT_AUTHOR_NAME="b", GIT_AUTHOR_EMAIL="b@x", GIT_COMMITTER_NAME="b", GIT_COMMITTER_EMAIL="b@x")
for k in ("CI", "GITHUB_ACTIONS"):
    ENV.pop(k, None)


def sh(cmd, cwd=None, check=True):
    r = subprocess.run(cmd, cwd=cwd, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if check and r.returncode != 0:
        raise SystemExit(f"failed: {' '.join(cmd)}\n{r.stderr}")
    return r


def repo(steps_yaml, base, prefix, registry=None):
    d = tempfile.mkdtemp(prefix="mlrepo-pipeline-bench-")
    os.makedirs(os.path.join(d, "tool"))
    with open(os.path.join(d, "tool", "Dockerfile"), "w") as f:
        f.write(f"FROM {base}\n")
    with open(os.path.join(d, "mlrepo.yaml"), "w") as f:
        f.write((f"registry: {registry}\n" if registry else "") +
                f"image_prefix: {prefix}\npipelines:\n  p:\n    steps:\n{steps_yaml}")
    sh(["git", "init", "-q", "-b", "main"], cwd=d)
    sh(["git", "add", "-A"], cwd=d)
    sh(["git", "commit", "-qm", "bench"], cwd=d)
    return d


def chain_yaml(n):
    out = ""
    for i in range(n):
        read = f"cat /mlrepo/inputs/x/v; " if i else ""
        out += f"      s{i}:\n        project: tool\n"
        out += f"        command: [sh, -c, '{read}echo {i} > /mlrepo/outputs/x/v']\n        outputs: [x]\n"
        if i:
            out += f"        inputs: {{x: s{i - 1}.x}}\n"
    return out


def chain_script(n, image, work):
    """The floor: the same n `docker run`s, each mounting the previous output."""
    lines = ["#!/bin/sh", "set -e", f"rm -rf {work}", f"mkdir -p {work}"]
    for i in range(n):
        lines.append(f"mkdir -p {work}/s{i}")
        mounts = f"-v {work}/s{i}:/mlrepo/outputs/x"
        read = ""
        if i:
            mounts += f" -v {work}/s{i - 1}:/mlrepo/inputs/x:ro"
            read = "cat /mlrepo/inputs/x/v; "
        lines.append(f"docker run --rm --init {mounts} --entrypoint sh {image} -c '{read}echo {i} > /mlrepo/outputs/x/v'"
                     " > /dev/null")
    path = os.path.join(tempfile.mkdtemp(), "floor.sh")
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    os.chmod(path, 0o755)
    return path


def timed(cmd, cwd):
    start = time.perf_counter()
    sh(cmd, cwd=cwd)
    return time.perf_counter() - start


class Events:
    """Container starts and ends of one image prefix, from `docker events`."""

    def __init__(self, prefix):
        self.p = subprocess.Popen(["docker", "events", "--format", "{{json .}}", "--filter", "type=container"],
                                  stdout=subprocess.PIPE, text=True)
        self.prefix = prefix
        self.events = []
        self.t = threading.Thread(target=self.read, daemon=True)
        self.t.start()
        time.sleep(0.5)

    def read(self):
        for line in self.p.stdout:
            e = json.loads(line)
            image = e.get("Actor", {}).get("Attributes", {}).get("image", "")
            if self.prefix in image and e.get("Action") in ("start", "die"):
                self.events.append((e["timeNano"] / 1e9, e["Action"]))

    def stop(self):
        time.sleep(1)
        self.p.terminate()
        return sorted(self.events)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mlrepo", default=os.path.join(HERE, "..", "build", "src", "mlrepo"))
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--busybox", default="mlrepo-bench/busybox:1")
    a = ap.parse_args()
    mlrepo = os.path.abspath(a.mlrepo)
    base = busybox(a.busybox)
    prefix = f"mlrepo-bench-{os.getpid()}-"

    # 1. Five steps in a chain, mlrepo against the shell script.
    d = repo(chain_yaml(5), base, prefix)
    sh([mlrepo, "pipeline", "run", "p", "-q"], cwd=d)  # builds the image once
    # The image the steps ran: its content tag (the floor runs the very same).
    image = sh(["docker", "images", "--format", "{{.Repository}}:{{.Tag}}", "--filter",
                f"reference={prefix}tool:content-*"]).stdout.split()[0]
    floor = chain_script(5, image, os.path.join(tempfile.mkdtemp(), "out"))
    ml, fl = [], []
    for _ in range(a.rounds):
        ml.append(timed([mlrepo, "pipeline", "run", "p", "--no-cache", "-q"], d))
        fl.append(timed([floor], d))
    ml_med, fl_med = statistics.median(ml), statistics.median(fl)
    print("| case | mlrepo (median) | floor (median) | ratio |")
    print("|---|---|---|---|")
    print(f"| chain of 5 steps, uncached, {a.rounds} rounds alternating | {ml_med:.2f} s | {fl_med:.2f} s "
          f"(5 × `docker run` in sh) | {ml_med / fl_med:.2f}x |")

    # 2. Everything cached: no container may start.
    ev = Events(prefix)
    cached = [timed([mlrepo, "pipeline", "run", "p", "-q"], d) for _ in range(a.rounds)]
    started = sum(1 for _, action in ev.stop() if action == "start")
    c_med = statistics.median(cached)
    print(f"| the same, every step cached | {c_med:.3f} s | {ml_med:.2f} s (its uncached run) | "
          f"{c_med / ml_med:.3f}x; containers started: {started} |")

    # 3. 40 steps: a source, 38 side by side, a sink reading all 38.
    fan = "      src:\n        project: tool\n        command: [sh, -c, 'echo 1 > /mlrepo/outputs/x/v']\n" \
          "        outputs: [x]\n"
    for i in range(38):
        fan += f"      m{i}:\n        project: tool\n        inputs: {{x: src.x}}\n" \
               f"        command: [sh, -c, 'sleep 1; echo {i} > /mlrepo/outputs/y/v']\n" \
               f"        outputs: [y]\n"
    fan += "      sink:\n        project: tool\n        command: [sh, -c, 'ls /mlrepo/inputs | wc -l']\n"
    fan += "        inputs: {" + ", ".join(f"y{i}: m{i}.y" for i in range(38)) + "}\n"
    d2 = repo(fan, base, prefix)
    sh([mlrepo, "pipeline", "graph", "p", "-q"], cwd=d2)
    ev = Events(prefix)
    wall = timed([mlrepo, "pipeline", "run", "p", "-j", "4", "-q"], d2)
    events = ev.stop()
    running, peak, t0 = 0, 0, events[0][0] if events else 0
    busy = {}
    last = t0
    for t, action in events:
        busy[running] = busy.get(running, 0) + (t - last)
        last = t
        running += 1 if action == "start" else -1
        peak = max(peak, running)
    print()
    print(f"40-step fan-out/fan-in, -j 4: {wall:.1f} s wall; at most {peak} containers at once; "
          f"seconds spent with N containers running: " +
          ", ".join(f"{n}: {s:.1f}" for n, s in sorted(busy.items())))

    # 4. Render the 40 steps for Argo, the image pinned by a real registry.
    d3 = None
    with LocalRegistry() as registry:
        d3 = repo(fan, base, prefix, registry=f"{registry.host}/bench")
        sh([mlrepo, "build", "--all", "--push", "-q"], cwd=d3)
        tag = sh(["git", "rev-parse", "HEAD"], cwd=d3).stdout.strip()
        manifest = f"http://{registry.host}/v2/bench/{prefix}tool/manifests/{tag}"
        accept = "Accept: application/vnd.docker.distribution.manifest.v2+json"
        rendered = sh([mlrepo, "pipeline", "render", "p", "-o", "-"], cwd=d3).stdout
        assert rendered.count("template: 'step-") == 40, "40 tasks rendered"
        r, fl4 = [], []
        for _ in range(a.rounds):
            r.append(timed([mlrepo, "pipeline", "render", "p", "-o", "-"], d3))
            start = time.perf_counter()
            sh(["git", "show", "HEAD:mlrepo.yaml"], cwd=d3)
            sh(["curl", "-fsS", "-o", "/dev/null", "-I", "-H", accept, manifest])
            fl4.append(time.perf_counter() - start)
        print()
        print(f"40-step render for Argo Workflows (`pipeline render p -o -`, {a.rounds} rounds): "
              f"{statistics.median(r) * 1000:.0f} ms median (max {max(r) * 1000:.0f} ms); floor "
              f"(`git show` + one manifest HEAD by curl): {statistics.median(fl4) * 1000:.0f} ms")
    for path in (d, d2, d3):
        if path:
            shutil.rmtree(path, ignore_errors=True)
    # Every image of this run, local or named after the registry of part 4.
    for ref in sh(["docker", "images", "--format", "{{.Repository}}:{{.Tag}}"]).stdout.split():
        if f"{prefix}tool:" in ref:
            sh(["docker", "image", "rm", "-f", ref], check=False)


if __name__ == "__main__":
    main()
