"""Deploys to AWS ECS: with ecs.deploy: prod, CI puts the promoted ECS jobs'
task definitions, schedules and alert with the aws CLI, its credentials from
GitHub's OIDC role (aws-actions/configure-aws-credentials, pinned by commit;
the stand-in hands out moto_server's). moto_server stands in for AWS: what it
holds afterwards is read back with the aws CLI. Not checked by moto: IAM, the
OIDC trust, networking, that ECS can pull the image.
"""

import pytest


@pytest.fixture
def built(ecs_world):
    w = ecs_world
    if not hasattr(w, "first_push_run"):
        w.first_push_run = w.push_main()
    if w.first_push_run.job("gate") != "success":
        pytest.fail("precondition: the first push to main did not pass\n" + w.first_push_run.explain(), pytrace=False)
    w.git("checkout", "-q", "main")
    return w


def deploy_log(run):
    return "".join(s["log"] for i in run.result.instances("deploy") for s in i.steps)


@pytest.mark.story
def test_first_push_puts_the_ecs_job_pinned_by_digest(built):
    world = built
    run = world.first_push_run
    assert run.job("deploy") == "success", run.explain()
    log = deploy_log(run)
    assert "assumed arn:aws:iam::123456789012:role/github-deploy with the OIDC token" in log, log
    digest = world.tag_digest("demand-forecast", world.content_tag("demand-forecast", world.head()))
    td = world.aws("ecs", "describe-task-definition", "--task-definition", "demand-forecast-prod")["taskDefinition"]
    assert td["containerDefinitions"][0]["image"] == f"{world.image('demand-forecast')}@{digest}"
    assert td["cpu"] == "2048" and td["memory"] == "4096"
    schedule = world.aws("scheduler", "get-schedule", "--name", "demand-forecast-prod")
    assert schedule["ScheduleExpression"] == "cron(0 6 ? * 2 *)"
    assert schedule["ScheduleExpressionTimezone"] == "Europe/Berlin"
    assert schedule["Target"]["Arn"] == "arn:aws:ecs:eu-central-1:123456789012:cluster/ml-prod"
    rule = world.aws("events", "describe-rule", "--name", "demand-forecast-prod.failed")
    assert "ECS Task State Change" in rule["EventPattern"]
    # churn-model trains on a GPU runner in Actions: ECS (Fargate) could not
    # run it, which is said, and the deploy does not fail on it.
    assert "churn-model: asks for 1 GPU, and Fargate has none (no ECS task definition written" in log, log
    summary = "".join(i.summary for i in run.result.instances("deploy"))
    assert "TaskDefinition/demand-forecast-prod:1 registered" in summary and digest in summary, summary


@pytest.mark.story
def test_a_push_that_leaves_the_ecs_job_alone_registers_no_revision(built):
    world = built
    world.commit("churn: retrain", {"projects/churn-model/src/churn/retrain.py": "EPOCHS = 3\n"})
    run = world.push_main()
    assert run.job("deploy") == "success", run.explain()
    td = world.aws("ecs", "describe-task-definition", "--task-definition", "demand-forecast-prod")["taskDefinition"]
    assert td["revision"] == 1
    world.commit("forecast: longer horizon", {"projects/demand-forecast/src/horizon.py": "WEEKS = 3\n"})
    run = world.push_main()
    assert run.job("deploy") == "success", run.explain()
    digest = world.tag_digest("demand-forecast", world.content_tag("demand-forecast", world.head()))
    td = world.aws("ecs", "describe-task-definition", "--task-definition", "demand-forecast-prod")["taskDefinition"]
    assert td["revision"] == 2 and td["containerDefinitions"][0]["image"].endswith(digest)
    schedules = [s["Name"] for s in world.aws("scheduler", "list-schedules")["Schedules"]]
    assert schedules == ["demand-forecast-prod"], schedules
