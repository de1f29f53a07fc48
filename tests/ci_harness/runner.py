"""Runs a generated GitHub Actions workflow on this machine, the way a runner
would, to test what mlrepo generates without GitHub: jobs in `needs:` order,
`if:` conditions, matrices expanded from job outputs, `run:` steps in bash
(`-eo pipefail`, as GitHub runs them) in a fresh clone at the event's commit,
with GITHUB_OUTPUT / GITHUB_ENV / GITHUB_PATH / GITHUB_STEP_SUMMARY files and
the event payload as GitHub provides them. `uses:` steps are replaced by their
local equivalent: actions/checkout clones the origin repository, mlrepo's
install action puts the built binary on PATH. A test tool, not a product:
it implements what mlrepo's workflows use and fails loudly on anything else.
"""

import itertools
import json
import os
import re
import shutil
import subprocess
import tempfile

import yaml

from expressions import Evaluator, evaluate_condition, evaluate_value, substitute, to_string


class HarnessError(Exception):
    pass


def load_workflow(text):
    doc = yaml.safe_load(text)
    if True in doc:  # YAML 1.1 reads the key `on` as a boolean
        doc["on"] = doc.pop(True)
    return doc


# GitHub's filter patterns (`paths:`): * within a path component, ** across
# them, ? the preceding character optional, + one or more, [] a class, \ an
# escape; a leading ! excludes; the last matching pattern decides.
def filter_regex(pattern):
    out, i = "", 0
    while i < len(pattern):
        c = pattern[i]
        if c == "\\" and i + 1 < len(pattern):
            out += re.escape(pattern[i + 1])
            i += 2
            continue
        if pattern.startswith("**", i):
            out += ".*"
            i += 2
            continue
        if c == "*":
            out += "[^/]*"
        elif c == "?":
            out += "?"
        elif c == "+":
            out += "+"
        elif c == "[":
            j = pattern.index("]", i)
            out += pattern[i:j + 1]
            i = j + 1
            continue
        else:
            out += re.escape(c)
        i += 1
    return re.compile(out + r"\Z")


def paths_match(patterns, files):
    compiled = [(p.startswith("!"), filter_regex(p[1:] if p.startswith("!") else p)) for p in patterns]
    for f in files:
        included = False
        for negative, rx in compiled:
            if rx.match(f):
                included = not negative
        if included:
            return True
    return False


class JobInstance:
    def __init__(self, job_id, matrix):
        self.job_id = job_id
        self.matrix = matrix
        self.runs_on = []  # the runner labels `runs-on` named
        self.result = "success"
        self.steps = []  # dicts: name, outcome, log
        self.summary = ""
        self.outputs = {}

    @property
    def label(self):
        if not self.matrix:
            return self.job_id
        return self.job_id + " (" + ", ".join(to_string(v) for v in self.matrix.values()) + ")"


class RunResult:
    def __init__(self):
        self.jobs = {}  # id -> {"result", "outputs", "instances"}
        self.triggered = True

    def result(self, job_id):
        return self.jobs[job_id]["result"]

    def instances(self, job_id):
        return self.jobs[job_id]["instances"]

    def log(self):
        lines = []
        for job_id, job in self.jobs.items():
            lines.append(f"job {job_id}: {job['result']}")
            for inst in job["instances"]:
                lines.append(f"  {inst.label}: {inst.result}")
                for s in inst.steps:
                    lines.append(f"    step {s['name']}: {s['outcome']}")
                    if s["outcome"] != "skipped":
                        lines.extend("      | " + line for line in s["log"].splitlines()[-40:])
        return "\n".join(lines)


