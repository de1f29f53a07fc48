"""The generated matrix workflow, run by the local harness (runner.py) on the
example monorepo over a realistic history, against the real Docker engine and
a real registry. The docker engine's own record (a `docker` wrapper on PATH
logging every call) is the oracle for what was built, pushed and run; the
registry's storage is the oracle for digests and tags.

History: the first push to main; a pull request touching the shared library
libs/mlcommon; the merge queue checking it; its merge; a push touching one
leaf project; a push changing nothing buildable; a pull request from a fork and
one from Dependabot; a pull request that breaks a test; a build secret on main
and on a fork; churn-model's job on its schedule, dispatched by hand with
arguments, failing (Slack is told), dispatched on another branch, and with
its image missing. Then per-project mode: its first push, a leaf
push, and which workflows a push and a pull request trigger. Scenarios run in
file order, each on the state the previous one left.
"""

import hashlib
import json
import os
import re
import shlex
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request

import pytest

from runner import Runner, load_workflow

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.abspath(os.path.join(HERE, "..", ".."))
MLREPO = os.environ.get("MLREPO_BIN", os.path.join(SOURCE, "build", "src", "mlrepo"))
REAL_DOCKER = os.environ.get("MLREPO_HARNESS_DOCKER", "/usr/bin/docker")
WORKFLOW = ".github/workflows/mlrepo.yml"
PROJECTS = ["python-base", "notebook", "churn-model", "demand-forecast"]
K8S_VALIDATE = os.environ.get("MLREPO_K8S_VALIDATE",
                              os.path.join(SOURCE, "build", "tools", "bin", "kubernetes-validate"))
KUBECONFIG = "apiVersion: v1\nkind: Config\nclusters: []\n# kubeconfig-secret-marker\n"
TESTED = ["churn-model", "demand-forecast"]  # the projects with a test: command
STANDIN = "mlrepo-harness/python-standin:3.11-slim"
JOB_WORKFLOW = ".github/workflows/mlrepo-job-churn-model.yml"
HARNESS_JOB_COMMAND = ("['sh', '-c', 'echo \"job args ($#): $*\"; echo \"model dir: $MODEL_DIR\"; "
                       "printf %s \"$DB_PASSWORD\" | md5sum; case \" $* \" in *\" --fail \"*) exit 3;; esac', "
                       "'train']")


