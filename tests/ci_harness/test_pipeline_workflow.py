"""The churn-weekly pipeline's workflow (pipelines: in the workspace
mlrepo.yaml), from a main that CI built and promoted: on its schedule (every
step's image pulled by digest, nothing built, the step table in the job
summary), dispatched by hand with a param, and failing (the step table posted
to a capturing Slack endpoint).
"""

import json
import os
import subprocess
import time

from runner import load_workflow
from world import PIPELINE_WORKFLOW, SOURCE, Run, sh, summaries


def run_pipeline_workflow(world, event_name, payload, ref="refs/heads/main", secrets=None):
    sha = sh(["git", "--git-dir", world.origin, "rev-parse", ref]).strip()
    open(world.docker_log, "w").close()
    saved = world.runner.secrets
    world.runner.secrets = {**saved, "CHURN_DB_PASSWORD": "db-secret-value", **(secrets or {})}
    try:
        result = world.runner.run(PIPELINE_WORKFLOW, event_name, {
            "repository": {"full_name": world.repository, "default_branch": "main"}, **payload}, sha, ref)
    finally:
        world.runner.secrets = saved
    assert result.triggered, f"{PIPELINE_WORKFLOW} does not run on {event_name}"
    return Run(world, result)


def run_log(run):
    return "".join(s["log"] for i in run.result.instances("run") for s in i.steps)


def test_the_workflow_is_scheduled_and_dispatchable_with_its_params(main_built):
    with open(os.path.join(main_built.work, PIPELINE_WORKFLOW)) as f:
        workflow = load_workflow(f.read())
    assert workflow["on"]["schedule"] == [{"cron": "0 7 * * 1", "timezone": "Europe/Berlin"}]
    assert list(workflow["on"]["workflow_dispatch"]["inputs"]) == ["logins"]
    # churn-model trains on a GPU in this world: the pipeline runs on the GPU runner.
    assert workflow["jobs"]["run"]["runs-on"] == ["self-hosted", "linux", "gpu"]


def test_pipeline_on_its_schedule_pulls_every_step_by_digest_and_builds_nothing(main_built):
    world = main_built
    sha = world.head("main")
    run = run_pipeline_workflow(world, "schedule", {"schedule": "0 7 * * 1"})
    assert run.job("run") == "success", run.explain()
    assert run.builds() == {}, "a scheduled pipeline builds nothing\n" + run.explain()
    pulled = [args[1] for _, args in run.calls if args[:1] == ["pull"]]
    for project in ("churn-model", "demand-forecast"):
        digest = world.tag_digest(project, world.content_tag(project, sha))
        assert digest.startswith("sha256:")
        assert f"{world.image(project)}@{digest}" in pulled, run.explain()
    log = run_log(run)
    # train got the param's default and the secret (its hash, never the value);
    # forecast read train's output.
    assert "train | job args (2): --logins-last-month 3" in log, run.explain()
    assert "forecast | forecast reads: model" in log, run.explain()
    assert "db-secret-value" not in log and "db-secret-value" not in open(world.docker_log).read()
    summary = summaries(run, "run")
    assert "### pipeline churn-weekly: succeeded" in summary, summary
    assert "| train | churn-model | succeeded |" in summary and "| forecast | demand-forecast | succeeded |" in summary


def test_pipeline_dispatched_by_hand_with_a_param(main_built):
    run = run_pipeline_workflow(main_built, "workflow_dispatch", {"inputs": {"logins": "7"}})
    assert run.job("run") == "success", run.explain()
    assert run.builds() == {}, run.explain()
    assert "train | job args (2): --logins-last-month 7" in run_log(run), run.explain()


def test_pipeline_that_fails_posts_its_step_table(main_built):
    world = main_built
    received = os.path.join(world.dir, "slack-pipeline.txt")
    slack = subprocess.Popen(["python3", os.path.join(SOURCE, "tests", "fixtures", "capture_http.py"), "0",
                              received])
    try:
        for _ in range(200):
            if os.path.exists(received + ".port"):
                break
            time.sleep(0.05)
        with open(received + ".port") as f:
            port = int(f.read())
        # The job's command fails on --fail: train fails (a step's retries
        # are its own, and it sets none), forecast is blocked.
        run = run_pipeline_workflow(world, "workflow_dispatch", {"inputs": {"logins": "--fail"}},
                                    secrets={"SLACK_WEBHOOK_URL": f"http://127.0.0.1:{port}/hook"})
    finally:
        slack.terminate()
        slack.wait()
    assert run.job("run") == "failure", run.explain()
    posts = [json.loads(line)["text"] for line in open(received)]
    assert len(posts) == 1, posts
    text = posts[0]
    assert "pipeline churn-weekly failed (workflow_dispatch run; schedule 0 7 * * 1 (Europe/Berlin))" in text, text
    assert "https://github.com/acme/monorepo/actions/runs/" in text, text
    rows = {line.split()[0]: line.split() for line in text.splitlines() if line.split()[:1] in (["train"], ["forecast"])}
    assert rows["train"][2] == "failed" and rows["train"][3] == "1", text
    assert rows["forecast"][2] == "blocked", text
    assert "### pipeline churn-weekly: failed" in summaries(run, "run")
