"""churn-model's scheduled job workflow (job: in its mlrepo.yaml), each scenario
from a main that CI built and promoted: on its schedule (the promoted digest,
pulled), on its GPU runner, dispatched by hand with arguments, failing (Slack
is told), dispatched on another branch, and with its image missing.
"""

import hashlib
import json
import os
import subprocess
import time

from runner import load_workflow
from world import JOB_WORKFLOW, SOURCE, Run, sh, summaries

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


def test_job_on_its_schedule_runs_the_promoted_digest(main_built):
    world = main_built
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


def test_gpu_job_runs_on_its_labelled_runner_with_its_gpu(main_built):
    world = main_built
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


def test_job_dispatched_by_hand_with_arguments(main_built):
    world = main_built
    run = run_job_workflow(world, "workflow_dispatch", {"inputs": {"args": "--logins-last-month '7 8'"}})
    assert run.job("run") == "success", run.explain()
    assert run.builds() == {}, run.explain()
    assert "job args (2): --logins-last-month 7 8" in job_log(run), run.explain()
    # No input: the job's own args.
    run = run_job_workflow(world, "workflow_dispatch", {})
    assert "job args (2): --logins-last-month 3" in job_log(run), run.explain()


def test_job_that_fails_fails_the_run_and_tells_slack(main_built):
    world = main_built
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


def test_job_dispatched_on_another_branch_is_refused(main_built):
    world = main_built
    world.git("push", "-q", "-f", world.origin, "main:refs/heads/try-job")
    run = run_job_workflow(world, "workflow_dispatch", {}, ref="refs/heads/try-job")
    assert run.job("run") == "failure", run.explain()
    assert "run the workflow on main, not on try-job" in job_log(run), run.explain()
    assert run.calls == [], run.explain()


def test_job_whose_image_is_missing_names_the_build(main_built):
    world = main_built
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