def sh(args, cwd=None, env=None, check=True):
    p = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True)
    if check and p.returncode != 0:
        raise AssertionError(f"{' '.join(args)} failed ({p.returncode}):\n{p.stdout}{p.stderr}")
    return p.stdout


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class World:
    """The example monorepo, its origin, a registry and the harness."""

    def __init__(self, mode="matrix", mlrepo=MLREPO):
        self.mode = mode
        self.mlrepo = mlrepo
        self.content_tags = {}  # (project, sha) -> content tag: a commit's never changes
        self.dir = tempfile.mkdtemp(prefix="mlrepo-ci-harness-")
        self.port = free_port()
        self.prefix = f"h{os.getpid()}-"
        self.registry = f"127.0.0.1:{self.port}/acme"
        self.start_registry()
        self.ensure_python_standin()
        self.work = os.path.join(self.dir, "work")
        self.origin = os.path.join(self.dir, "origin.git")
        self.docker_log = os.path.join(self.dir, "docker.log")
        self.make_repository()
        self.kubectl_log = os.path.join(self.dir, "kubectl")
        self.runner = Runner(self.origin, os.path.dirname(self.mlrepo), os.path.join(HERE, "bin"),
                             secrets={"REGISTRY_USERNAME": "ci", "REGISTRY_PASSWORD": "ci-password",
                                      "KUBECONFIG": KUBECONFIG},
                             before_job=self.fresh_runner,
                             extra_env={"MLREPO_DOCKER_LOG": self.docker_log, "MLREPO_REAL_DOCKER": REAL_DOCKER,
                                        "MLREPO_KUBECTL_LOG": self.kubectl_log, "MLREPO_K8S_VALIDATE": K8S_VALIDATE})

    # -- set-up ------------------------------------------------------------
    def start_registry(self):
        """docker-registry cannot choose its own port: a port free a moment
        ago may be taken first, so on a lost race another port; and the server
        that answers must send this world's header, or it is someone else's."""
        data = os.path.join(self.dir, "registry")
        os.makedirs(data)
        config = os.path.join(self.dir, "registry.yml")
        marker = os.path.basename(self.dir)
        self.registry_data = data
        for _ in range(5):
            with open(config, "w") as f:
                f.write(f"version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: {data}\n"
                        f"  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:{self.port}\n"
                        f"  headers:\n    X-Mlrepo-Test: [{marker}]\n")
            self.registry_process = subprocess.Popen(["docker-registry", "serve", config],
                                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            for _ in range(200):
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/v2/", timeout=2) as r:
                        if r.headers.get("X-Mlrepo-Test") == marker:
                            return
                except (OSError, urllib.error.URLError):
                    pass
                if self.registry_process.poll() is not None:
                    break  # lost the port: another one
                time.sleep(0.05)
            self.registry_process.terminate()
            self.registry_process.wait()
            self.port = free_port()
            self.registry = f"127.0.0.1:{self.port}/acme"
        raise AssertionError("docker-registry did not start as this world's registry")

    def ensure_python_standin(self):
        # The examples build FROM python:3.11-slim, which cannot be pulled
        # here: a busybox stand-in plays the public base image, under a name
        # of its own (make_repository points the copy at it), so no fake
        # python:3.11-slim is left in the engine.
        if subprocess.run([REAL_DOCKER, "image", "inspect", STANDIN], capture_output=True).returncode == 0:
            return
        ctx = os.path.join(self.dir, "standin")
        os.makedirs(ctx)
        shutil.copy("/bin/busybox", os.path.join(ctx, "busybox"))
        with open(os.path.join(ctx, "Dockerfile"), "w") as f:
            f.write('FROM scratch\nCOPY busybox /bin/busybox\nRUN ["/bin/busybox", "--install", "-s", "/bin"]\n')
        sh([REAL_DOCKER, "build", "-q", "-t", STANDIN, ctx], env={**os.environ, "DOCKER_BUILDKIT": "0"})

    def git(self, *args, cwd=None):
        env = {**os.environ, "GIT_AUTHOR_NAME": "ci", "GIT_AUTHOR_EMAIL": "ci@example.invalid",
               "GIT_COMMITTER_NAME": "ci", "GIT_COMMITTER_EMAIL": "ci@example.invalid"}
        return sh(["git", *args], cwd=cwd or self.work, env=env).strip()

    def make_repository(self):
        shutil.copytree(os.path.join(SOURCE, "examples", "monorepo"), self.work)
        for root, _, files in os.walk(self.work):
            for name in files:
                path = os.path.join(root, name)
                with open(path) as f:
                    text = f.read()
                text = text.replace("localhost:5000/acme", self.registry)
                # Images of this test only: the base's name gains the prefix.
                text = text.replace("}/python-base:", "}/" + self.prefix + "python-base:")
                # The stand-in has no Python: the tests check the image holds
                # them, with the shell it has.
                text = text.replace("test: python -m pytest -q tests", "test: grep -q 'def test' /app/tests/test_*.py")
                text = text.replace("mode: matrix", "mode: " + self.mode)
                # The job's command, with the stand-in's shell: it shows its
                # arguments, its env and the secret's hash, and fails on --fail.
                text = text.replace('command: ["python", "-m", "churn.train"]', "command: " + HARNESS_JOB_COMMAND)
                # Here churn-model trains on a GPU, on the team's self-hosted
                # GPU runner (the docker wrapper stands in for its engine).
                text = text.replace('resources: {cpu: "1", memory: 1Gi}', 'resources: {cpu: "1", memory: 1Gi, gpu: 1}')
                text = text.replace("runs_on: github-actions", "runs_on: {github-actions: [self-hosted, linux, gpu]}")
                text = text.replace("FROM python:${PYTHON_VERSION}-slim",
                                    "FROM mlrepo-harness/python-standin:${PYTHON_VERSION}-slim")
                with open(path, "w") as f:
                    f.write(text)
        with open(os.path.join(self.work, "mlrepo.yaml"), "a") as f:
            f.write(f"image_prefix: {self.prefix}\n")
        # CI deploys the promoted jobs to the example's "prod" environment (a
        # recording kubectl stands in for the cluster).
        config = os.path.join(self.work, "mlrepo.yaml")
        with open(config) as f:
            text = f.read()
        assert "\nkubernetes:\n" in text, "the example has a kubernetes: section"
        with open(config, "w") as f:
            f.write(text.replace("\nkubernetes:\n", "\nkubernetes:\n  deploy: prod\n", 1))
        self.git("init", "-q", "-b", "main")
        self.git("add", "-A")
        self.git("commit", "-q", "-m", "Example monorepo")
        sh([self.mlrepo, "ci", "generate"], cwd=self.work)
        self.git("add", "-A")
        self.git("commit", "-q", "-m", "Generated CI")
        sh(["git", "clone", "-q", "--bare", self.work, self.origin])
        # The first push_main() creates main on the origin.
        sh(["git", "--git-dir", self.origin, "update-ref", "-d", "refs/heads/main"])
        self.repository = "acme/monorepo"

    def close(self):
        self.registry_process.terminate()
        self.registry_process.wait()
        self.fresh_runner("cleanup")
        shutil.rmtree(self.dir, ignore_errors=True)

    def fresh_runner(self, label):
        """A new runner's engine has none of the project images."""
        lines = sh([REAL_DOCKER, "image", "ls", "--format", "{{.ID}} {{.Repository}}"]).splitlines()
        mine = sorted({line.split()[0] for line in lines
                       if line.split()[1].startswith(self.registry + "/" + self.prefix)})
        if mine:
            sh([REAL_DOCKER, "image", "rm", "-f", *mine])

    # -- events ------------------------------------------------------------
    def head(self, ref="HEAD"):
        return self.git("rev-parse", ref)

    def commit(self, message, edits):
        for path, text in edits.items():
            full = os.path.join(self.work, path)
            os.makedirs(os.path.dirname(full), exist_ok=True)
            with open(full, "a") as f:
                f.write(text)
        self.git("add", "-A")
        self.git("commit", "-q", "-m", message)
        return self.head()

    def push_main(self):
        before = subprocess.run(["git", "--git-dir", self.origin, "rev-parse", "--verify", "-q", "refs/heads/main"],
                                capture_output=True, text=True).stdout.strip() or "0" * 40
        self.git("push", "-q", "-f", self.origin, "HEAD:refs/heads/main")
        return self.run("push", {
            "ref": "refs/heads/main", "before": before, "after": self.head(),
            "repository": {"full_name": self.repository, "default_branch": "main"},
            "head_commit": {"id": self.head(), "message": self.git("log", "-1", "--format=%B")},
        }, self.head(), "refs/heads/main")

    def push_tag(self, tag, sha=None):
        """Tags `sha` (HEAD) as `mlrepo release` does, pushes that one tag
        and runs what GitHub runs on its push."""
        sha = sha or self.head()
        self.git("tag", "-a", tag, "-m", "Release " + tag, sha)
        self.git("push", "-q", self.origin, f"refs/tags/{tag}")
        return self.run("push", {
            "ref": f"refs/tags/{tag}", "before": "0" * 40, "after": sha, "created": True,
            "repository": {"full_name": self.repository, "default_branch": "main"},
            "head_commit": {"id": sha, "message": self.git("log", "-1", "--format=%B", sha)},
        }, sha, f"refs/tags/{tag}")

    def pull_request(self, number, branch, fork=False, actor=None):
        """Opens a pull request of `branch` (the work tree's HEAD) into main,
        with GitHub's merge commit at refs/pull/N/merge."""
        head = self.head()
        self.git("push", "-q", "-f", self.origin, f"HEAD:refs/pull/{number}/head")
        base = sh(["git", "--git-dir", self.origin, "rev-parse", "refs/heads/main"]).strip()
        merge_dir = os.path.join(self.dir, f"merge-{number}")
        shutil.rmtree(merge_dir, ignore_errors=True)
        self.git("clone", "-q", self.origin, merge_dir, cwd=self.dir)
        self.git("merge", "-q", "--no-ff", "-m", f"Merge {head} into {base}", head, cwd=merge_dir)
        merge = self.git("rev-parse", "HEAD", cwd=merge_dir)
        self.git("push", "-q", "-f", "origin", f"HEAD:refs/pull/{number}/merge", cwd=merge_dir)
        self.last_merge = merge
        return self.run("pull_request", {
            "action": "synchronize", "number": number,
            "pull_request": {
                "number": number,
                "base": {"ref": "main", "sha": base, "repo": {"full_name": self.repository}},
                "head": {"ref": branch, "sha": head,
                         "repo": {"full_name": "someone/monorepo" if fork else self.repository}},
            },
            "repository": {"full_name": self.repository, "default_branch": "main"},
        }, merge, f"refs/pull/{number}/merge", fork=fork, actor=actor)

    def run(self, event_name, payload, sha, ref, fork=False, actor=None):
        """Runs the matrix workflow (matrix mode), or every per-project
        workflow the event triggers, one after the other."""
        open(self.docker_log, "w").close()
        saved = self.runner.secrets
        if fork or actor == "dependabot[bot]":
            self.runner.secrets = {}  # GitHub gives these pull requests no secrets
        files = [WORKFLOW] if self.mode == "matrix" else sorted(
            f for f in sh(["git", "--git-dir", self.origin, "ls-tree", "--name-only", sha,
                           ".github/workflows/"]).split()
            if f.startswith(".github/workflows/mlrepo-") and not f.startswith(".github/workflows/mlrepo-job-"))
        try:
            who = actor or ("someone" if fork else "alice")
            results = {f: self.runner.run(f, event_name, payload, sha, ref, actor=who) for f in files}
        finally:
            self.runner.secrets = saved
        if self.mode == "matrix":
            return Run(self, results[WORKFLOW])
        return Run(self, None, {os.path.basename(f)[len("mlrepo-"):-len(".yml")]: r for f, r in results.items()})

    # -- oracles -----------------------------------------------------------
    def image(self, project):
        return f"{self.registry}/{self.prefix}{project}"

    def tags(self, project):
        d = os.path.join(self.registry_data, "docker/registry/v2/repositories/acme", self.prefix + project,
                         "_manifests/tags")
        return sorted(os.listdir(d)) if os.path.isdir(d) else []

    def tag_digest(self, project, tag):
        link = os.path.join(self.registry_data, "docker/registry/v2/repositories/acme", self.prefix + project,
                            "_manifests/tags", tag, "current/link")
        return open(link).read().strip() if os.path.exists(link) else ""

    def content_tag(self, project, sha):
        """The content tag mlrepo gives `project` at commit `sha`."""
        key = (project, sha)
        if key not in self.content_tags:
            self.content_tags[key] = self.plan_content_tag(project, sha)
        return self.content_tags[key]

    def plan_content_tag(self, project, sha):
        tmp = os.path.join(self.dir, "plan")
        shutil.rmtree(tmp, ignore_errors=True)
        self.git("clone", "-q", self.origin, tmp, cwd=self.dir)
        self.git("checkout", "-q", "--detach", sha, cwd=tmp)
        out = sh([MLREPO, "build", "--dry-run", "--force", "--content-tag-only", project], cwd=tmp)
        m = re.search(re.escape(self.image(project)) + r":(content-[0-9a-f]+)", out)
        assert m, out
        return m.group(1)


class Run:
    def __init__(self, world, result, per_project=None):
        self.world = world
        self.result = result
        self.per_project = per_project or {}  # project -> RunResult of its workflow
        with open(world.docker_log) as f:
            self.calls = []
            for line in f:
                label, _, args = line.rstrip("\n").partition("\t")
                self.calls.append((label, shlex.split(args)))

    def explain(self):
        calls = "\n".join(f"  [{label}] docker {' '.join(args)}" for label, args in self.calls)
        logs = self.result.log() if self.result else "\n".join(
            f"workflow {p}: {'ran' if r.triggered else 'not triggered'}\n{r.log()}" for p, r in self.per_project.items())
        return f"{logs}\ndocker calls:\n{calls}"

    def triggered(self):
        return sorted(p for p, r in self.per_project.items() if r.triggered)

    def builds(self):
        """project -> how many times an image of it was built."""
        out = {}
        for _, args in self.calls:
            sub = args[1:] if args[:1] == ["buildx"] else args
            if sub[:1] != ["build"]:
                continue
            tags = [sub[i + 1] for i, a in enumerate(sub[:-1]) if a in ("-t", "--tag")]
            for project in PROJECTS + ["tokened"]:
                if any(t.startswith(self.world.image(project) + ":content-") for t in tags):
                    out[project] = out.get(project, 0) + 1
        return out

    def build_order(self):
        order = []
        for _, args in self.calls:
            sub = args[1:] if args[:1] == ["buildx"] else args
            if sub[:1] == ["build"]:
                for project in PROJECTS:
                    if any(a.startswith(self.world.image(project) + ":content-") for a in sub):
                        order.append(project)
        return order

    def tested_images(self):
        """project -> the image references its test containers ran."""
        out = {}
        for _, args in self.calls:
            if args[:1] != ["run"]:
                continue
            for project in PROJECTS:
                for a in args:
                    if a.startswith(self.world.image(project) + "@") or a.startswith(self.world.image(project) + ":"):
                        out.setdefault(project, []).append(a)
        return out

    def engine_work(self, job_prefix):
        """What a job asked of the engine beyond logging in to the registry."""
        return [args for label, args in self.calls if label.startswith(job_prefix) and args[:1] != ["login"]]

    def job(self, job_id):
        return self.result.result(job_id)


@pytest.fixture(scope="module")
def world():
    w = World()
    yield w
    w.close()


@pytest.fixture(scope="module")
def per_project():
    w = World(mode="per-project")
    yield w
    w.close()


def assert_tested_pushed_digests(world, run, projects, sha):
    tested = run.tested_images()
    for project in projects:
        digest = world.tag_digest(project, world.content_tag(project, sha))
        assert digest.startswith("sha256:"), f"{project} is not in the registry\n{run.explain()}"
        expected = f"{world.image(project)}@{digest}"
        assert tested.get(project) == [expected], f"{project}: tested {tested.get(project)}, pushed {expected}\n" \
                                                  f"{run.explain()}"


def summaries(run, job_prefix):
    return "".join(i.summary for j, rec in run.result.jobs.items() if j.startswith(job_prefix)
                   for i in rec["instances"])


def test_first_push_builds_everything_once_in_dependency_order(world):
    run = world.push_main()
    assert run.job("gate") == "success", run.explain()
    assert run.builds() == {p: 1 for p in PROJECTS}, run.explain()
    order = run.build_order()
    assert order[0] == "python-base", run.explain()  # depth 0 before depth 1
    assert run.job("build-0") == "success" and run.job("build-1") == "success", run.explain()
    assert_tested_pushed_digests(world, run, TESTED, world.head())
    # Promotion: commit tag and latest, registry-side; nothing built or pulled.
    assert run.job("promote") == "success", run.explain()
    assert run.engine_work("promote") == [], run.explain()
    for project in PROJECTS:
        content = world.tag_digest(project, world.content_tag(project, world.head()))
        assert world.tag_digest(project, world.head()) == content
        assert world.tag_digest(project, "latest") == content
    assert "@sha256:" in summaries(run, "build-"), "the job summary names the digest tested"


def test_pull_request_touching_the_shared_library(world):
    world.git("checkout", "-q", "-b", "clip-floats")
    world.commit("mlcommon: a new feature", {"libs/mlcommon/mlcommon/features.py": "\n\ndef scale(x):\n    return x\n"})
    latest_before = world.tag_digest("churn-model", "latest")
    run = world.pull_request(1, "clip-floats")
    assert run.job("gate") == "success", run.explain()
    assert run.builds() == {"churn-model": 1}, run.explain()  # only what uses libs/mlcommon
    assert_tested_pushed_digests(world, run, ["churn-model"], world.last_merge)
    assert run.job("promote") == "skipped", run.explain()
    assert world.tag_digest("churn-model", "latest") == latest_before, "a pull request never moves latest"
    world.pr_merge = world.last_merge


def test_merge_queue_checks_like_a_pull_request(world):
    # The queue tests the pull request merged onto main, under a temporary branch.
    ref = "refs/heads/gh-readonly-queue/main/pr-1-" + world.head("main")
    sh(["git", "--git-dir", world.origin, "update-ref", ref, world.pr_merge])
    base = sh(["git", "--git-dir", world.origin, "rev-parse", "refs/heads/main"]).strip()
    run = world.run("merge_group", {
        "action": "checks_requested",
        "merge_group": {"head_sha": world.pr_merge, "head_ref": ref, "base_sha": base, "base_ref": "refs/heads/main"},
        "repository": {"full_name": world.repository, "default_branch": "main"},
    }, world.pr_merge, ref)
    assert run.job("gate") == "success", run.explain()
    assert run.builds() == {}, "the pull request pushed this content already\n" + run.explain()
    assert_tested_pushed_digests(world, run, ["churn-model"], world.pr_merge)
    assert run.job("promote") == "skipped", run.explain()


def test_merge_to_main_builds_nothing_and_promotes(world):
    # GitHub's merge button: main becomes the pull request's merge commit.
    world.git("checkout", "-q", "main")
    world.git("fetch", "-q", world.origin, "refs/pull/1/merge")
    world.git("merge", "-q", "--ff-only", world.pr_merge)
    run = world.push_main()
    assert run.job("gate") == "success", run.explain()
    assert run.builds() == {}, "the pull request pushed this content already\n" + run.explain()
    assert run.job("promote") == "success", run.explain()
    assert run.engine_work("promote") == [], run.explain()  # registry-side: no pull, no build
    content = world.tag_digest("churn-model", world.content_tag("churn-model", world.head()))
    assert world.tag_digest("churn-model", "latest") == content
    assert world.tag_digest("churn-model", world.head()) == content
    # Tests still ran, against the pushed digest.
    assert_tested_pushed_digests(world, run, ["churn-model"], world.head())


def test_push_touching_one_leaf_project(world):
    world.commit("forecast: a comment", {"projects/demand-forecast/src/forecast.py": "\n# horizon in days\n"})
    run = world.push_main()
    assert run.job("gate") == "success", run.explain()
    assert run.builds() == {"demand-forecast": 1}, run.explain()
    assert run.job("build-0") == "skipped", run.explain()
    assert_tested_pushed_digests(world, run, ["demand-forecast"], world.head())


def test_push_changing_nothing_buildable(world):
    world.commit("docs", {"README.md": "# the team's monorepo\n"})
    run = world.push_main()
    assert run.job("gate") == "success", run.explain()
    assert run.builds() == {}, run.explain()
    assert all(run.job(j) == "skipped" for j in ("build-0", "build-1", "promote")), run.explain()
    assert run.calls == [], run.explain()


def test_fork_pull_request_builds_and_tests_without_pushing(world):
    world.git("checkout", "-q", "-b", "fork-forecast", "main")
    world.commit("forecast: pin a library", {"projects/demand-forecast/requirements.txt": "holidays==0.40\n"})
    tags_before = {p: world.tags(p) for p in PROJECTS}
    run = world.pull_request(2, "fork-forecast", fork=True)
    assert run.job("gate") == "success", run.explain()
    # The unchanged base is pulled (a public registry), not built again.
    assert run.builds() == {"demand-forecast": 1}, run.explain()
    assert all(args for _, args in run.calls), run.explain()
    verbs = {args[0] for _, args in run.calls}
    assert "push" not in verbs and "login" not in verbs, run.explain()
    assert {p: world.tags(p) for p in PROJECTS} == tags_before, "a fork's run wrote to the registry"
    tested = run.tested_images()["demand-forecast"]
    local = f"{world.image('demand-forecast')}:{world.content_tag('demand-forecast', world.last_merge)}"
    assert tested == [local], run.explain()
    logs = "".join(s["log"] for i in run.result.instances("build-1") for s in i.steps)
    assert "not pushed: a pull request from a fork" in logs, run.explain()


def test_dependabot_pull_request_does_not_try_to_push(world):
    world.git("checkout", "-q", "-b", "dependabot/pip/holidays", "main")
    world.commit("Bump holidays", {"projects/demand-forecast/requirements.txt": "holidays==0.41\n"})
    run = world.pull_request(4, "dependabot/pip/holidays", actor="dependabot[bot]")
    assert run.job("gate") == "success", run.explain()
    assert run.builds() == {"demand-forecast": 1}, run.explain()
    verbs = {args[0] for _, args in run.calls}
    assert "push" not in verbs and "login" not in verbs, run.explain()


def test_pull_request_that_breaks_a_test_fails_the_gate(world):
    world.git("checkout", "-q", "-b", "broken", "main")
    path = os.path.join(world.work, "projects/churn-model/tests/test_train.py")
    with open(path, "w") as f:
        f.write("# every test removed by mistake\n")
    world.git("commit", "-q", "-am", "churn: remove the tests")
    run = world.pull_request(3, "broken")
    assert run.job("build-1") == "failure", run.explain()
    assert run.job("gate") == "failure", run.explain()
    assert run.job("promote") == "skipped", run.explain()


def test_build_secret_reaches_the_build_and_a_fork_is_told_which_it_lacks(world):
    # A project whose build reads a token (a model hub's, say) as a BuildKit
    # secret: the generated workflow passes it from the CI secret named in
    # ci.secrets to the build step only.
    world.git("checkout", "-q", "main")
    # The build checks the value by its hash: the Dockerfile never spells it.
    digest = hashlib.md5(b"hf-secret-value").hexdigest()
    world.commit("train: a build that needs a token", {
        "projects/tokened/Dockerfile": f"FROM {STANDIN}\n"
                                       "RUN --mount=type=secret,id=hf_token md5sum /run/secrets/hf_token"
                                       f" | grep -q ^{digest}\n",
        "projects/tokened/mlrepo.yaml": "secrets: {hf_token: HF_TOKEN}\nci:\n  secrets: {HF_TOKEN: HUGGINGFACE_TOKEN}\n",
    })
    sh([world.mlrepo, "ci", "generate"], cwd=world.work)
    world.git("add", "-A")
    world.git("commit", "-q", "-m", "Generated CI")
    world.runner.secrets = {**world.runner.secrets, "HUGGINGFACE_TOKEN": "hf-secret-value"}
    run = world.push_main()
    assert run.job("gate") == "success", run.explain()
    assert run.builds() == {"tokened": 1}, run.explain()
    logs = "".join(s["log"] for i in run.result.instances("build-0") for s in i.steps)
    assert "hf-secret-value" not in logs and "hf-secret-value" not in open(world.docker_log).read()

    # A fork's pull request gets no secrets: the build that needs one fails
    # naming it; nothing else is asked of the fork.
    world.git("checkout", "-q", "-b", "fork-token", "main")
    world.commit("tokened: touch", {"projects/tokened/notes.txt": "x\n"})
    run = world.pull_request(5, "fork-token", fork=True)
    assert run.job("build-0") == "failure", run.explain()
    logs = "".join(s["log"] for i in run.result.instances("build-0") for s in i.steps)
    assert "a pull request from a fork" in logs and "HUGGINGFACE_TOKEN" in logs, run.explain()
    world.git("checkout", "-q", "main")


# The job workflow: churn-model's job (job: in its mlrepo.yaml) with the image
# CI promoted for main, pulled by digest.

def run_job_workflow(world, event_name, payload, ref="refs/heads/main", secrets=None):
    sha = sh(["git", "--git-dir", world.origin, "rev-parse", ref]).strip()
    open(world.docker_log, "w").close()
    saved = world.runner.secrets
    world.runner.secrets = {**saved, "CHURN_DB_PASSWORD": "db-secret-value", **(secrets or {})}
    try:
        result = world.runner.run(JOB_WORKFLOW, event_name, {
            "repository": {"full_name": world.repository, "default_branch": "main"}, **payload}, sha, ref)
    finally:
        world.runner.secrets = saved
    assert result.triggered, f"{JOB_WORKFLOW} does not run on {event_name}"
    return Run(world, result)


def job_log(run):
    return "".join(s["log"] for i in run.result.instances("run") for s in i.steps)


def test_job_on_its_schedule_runs_the_promoted_digest(world):
    world.git("checkout", "-q", "main")
    sha = world.head("main")
    digest = world.tag_digest("churn-model", world.content_tag("churn-model", sha))
    assert digest.startswith("sha256:") and digest == world.tag_digest("churn-model", "latest")
    run = run_job_workflow(world, "schedule", {"schedule": "0 3 * * 1-5"})
    assert run.job("run") == "success", run.explain()
    assert run.builds() == {}, "a scheduled job builds nothing\n" + run.explain()
    pinned = f"{world.image('churn-model')}@{digest}"
    assert ["pull", pinned] in [args[:2] for _, args in run.calls], run.explain()
    assert run.tested_images().get("churn-model") == [pinned], run.explain()
    log = job_log(run)
    assert "job args (2): --logins-last-month 3" in log and "model dir: /tmp/models" in log, run.explain()
    assert hashlib.md5(b"db-secret-value").hexdigest() in log, "the container got the secret"
    assert "db-secret-value" not in log and "db-secret-value" not in open(world.docker_log).read()
    summary = summaries(run, "run")
    assert "churn-model: succeeded" in summary and digest in summary and "| 1/2 |" in summary, summary


def test_gpu_job_runs_on_its_labelled_runner_with_its_gpu(world):
    # churn-model's job asks for a GPU and names the self-hosted GPU runner's
    # labels: its workflow runs there (not on ubuntu-latest, where it would
    # fail every night), and the container is started with --gpus.
    with open(os.path.join(world.work, JOB_WORKFLOW)) as f:
        workflow = load_workflow(f.read())
    assert workflow["jobs"]["run"]["runs-on"] == ["self-hosted", "linux", "gpu"]
    run = run_job_workflow(world, "schedule", {"schedule": "0 3 * * 1-5"})
    assert run.job("run") == "success", run.explain()
    assert [i.runs_on for i in run.result.instances("run")] == [["self-hosted", "linux", "gpu"]]
    runs = [args for _, args in run.calls if args[:1] == ["run"]]
    assert runs and all("--gpus" in args and args[args.index("--gpus") + 1] == "1" for args in runs), run.explain()


def test_job_dispatched_by_hand_with_arguments(world):
    run = run_job_workflow(world, "workflow_dispatch", {"inputs": {"args": "--logins-last-month '7 8'"}})
    assert run.job("run") == "success", run.explain()
    assert run.builds() == {}, run.explain()
    assert "job args (2): --logins-last-month 7 8" in job_log(run), run.explain()
    # No input: the job's own args.
    run = run_job_workflow(world, "workflow_dispatch", {})
    assert "job args (2): --logins-last-month 3" in job_log(run), run.explain()


def test_job_that_fails_fails_the_run_and_tells_slack(world):
    received = os.path.join(world.dir, "slack.txt")
    # The receiver chooses its port and writes it once listening.
    slack = subprocess.Popen(["python3", os.path.join(SOURCE, "tests", "fixtures", "capture_http.py"), "0",
                              received])
    try:
        for _ in range(200):
            if os.path.exists(received + ".port"):
                break
            time.sleep(0.05)
        with open(received + ".port") as f:
            port = int(f.read())
        run = run_job_workflow(world, "workflow_dispatch", {"inputs": {"args": "--fail"}},
                               secrets={"SLACK_WEBHOOK_URL": f"http://127.0.0.1:{port}/hook"})
    finally:
        slack.terminate()
        slack.wait()
    assert run.job("run") == "failure", run.explain()
    log = job_log(run)
    assert "attempt 1/2 failed with exit code 3; retrying" in log and "failed on attempt 2/2" in log, run.explain()
    posts = [json.loads(line)["text"] for line in open(received)]
    assert len(posts) == 1, posts
    assert "job churn-model failed (workflow_dispatch run; schedule 0 3 * * 1-5 (Europe/Berlin))" in posts[0]
    assert "https://github.com/acme/monorepo/actions/runs/1" in posts[0], posts


def test_job_dispatched_on_another_branch_is_refused(world):
    world.git("push", "-q", "-f", world.origin, "main:refs/heads/try-job")
    run = run_job_workflow(world, "workflow_dispatch", {}, ref="refs/heads/try-job")
    assert run.job("run") == "failure", run.explain()
    assert "run the workflow on main, not on try-job" in job_log(run), run.explain()
    assert run.calls == [], run.explain()


def test_job_whose_image_is_missing_names_the_build(world):
    # A commit on main that CI never built: nothing to run, and nothing built.
    before = world.head("main")
    world.commit("churn: unbuilt", {"projects/churn-model/src/churn/unbuilt.py": "x = 1\n"})
    world.git("push", "-q", world.origin, "HEAD:refs/heads/main")
    try:
        run = run_job_workflow(world, "schedule", {"schedule": "0 3 * * 1-5"})
        assert run.job("run") == "failure", run.explain()
        assert run.builds() == {}, run.explain()
        assert "mlrepo build --push churn-model" in job_log(run), run.explain()
    finally:
        world.git("reset", "-q", "--hard", before)
        world.git("push", "-q", "-f", world.origin, "HEAD:refs/heads/main")


# Releases: a `<name>/v<VERSION>` tag pushed as `mlrepo release --push` does.

def release_summary(run):
    return "".join(i.summary for i in run.result.instances("release"))


def test_release_tag_promotes_the_tested_image_without_rebuilding(world):
    world.git("checkout", "-q", "main")
    sha = world.head("main")
    content = world.tag_digest("churn-model", world.content_tag("churn-model", sha))
    assert content, "main's image was pushed by an earlier scenario"
    run = world.push_tag("churn-model/v1.0.0", sha)
    assert run.job("release") == "success", run.explain()
    assert run.job("changes") == "skipped" and run.job("promote") == "skipped", run.explain()
    assert run.job("gate") == "success", run.explain()
    assert run.builds() == {}, "the tagged commit's image exists: nothing is rebuilt\n" + run.explain()
    for tag in ("1.0.0", "1.0", "1", "latest"):
        assert world.tag_digest("churn-model", tag) == content, tag + "\n" + run.explain()
    summary = release_summary(run)
    assert "Released churn-model 1.0.0" in summary and content in summary, summary
    assert "`1.0.0`, `1.0`, `1`, `latest`" in summary, summary
    # Only churn-model is released.
    assert "1.0.0" not in world.tags("demand-forecast")


def test_prerelease_tag_gets_its_own_tag_only(world):
    before = {t: world.tag_digest("churn-model", t) for t in ("1", "1.0", "latest")}
    run = world.push_tag("churn-model/v1.1.0-rc.1", world.head("main"))
    assert run.job("release") == "success", run.explain()
    assert "1.1.0-rc.1" in world.tags("churn-model")
    assert "1.1" not in world.tags("churn-model")
    assert {t: world.tag_digest("churn-model", t) for t in before} == before, run.explain()


def test_release_tag_on_an_unbuilt_commit_builds_and_tests_it_first(world):
    # A commit CI never saw (it is on no branch): the release job builds and
    # tests its image, then promotes it; latest moves to it (1.1.0 > 1.0.0).
    world.git("checkout", "-q", "-b", "hotfix", "main")
    sha = world.commit("churn: hotfix", {"projects/churn-model/src/churn/hotfix.py": "FIX = True\n"})
    run = world.push_tag("churn-model/v1.1.0", sha)
    world.git("checkout", "-q", "main")
    assert run.job("release") == "success", run.explain()
    assert run.builds() == {"churn-model": 1}, run.explain()
    content = world.tag_digest("churn-model", world.content_tag("churn-model", sha))
    assert content and "churn-model" in run.tested_images(), run.explain()
    assert any(content in ref for ref in run.tested_images()["churn-model"]), run.explain()
    for tag in ("1.1.0", "1.1", "1", "latest"):
        assert world.tag_digest("churn-model", tag) == content, tag + "\n" + run.explain()

    # An older patch afterwards, cut from a branch off churn-model/v1.0.0
    # (main holds 1.1.0-rc.1, so a 1.0.1 from main would carry 1.1's work):
    # 1.0 moves to it, latest and 1 stay on 1.1.0.
    world.git("checkout", "-q", "-b", "fix-1.0", "churn-model/v1.0.0")
    fix = world.commit("churn: fix for 1.0", {"projects/churn-model/src/churn/fix10.py": "FIX = 1\n"})
    run = world.push_tag("churn-model/v1.0.1", fix)
    world.git("checkout", "-q", "main")
    assert run.job("release") == "success", run.explain()
    assert world.tag_digest("churn-model", "latest") == content, run.explain()
    assert world.tag_digest("churn-model", "1") == content, run.explain()
    fixed = world.tag_digest("churn-model", world.content_tag("churn-model", fix))
    assert fixed and world.tag_digest("churn-model", "1.0.1") == fixed, run.explain()
    assert world.tag_digest("churn-model", "1.0") == fixed, run.explain()

    # The same patch tagged on main by hand: the release job refuses it
    # before any tag moves.
    run = world.push_tag("churn-model/v1.0.2", world.head("main"))
    assert run.job("release") == "failure", run.explain()
    assert "already contains the release churn-model/v1.1.0-rc.1" in run.result.log(), run.explain()
    assert "1.0.2" not in world.tags("churn-model")
    assert world.tag_digest("churn-model", "1.0") == fixed, run.explain()


# Deploy: kubernetes.deploy: prod applies the promoted jobs' CronJobs.

def kubectl_calls(world):
    d = world.kubectl_log
    calls = sorted(f for f in os.listdir(d) if f.endswith(".args")) if os.path.isdir(d) else []
    return [{"args": open(os.path.join(d, c)).read().strip(),
             "mode": open(os.path.join(d, c[:-5] + ".kubeconfig-mode")).read().strip(),
             "yaml": open(os.path.join(d, c[:-5] + ".yaml")).read()} for c in calls]


def test_each_job_runs_on_its_schedule_in_one_place(world):
    # churn-model's job runs in GitHub Actions (runs_on: github-actions), so
    # it has a scheduled workflow; demand-forecast's runs on the cluster
    # (runs_on: kubernetes, and kubernetes.deploy is on here), so it has none:
    # a second schedule would run it twice.
    workflows = os.path.join(world.work, ".github", "workflows")
    assert os.path.exists(os.path.join(workflows, "mlrepo-job-churn-model.yml"))
    assert not os.path.exists(os.path.join(workflows, "mlrepo-job-demand-forecast.yml"))


def test_push_deploys_the_changed_job_pinned_by_digest(world):
    world.git("checkout", "-q", "main")
    shutil.rmtree(world.kubectl_log, ignore_errors=True)
    world.commit("forecast: longer horizon", {"projects/demand-forecast/src/horizon.py": "WEEKS = 3\n"})
    run = world.push_main()
    assert run.job("deploy") == "success", run.explain()
    assert run.job("gate") == "success", run.explain()
    calls = kubectl_calls(world)
    assert len(calls) == 1, run.explain()  # demand-forecast: the one changed project with a cluster job
    call = calls[0]
    assert call["args"] == "apply --server-side --field-manager=mlrepo --force-conflicts -f -"
    assert call["mode"] == "600", "the kubeconfig is written with mode 0600"
    content = world.tag_digest("demand-forecast", world.content_tag("demand-forecast", world.head()))
    assert f"image: '{world.image('demand-forecast')}@{content}'" in call["yaml"], call["yaml"]
    assert "kind: CronJob" in call["yaml"] and "namespace: 'ml-prod'" in call["yaml"], call["yaml"]
    logs = "".join(s["log"] for i in run.result.instances("deploy") for s in i.steps)
    assert "kubeconfig-secret-marker" not in logs, "the kubeconfig is never echoed"
    summary = "".join(i.summary for i in run.result.instances("deploy"))
    assert "CronJob/demand-forecast" in summary and content in summary, summary


def test_push_of_a_job_that_runs_in_actions_applies_nothing_to_the_cluster(world):
    world.git("checkout", "-q", "main")
    shutil.rmtree(world.kubectl_log, ignore_errors=True)
    world.commit("churn: retrain", {"projects/churn-model/src/churn/retrain.py": "EPOCHS = 3\n"})
    run = world.push_main()
    assert run.job("deploy") == "success", run.explain()
    assert kubectl_calls(world) == [], run.explain()
    logs = "".join(s["log"] for i in run.result.instances("deploy") for s in i.steps)
    assert "churn-model: its schedule runs in GitHub Actions" in logs, run.explain()


# Per-project mode: one workflow per project, triggered by its `paths:`.

def test_per_project_first_push_runs_every_workflow(per_project):
    run = per_project.push_main()
    assert run.triggered() == sorted(PROJECTS), run.explain()
    for project, result in run.per_project.items():
        assert result.result("build") == "success", run.explain()
    # demand-forecast's job runs on the cluster: its own workflow deploys it
    # after the build; churn-model's runs in Actions, so its has no deploy job.
    assert run.per_project["demand-forecast"].result("deploy") == "success", run.explain()
    assert "deploy" not in run.per_project["churn-model"].jobs, "a job in Actions, no deploy job"
    # Run one after the other here, the workflows find what an earlier one
    # pushed (on GitHub they run at once: see docs/ci.md).
    assert all(n == 1 for n in run.builds().values()) and set(run.builds()) == set(PROJECTS), run.explain()
    assert_tested_pushed_digests(per_project, run, TESTED, per_project.head())
    for project in PROJECTS:
        content = per_project.tag_digest(project, per_project.content_tag(project, per_project.head()))
        assert per_project.tag_digest(project, "latest") == content, run.explain()


def test_per_project_leaf_push_runs_one_workflow_building_once(per_project):
    per_project.commit("forecast: a comment", {"projects/demand-forecast/src/forecast.py": "\n# horizon\n"})
    run = per_project.push_main()
    assert run.triggered() == ["demand-forecast"], run.explain()
    assert run.builds() == {"demand-forecast": 1}, run.explain()
    assert_tested_pushed_digests(per_project, run, ["demand-forecast"], per_project.head())
    content = per_project.tag_digest("demand-forecast", per_project.content_tag("demand-forecast", per_project.head()))
    assert per_project.tag_digest("demand-forecast", "latest") == content


def test_per_project_paths_match_what_mlrepo_changed_counts(per_project):
    per_project.commit("docs", {"README.md": "# notes\n"})
    run = per_project.push_main()
    assert run.triggered() == [] and run.calls == [], run.explain()
    per_project.git("checkout", "-q", "-b", "lib")
    per_project.commit("mlcommon: more", {"libs/mlcommon/mlcommon/features.py": "\n# more\n"})
    run = per_project.pull_request(1, "lib")
    assert run.triggered() == ["churn-model"], run.explain()
    assert run.builds() == {"churn-model": 1}, run.explain()
    assert run.per_project["churn-model"].result("build") == "success", run.explain()


def test_per_project_release_tag_runs_that_project_only(per_project):
    per_project.git("checkout", "-q", "main")
    sha = per_project.head("main")
    run = per_project.push_tag("demand-forecast/v2.0.0", sha)
    assert run.triggered() == ["demand-forecast"], run.explain()
    result = run.per_project["demand-forecast"]
    assert result.result("build") == "success", run.explain()
    assert run.builds() == {}, run.explain()
    content = per_project.tag_digest("demand-forecast", per_project.content_tag("demand-forecast", sha))
    for tag in ("2.0.0", "2.0", "2", "latest"):
        assert per_project.tag_digest("demand-forecast", tag) == content, tag + "\n" + run.explain()
