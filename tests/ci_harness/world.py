"""What the harness's scenarios share: the example monorepo with its origin,
a real registry and the workflow runner (World), what one run did (Run), and
the oracles (the registry's storage, the docker wrapper's record of every
engine call). Each test module is one story on a World of its own, so a
failure in one story cannot change what another sees (ctest runs each module
as its own entry).
"""

import json
import os
import re
import shlex
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

from runner import Runner

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
PIPELINE_WORKFLOW = ".github/workflows/mlrepo-pipeline-churn-weekly.yml"
CLUSTER_PIPELINE = ("  forecast-nightly:\n    schedule: '0 1 * * *'\n    runs_on: kubernetes\n    steps:\n"
                    "      forecast:\n        project: demand-forecast\n")
ARGO_CHECK = os.path.join(SOURCE, "tests", "tools", "argo_check.py")
MOTO_UP = os.path.join(SOURCE, "tests", "tools", "moto_up.py")
TOOLS = os.path.join(SOURCE, "build", "tools", "bin")
ECS_SECTION = ("ecs:\n  cluster: ml-jobs\n  region: eu-central-1\n  subnets: [subnet-0abc1234def567890]\n"
               "  execution_role_arn: arn:aws:iam::123456789012:role/ecsTaskExecutionRole\n"
               "  scheduler_role_arn: arn:aws:iam::123456789012:role/ml-scheduler\n"
               "  ci_role_arn: arn:aws:iam::123456789012:role/github-deploy\n"
               "  alert: arn:aws:sns:eu-central-1:123456789012:ml-job-failures\n"
               "  environments:\n    prod: {cluster: ml-prod}\n  deploy: prod\n")
HARNESS_FORECAST_COMMAND = "['sh', '-c', 'echo \"forecast reads: $(ls /mlrepo/inputs)\"']"
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

    def __init__(self, mode="matrix", mlrepo=MLREPO, target="kubernetes"):
        self.mode = mode
        self.target = target  # where CI deploys the jobs: kubernetes (a recording kubectl) or ecs (moto_server)
        self.mlrepo = mlrepo
        self.content_tags = {}  # (project, sha) -> content tag: a commit's never changes
        self.dir = tempfile.mkdtemp(prefix="mlrepo-ci-harness-")
        self.port = free_port()
        self.prefix = f"h{os.getpid()}-"
        self.registry = f"127.0.0.1:{self.port}/acme"
        self.start_registry()
        self.moto_process = None
        self.aws_env = self.start_moto() if target == "ecs" else {}
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
                                        "MLREPO_KUBECTL_LOG": self.kubectl_log, "MLREPO_K8S_VALIDATE": K8S_VALIDATE,
                                        "MLREPO_ARGO_CHECK": ARGO_CHECK, "MLREPO_HARNESS_PYTHON": sys.executable},
                             aws_env=self.aws_env, aws_cli_dir=TOOLS)

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

    def start_moto(self):
        """moto's AWS API emulator on a port it chose (tests/tools/moto_up.py);
        the environment the aws CLI reaches it with (moto's dummy keys)."""
        port_file = os.path.join(self.dir, "moto.port")
        self.moto_process = subprocess.Popen([sys.executable, MOTO_UP, port_file],
                                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(400):
            if os.path.exists(port_file):
                with open(port_file) as f:
                    port = f.read().strip()
                return {"AWS_ENDPOINT_URL": f"http://127.0.0.1:{port}", "AWS_ACCESS_KEY_ID": "testing",
                        "AWS_SECRET_ACCESS_KEY": "testing"}
            if self.moto_process.poll() is not None:
                break
            time.sleep(0.05)
        raise AssertionError("moto_server did not start")

    def aws(self, *args):
        """The aws CLI against this world's emulator, as a user would ask."""
        out = sh([os.path.join(TOOLS, "aws"), *args, "--region", "eu-central-1", "--output", "json"],
                 env={**os.environ, **self.aws_env})
        return json.loads(out)

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
                # The forecast step of the churn-weekly pipeline says what it reads.
                text = text.replace('command: ["python", "forecast.py"]', "command: " + HARNESS_FORECAST_COMMAND)
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
        if self.target == "ecs":
            # Deployed to AWS ECS instead (moto_server stands in for AWS):
            # demand-forecast's job runs there, credentials from GitHub's OIDC role.
            text += ECS_SECTION
            forecast = os.path.join(self.work, "projects", "demand-forecast", "mlrepo.yaml")
            with open(forecast) as f:
                job = f.read()
            assert "runs_on: kubernetes" in job
            with open(forecast, "w") as f:
                f.write(job.replace("runs_on: kubernetes", "runs_on: ecs"))
        else:
            # And a pipeline of its own on the cluster (Argo Workflows), which
            # the deploy job applies when a change touches it.
            text = text.replace("\npipelines:\n", "\npipelines:\n" + CLUSTER_PIPELINE, 1)
            text = text.replace("\nkubernetes:\n", "\nkubernetes:\n  deploy: prod\n", 1)
        with open(config, "w") as f:
            f.write(text)
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
        if self.moto_process:
            self.moto_process.terminate()
            self.moto_process.wait()
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
            if f.startswith(".github/workflows/mlrepo-") and not f.startswith(".github/workflows/mlrepo-job-")
            and not f.startswith(".github/workflows/mlrepo-pipeline-"))
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