class Runner:
    """origin: a bare repository standing in for GitHub's copy.
    mlrepo_dir: the directory holding the built mlrepo (the install action).
    docker_wrapper_dir: put first on PATH; its `docker` logs each call with
    the job label from MLREPO_HARNESS_JOB.
    before_job: called with the label before each job instance (a fresh
    runner: the test removes the images the previous job left)."""

    def __init__(self, origin, mlrepo_dir, docker_wrapper_dir, repository="acme/monorepo",
                 secrets=None, before_job=None, extra_env=None, aws_env=None, aws_cli_dir=None):
        self.origin = origin
        self.mlrepo_dir = mlrepo_dir
        self.docker_wrapper_dir = docker_wrapper_dir
        self.repository = repository
        self.secrets = secrets or {}
        self.before_job = before_job
        self.extra_env = extra_env or {}
        # An AWS emulator's endpoint and dummy keys, handed out by the
        # configure-aws-credentials stand-in; the directory holding `aws`.
        self.aws_env = aws_env or {}
        self.aws_cli_dir = aws_cli_dir

    # -- the event ---------------------------------------------------------
    def github_context(self, event_name, payload, sha, ref, actor, workspace, action_path):
        ctx = {
            "event_name": event_name,
            "event": payload,
            "sha": sha,
            "ref": ref,
            "ref_name": ref.split("/", 2)[-1],
            "ref_type": "tag" if ref.startswith("refs/tags/") else "branch",
            "repository": self.repository,
            "repository_owner": self.repository.split("/")[0],
            "actor": actor,
            "server_url": "https://github.com",
            "run_id": "1",
            "run_number": "1",
            "workspace": workspace,
            "action_path": action_path,
            "head_ref": "",
            "base_ref": "",
        }
        if event_name.startswith("pull_request"):
            ctx["head_ref"] = payload["pull_request"]["head"]["ref"]
            ctx["base_ref"] = payload["pull_request"]["base"]["ref"]
            ctx["ref_name"] = f"{payload['pull_request']['number']}/merge"
        return ctx

    def changed_files(self, event_name, payload, sha):
        if event_name == "push":
            before = payload["before"]
            # A new branch: every file of the commit counts.
            empty_tree = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"
            rng = [before, sha] if not re.fullmatch("0+", before) else [empty_tree, sha]
        else:
            rng = [payload["pull_request"]["base"]["sha"] + "..." + sha]
        out = subprocess.run(["git", "--git-dir", self.origin, "diff", "--name-only", *rng],
                             check=True, capture_output=True, text=True).stdout
        return [line for line in out.splitlines() if line]

    def triggered(self, workflow, event_name, payload, sha, ref):
        on = workflow["on"]
        if isinstance(on, str):
            on = {on: None}
        if isinstance(on, list):
            on = {e: None for e in on}
        if event_name not in on:
            return False
        spec = on[event_name] or {}
        if event_name == "push" and ref.startswith("refs/tags/"):
            # GitHub: a tag push runs a workflow whose push filter names
            # tags it matches, or that filters neither branches nor tags;
            # `paths` is not evaluated for tags.
            if "tags" in spec:
                return paths_match(spec["tags"], [ref[len("refs/tags/"):]])
            return "branches" not in spec
        branch = ref[len("refs/heads/"):] if ref.startswith("refs/heads/") else None
        if event_name == "push" and "branches" not in spec and "tags" in spec:
            return False
        if event_name == "push" and "branches" in spec and not paths_match(spec["branches"], [branch or ""]):
            return False
        if "paths" in spec:
            return paths_match(spec["paths"], self.changed_files(event_name, payload, sha))
        return True

    @staticmethod
    def inputs(workflow, event_name, payload):
        """workflow_dispatch's inputs: the payload's, else each input's default."""
        if event_name != "workflow_dispatch":
            return {}
        declared = ((workflow["on"].get("workflow_dispatch") or {}).get("inputs") or {})
        given = payload.get("inputs") or {}
        unknown = set(given) - set(declared)
        if unknown:
            raise HarnessError(f"workflow_dispatch inputs the workflow does not declare: {sorted(unknown)}")
        return {k: given.get(k, (spec or {}).get("default", "")) for k, spec in declared.items()}

    # -- running -----------------------------------------------------------
    def run(self, workflow_file, event_name, payload, sha, ref, actor="alice"):
        """Runs `workflow_file` as it is at `sha`; returns a RunResult."""
        text = subprocess.run(["git", "--git-dir", self.origin, "show", f"{sha}:{workflow_file}"],
                              check=True, capture_output=True, text=True).stdout
        workflow = load_workflow(text)
        result = RunResult()
        if not self.triggered(workflow, event_name, payload, sha, ref):
            result.triggered = False
            return result
        self.tmp = tempfile.mkdtemp(prefix="mlrepo-harness-")
        try:
            event_path = os.path.join(self.tmp, "event.json")
            with open(event_path, "w") as f:
                json.dump(payload, f)
            jobs = workflow["jobs"]
            for job_id in self.order(jobs):
                self.run_job(workflow, job_id, jobs[job_id], result, event_name, payload, sha, ref, actor,
                             event_path)
        finally:
            shutil.rmtree(self.tmp, ignore_errors=True)
        return result

    @staticmethod
    def needs_of(job):
        n = job.get("needs", [])
        return [n] if isinstance(n, str) else list(n)

    def order(self, jobs):
        done, order = set(), []
        while len(order) < len(jobs):
            ready = [j for j in jobs if j not in done and all(n in done for n in self.needs_of(jobs[j]))]
            if not ready:
                raise HarnessError("a cycle in needs:")
            for j in ready:
                done.add(j)
                order.append(j)
        return order

    def ancestors(self, jobs, job_id):
        seen, todo = set(), list(self.needs_of(jobs[job_id]))
        while todo:
            j = todo.pop()
            if j not in seen:
                seen.add(j)
                todo.extend(self.needs_of(jobs[j]))
        return seen

    def run_job(self, workflow, job_id, job, result, event_name, payload, sha, ref, actor, event_path):
        jobs = workflow["jobs"]
        needs = {n: {"result": result.result(n), "outputs": result.jobs[n]["outputs"]}
                 for n in self.needs_of(job)}
        ancestor_results = [result.result(a) for a in self.ancestors(jobs, job_id)]
        status = {
            "always": lambda: True,
            "cancelled": lambda: False,
            "failure": lambda: any(r == "failure" for r in ancestor_results),
            "success": lambda: all(r in ("success",) for r in ancestor_results),
        }
        github = self.github_context(event_name, payload, sha, ref, actor, "", "")
        base_ctx = {"github": github, "needs": needs, "secrets": self.secrets, "vars": {},
                    "inputs": self.inputs(workflow, event_name, payload),
                    "env": dict(workflow.get("env") or {}), "runner": {"os": "Linux", "temp": self.tmp},
                    "matrix": {}, "strategy": {}, "steps": {}}
        record = {"result": "skipped", "outputs": {}, "instances": []}
        result.jobs[job_id] = record
        ev = Evaluator(base_ctx, status)
        if not evaluate_condition(job.get("if"), ev):
            return
        matrices = self.expand_matrix(job.get("strategy", {}).get("matrix"), ev)
        failed = False
        for combo in matrices:
            inst = JobInstance(job_id, combo)
            record["instances"].append(inst)
            self.run_instance(workflow, job, inst, base_ctx, event_name, event_path)
            failed = failed or inst.result == "failure"
            if inst.outputs:
                record["outputs"].update(inst.outputs)
        record["result"] = "failure" if failed else "success"

    def expand_matrix(self, spec, ev):
        if spec is None:
            return [{}]
        spec = evaluate_value(spec, ev)
        if not isinstance(spec, dict):
            raise HarnessError(f"matrix is not a mapping: {spec!r}")
        include = spec.get("include", [])
        keys = [k for k in spec if k not in ("include", "exclude")]
        combos = [dict(zip(keys, values)) for values in itertools.product(*(spec[k] for k in keys))] if keys else []
        for extra in include:
            combos.append(dict(extra))  # the shapes mlrepo writes add, never extend
        if not combos:
            raise HarnessError("the matrix has no entries (GitHub fails such a job)")
        if len(combos) > 256:
            raise HarnessError(f"a matrix of {len(combos)} jobs (GitHub's limit is 256)")
        return combos

    def run_instance(self, workflow, job, inst, base_ctx, event_name, event_path):
        if self.before_job:
            self.before_job(inst.label)
        home = tempfile.mkdtemp(prefix="job-", dir=self.tmp)
        workspace = os.path.join(home, "workspace")
        os.makedirs(workspace)
        runner_temp = os.path.join(home, "temp")
        os.makedirs(runner_temp)
        ctx = dict(base_ctx)
        ctx["matrix"] = inst.matrix
        ctx["github"] = dict(base_ctx["github"], workspace=workspace)
        # The labels the job asked for: the docker wrapper plays a GPU runner
        # for a job that asked for one (tests/ci_harness/bin/docker).
        runs_on = evaluate_value(job.get("runs-on", "ubuntu-latest"), Evaluator(base_ctx, {}))
        inst.runs_on = [runs_on] if isinstance(runs_on, str) else list(runs_on)
        ctx["runner"] = {"os": "Linux", "temp": runner_temp, "tool_cache": os.path.join(home, "tool_cache"),
                         "labels": inst.runs_on}
        step_ctx = {}
        ctx["steps"] = step_ctx
        # The token's rights, for the actions that need one (not a context).
        ctx["_permissions"] = job.get("permissions") or workflow.get("permissions") or {}
        env = dict(base_ctx["env"])
        ctx["env"] = env
        failed = False
        ev = Evaluator(ctx, {
            "always": lambda: True,
            "cancelled": lambda: False,
            "failure": lambda: failed,
            "success": lambda: not failed,
        })
        for k, v in (job.get("env") or {}).items():
            env[k] = to_string(evaluate_value(v, ev))
        extra_path = [self.docker_wrapper_dir]
        defaults = ((workflow.get("defaults") or {}).get("run") or {})
        defaults = {**defaults, **(((job.get("defaults") or {}).get("run")) or {})}
        for k, step in enumerate(job["steps"]):
            name = step.get("name") or step.get("uses") or step.get("run", "").splitlines()[0]
            record = {"name": name, "outcome": "skipped", "log": ""}
            inst.steps.append(record)
            if not evaluate_condition(step.get("if"), ev):
                if step.get("id"):
                    step_ctx[step["id"]] = {"outputs": {}, "outcome": "skipped", "conclusion": "skipped"}
                continue
            step_env = dict(env)
            for key, v in (step.get("env") or {}).items():
                step_env[key] = to_string(evaluate_value(v, ev))
            files = {n: os.path.join(home, f"{n}-{k}") for n in ("output", "env", "path", "summary")}
            for path in files.values():
                open(path, "w").close()
            ok, log = self.run_step(step, ev, step_env, files, workspace, runner_temp, defaults, extra_path,
                                    event_name, event_path, ctx, inst.label)
            record["outcome"] = "success" if ok else "failure"
            record["log"] = log
            outputs = parse_env_file(files["output"])
            env.update(parse_env_file(files["env"]))
            with open(files["path"]) as f:
                extra_path = [line.strip() for line in f if line.strip()] + extra_path
            with open(files["summary"]) as f:
                inst.summary += f.read()
            if step.get("id"):
                step_ctx[step["id"]] = {"outputs": outputs, "outcome": record["outcome"],
                                        "conclusion": record["outcome"]}
            if not ok:
                failed = True
        inst.result = "failure" if failed else "success"
        for key, v in (job.get("outputs") or {}).items():
            inst.outputs[key] = to_string(evaluate_value(v, ev))

    def run_step(self, step, ev, step_env, files, workspace, runner_temp, defaults, extra_path, event_name,
                 event_path, ctx, label):
        if "uses" in step:
            return self.run_action(step, ev, workspace, ctx, extra_path, files)
        script = substitute(step["run"], ev)
        script_path = os.path.join(runner_temp, "step.sh")
        with open(script_path, "w") as f:
            f.write(script)
        wd = step.get("working-directory") or defaults.get("working-directory")
        cwd = os.path.join(workspace, substitute(wd, ev)) if wd else workspace
        g = ctx["github"]
        env = {
            "PATH": os.pathsep.join(extra_path + [os.environ["PATH"]]),
            "HOME": os.environ.get("HOME", "/root"),
            "LANG": "C.UTF-8",
            "CI": "true",
            "GITHUB_ACTIONS": "true",
            "GITHUB_WORKSPACE": workspace,
            "GITHUB_EVENT_NAME": event_name,
            "GITHUB_EVENT_PATH": event_path,
            "GITHUB_SHA": g["sha"],
            "GITHUB_REF": g["ref"],
            "GITHUB_REF_NAME": g["ref_name"],
            "GITHUB_REF_TYPE": g["ref_type"],
            "GITHUB_HEAD_REF": g["head_ref"],
            "GITHUB_BASE_REF": g["base_ref"],
            "GITHUB_REPOSITORY": g["repository"],
            "GITHUB_SERVER_URL": g["server_url"],
            "GITHUB_RUN_ID": g["run_id"],
            "GITHUB_ACTOR": g["actor"],
            "GITHUB_OUTPUT": files["output"],
            "GITHUB_ENV": files["env"],
            "GITHUB_PATH": files["path"],
            "GITHUB_STEP_SUMMARY": files["summary"],
            "RUNNER_TEMP": runner_temp,
            "RUNNER_OS": "Linux",
            "DOCKER_CONFIG": os.path.join(runner_temp, "..", "docker-config"),
            "MLREPO_HARNESS_JOB": label,
            "MLREPO_HARNESS_RUNNER_LABELS": "," + ",".join(ctx["runner"].get("labels", [])) + ",",
            **self.extra_env,
            **step_env,
        }
        p = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", script_path], cwd=cwd, env=env,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=900)
        return p.returncode == 0, p.stdout

    def run_action(self, step, ev, workspace, ctx, extra_path, files):
        uses = step["uses"]
        with_ = {k: to_string(evaluate_value(v, ev)) for k, v in (step.get("with") or {}).items()}
        if uses.startswith("actions/checkout@"):
            return self.checkout(workspace, ctx, with_)
        if uses.startswith("aws-actions/configure-aws-credentials@"):
            return self.aws_credentials(uses, with_, ctx, extra_path, files)
        # Any other action is mlrepo's installer (ci.mlrepo_action): the
        # built binary, as the action would leave it on PATH.
        if os.path.exists(os.path.join(self.mlrepo_dir, "mlrepo")):
            extra_path.insert(0, self.mlrepo_dir)
            return True, f"installed mlrepo from {self.mlrepo_dir} in place of {uses}"
        return False, f"no stand-in for the action {uses}"

    def aws_credentials(self, uses, with_, ctx, extra_path, files):
        """As aws-actions/configure-aws-credentials: AWS credentials and the
        region in the environment of the later steps, and the aws CLI on PATH
        (GitHub's hosted runners have it). The credentials are the emulator's
        (moto_server, aws_env); what GitHub would refuse is refused: a ref
        that is not a commit, no region, and an OIDC role without
        `id-token: write` (GitHub gives such a job no token)."""
        if not re.fullmatch(r"aws-actions/configure-aws-credentials@[0-9a-f]{40}", uses):
            return False, f"{uses}: not pinned by commit"
        region = with_.get("aws-region", "")
        if not region:
            return False, "configure-aws-credentials: no aws-region"
        if with_.get("role-to-assume"):
            if ctx["_permissions"].get("id-token") != "write":
                return False, "configure-aws-credentials: an OIDC role without id-token: write gets no token"
            how = "assumed " + with_["role-to-assume"] + " with the OIDC token"
        elif with_.get("aws-access-key-id") and with_.get("aws-secret-access-key"):
            how = "access keys from secrets"
        else:
            return False, "configure-aws-credentials: neither role-to-assume nor both access keys"
        if not self.aws_env:
            return False, "no AWS emulator in this world"
        with open(files["env"], "a") as f:
            for k, v in {**self.aws_env, "AWS_REGION": region, "AWS_DEFAULT_REGION": region}.items():
                f.write(f"{k}={v}\n")
        extra_path.append(self.aws_cli_dir)
        return True, f"AWS credentials for {region}: {how}"

    def checkout(self, workspace, ctx, with_):
        g = ctx["github"]
        full = with_.get("fetch-depth", "1") == "0"
        cmds = [["git", "init", "-q", workspace],
                ["git", "-C", workspace, "remote", "add", "origin", "file://" + self.origin]]
        # As actions/checkout: the event's ref at depth 1, or every branch and
        # tag with fetch-depth 0.
        if full:
            cmds.append(["git", "-C", workspace, "fetch", "-q", "origin", "+refs/heads/*:refs/remotes/origin/*",
                         "+refs/tags/*:refs/tags/*", "+" + g["ref"] + ":refs/remotes/event"])
        elif g["ref"].startswith("refs/tags/"):
            # A tag run has that one tag locally, nothing else.
            cmds.append(["git", "-C", workspace, "fetch", "-q", "--depth", "1", "origin",
                         "+" + g["ref"] + ":" + g["ref"]])
        else:
            cmds.append(["git", "-C", workspace, "fetch", "-q", "--depth", "1", "origin",
                         "+" + g["ref"] + ":refs/remotes/event"])
        cmds.append(["git", "-C", workspace, "checkout", "-q", "--detach", g["sha"]])
        log = ""
        for c in cmds:
            p = subprocess.run(c, capture_output=True, text=True)
            log += p.stdout + p.stderr
            if p.returncode != 0:
                return False, log + f"\n{' '.join(c)} failed"
        return True, log


def parse_env_file(path):
    """KEY=VALUE lines and KEY<<DELIMITER blocks, as GITHUB_OUTPUT holds them."""
    out = {}
    with open(path) as f:
        lines = f.read().split("\n")
    i = 0
    while i < len(lines):
        line = lines[i]
        i += 1
        if not line:
            continue
        if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
            key, delim = line.split("<<", 1)
            value = []
            while i < len(lines) and lines[i] != delim:
                value.append(lines[i])
                i += 1
            i += 1
            out[key] = "\n".join(value)
        else:
            key, _, value = line.partition("=")
            out[key] = value
    return out
