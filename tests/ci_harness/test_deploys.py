"""Deploys: with kubernetes.deploy: prod, CI applies the promoted cluster jobs'
CronJobs and the cluster pipelines a change touched as Argo Workflows objects
(a recording kubectl stands in for the cluster; what it received is validated
offline against Kubernetes' schemas, and Argo's objects against Argo's types).
Each scenario from a built main.
"""

import os
import shutil


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


def test_push_deploys_the_changed_job_pinned_by_digest(main_built):
    world = main_built
    world.git("checkout", "-q", "main")
    shutil.rmtree(world.kubectl_log, ignore_errors=True)
    world.commit("forecast: longer horizon", {"projects/demand-forecast/src/horizon.py": "WEEKS = 3\n"})
    run = world.push_main()
    assert run.job("deploy") == "success", run.explain()
    assert run.job("gate") == "success", run.explain()
    calls = kubectl_calls(world)
    # demand-forecast: the one changed project with a cluster job; and the
    # cluster pipeline whose step runs it.
    assert len(calls) == 2, run.explain()
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
    # The pipeline's WorkflowTemplate and CronWorkflow, its step pinned to the same digest.
    argo = calls[1]
    assert argo["args"] == "apply --server-side --field-manager=mlrepo --force-conflicts -f -"
    assert "kind: WorkflowTemplate" in argo["yaml"] and "kind: CronWorkflow" in argo["yaml"], argo["yaml"]
    assert f"image: '{world.image('demand-forecast')}@{content}'" in argo["yaml"], argo["yaml"]
    assert "namespace: 'ml-prod'" in argo["yaml"], argo["yaml"]
    assert "| forecast-nightly | `WorkflowTemplate/forecast-nightly`, `CronWorkflow/forecast-nightly` |" in summary


def test_push_that_changes_only_a_pipeline_spec_applies_that_pipeline(main_built):
    world = main_built
    world.git("checkout", "-q", "main")
    shutil.rmtree(world.kubectl_log, ignore_errors=True)
    with open(os.path.join(world.work, "mlrepo.yaml")) as f:
        config = f.read()
    assert "schedule: '0 1 * * *'" in config
    with open(os.path.join(world.work, "mlrepo.yaml"), "w") as f:
        f.write(config.replace("schedule: '0 1 * * *'", "schedule: '0 2 * * *'", 1))
    world.commit("forecast-nightly: an hour later", {})
    run = world.push_main()
    assert run.job("deploy") == "success", run.explain()
    argo = [c for c in kubectl_calls(world) if "kind: CronWorkflow" in c["yaml"]]
    assert len(argo) == 1, run.explain()
    assert "- '0 2 * * *'" in argo[0]["yaml"], argo[0]["yaml"]


def test_push_of_a_job_that_runs_in_actions_applies_nothing_to_the_cluster(main_built):
    world = main_built
    world.git("checkout", "-q", "main")
    shutil.rmtree(world.kubectl_log, ignore_errors=True)
    world.commit("churn: retrain", {"projects/churn-model/src/churn/retrain.py": "EPOCHS = 3\n"})
    run = world.push_main()
    assert run.job("deploy") == "success", run.explain()
    assert kubectl_calls(world) == [], run.explain()
    logs = "".join(s["log"] for i in run.result.instances("deploy") for s in i.steps)
    assert "churn-model: its schedule runs in GitHub Actions" in logs, run.explain()


