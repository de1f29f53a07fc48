#!/usr/bin/env python3
"""`mlrepo job deploy --target ecs` against its floor, on moto_server.

N projects with a job scheduled on ECS (images FROM a local busybox, pushed
to a local docker-registry) are deployed once to moto_server (an AWS API
emulator on 127.0.0.1; tests/tools/moto_up.py). Then, ROUNDS times each,
alternately:
  mlrepo: `mlrepo job deploy --all --target ecs`, a deploy with nothing to
          change (it renders, pins each image by digest, and reads back the
          task definition, the schedule, the family's schedules, the alert
          rule and its targets: 5 aws calls per project);
  floor:  the reads any idempotent deploy must make, with the plain aws CLI:
          describe-task-definition, get-schedule and describe-rule per
          project (3 calls per project).
Both run the same aws CLI, whose start-up (Python) is most of either; the
deploy with --dry-run (render and pin, no aws) says what mlrepo adds. Prints
a markdown row for docs/performance.md.

usage: ecs_bench.py [--mlrepo PATH] [--projects N] [--rounds N]
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
TOOLS = os.path.join(HERE, "..", "build", "tools", "bin")
ENV = dict(os.environ, GIT_CONFIG_GLOBAL="/dev/null", GIT_CONFIG_NOSYSTEM="1", NO_COLOR="1",
           GIT_AUTHOR_NAME="b", GIT_AUTHOR_EMAIL="b@x", GIT_COMMITTER_NAME="b", GIT_COMMITTER_EMAIL="b@x",
           AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing")
for k in ("CI", "GITHUB_ACTIONS"):
    ENV.pop(k, None)
ECS = ("ecs:\n  cluster: ml-jobs\n  region: eu-central-1\n  subnets: [subnet-0abc1234def567890]\n"
       "  execution_role_arn: arn:aws:iam::123456789012:role/exec\n"
       "  scheduler_role_arn: arn:aws:iam::123456789012:role/sched\n"
       "  alert: arn:aws:sns:eu-central-1:123456789012:alerts\n")


def sh(cmd, cwd=None, env=None):
    r = subprocess.run(cmd, cwd=cwd, env=env or ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if r.returncode != 0:
        raise SystemExit(f"failed: {' '.join(cmd)}\n{r.stderr}")
    return r.stdout


def timed(fn):
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mlrepo", default=os.path.join(HERE, "..", "build", "src", "mlrepo"))
    ap.add_argument("--projects", type=int, default=5)
    ap.add_argument("--rounds", type=int, default=3)
    a = ap.parse_args()
    mlrepo = os.path.abspath(a.mlrepo)
    aws = os.path.abspath(os.path.join(TOOLS, "aws"))
    prefix = f"ecsb{os.getpid()}-"
    base = busybox("mlrepo-bench/busybox:1", ENV)
    work = tempfile.mkdtemp(prefix="mlrepo-ecs-bench-")
    port_file = os.path.join(work, "moto.port")
    moto = subprocess.Popen([os.path.join(TOOLS, "python"), os.path.join(HERE, "..", "tests", "tools", "moto_up.py"),
                             port_file], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while not os.path.exists(port_file):
            if moto.poll() is not None:
                raise SystemExit("moto_server did not start")
            time.sleep(0.05)
        with open(port_file) as f:
            env = dict(ENV, AWS_ENDPOINT_URL=f"http://127.0.0.1:{f.read().strip()}")
        with LocalRegistry() as registry:
            repo = os.path.join(work, "repo")
            names = [f"job{i}" for i in range(a.projects)]
            for name in names:
                os.makedirs(os.path.join(repo, name))
                with open(os.path.join(repo, name, "Dockerfile"), "w") as f:
                    f.write(f"FROM {base}\nRUN echo {name} > /name\n")
                with open(os.path.join(repo, name, "mlrepo.yaml"), "w") as f:
                    f.write("job:\n  args: [cat, /name]\n  schedule: '0 3 * * *'\n  concurrency: allow\n"
                            "  resources: {cpu: 1, memory: 2Gi}\n  runs_on: ecs\n")
            with open(os.path.join(repo, "mlrepo.yaml"), "w") as f:
                f.write(f"registry: {registry.host}/bench\nimage_prefix: {prefix}\n" + ECS)
            sh(["git", "init", "-q", "-b", "main"], cwd=repo)
            sh(["git", "add", "-A"], cwd=repo)
            sh(["git", "commit", "-qm", "bench"], cwd=repo)
            sh([mlrepo, "build", "--all", "--push", "-q"], cwd=repo)
            deploy = [mlrepo, "job", "deploy", "--all", "--aws", aws, "-q"]
            sh(deploy, cwd=repo, env=env)
            assert sh(deploy, cwd=repo, env=env).count("\tunchanged\t") == a.projects

            def floor():
                for name in names:
                    for cmd in (["ecs", "describe-task-definition", "--task-definition", name],
                                ["scheduler", "get-schedule", "--name", name],
                                ["events", "describe-rule", "--name", name + ".failed"]):
                        sh([aws, *cmd, "--region", "eu-central-1", "--output", "json"], env=env)

            m, fl, dry = [], [], []
            for _ in range(a.rounds):
                m.append(timed(lambda: sh(deploy, cwd=repo, env=env)))
                fl.append(timed(floor))
                dry.append(timed(lambda: sh(deploy + ["--dry-run"], cwd=repo, env=env)))
            mm, ff = statistics.median(m), statistics.median(fl)
            print(f"{a.projects} projects, {a.rounds} rounds; the same deploy with --dry-run (render and pin "
                  f"every image, no aws call): {statistics.median(dry) * 1000:.0f} ms median")
            print("| case | mlrepo (median) | floor (median) | ratio |")
            print("|---|---|---|---|")
            print(f"| `job deploy --all --target ecs` with nothing to change, {a.projects} projects | {mm:.1f} s | "
                  f"{ff:.1f} s ({3 * a.projects} plain `aws` reads) | {mm / ff:.2f}x |")
    finally:
        moto.terminate()
        moto.wait()
        shutil.rmtree(work, ignore_errors=True)
        for ref in sh(["docker", "images", "--format", "{{.Repository}}:{{.Tag}}"]).split():
            if prefix in ref:
                subprocess.run(["docker", "image", "rm", "-f", ref], capture_output=True)


if __name__ == "__main__":
    sys.exit(main())
