"""Per-project mode: one workflow per project, triggered by its `paths:`. The
first push runs every workflow; each later scenario starts from that main.
"""


from world import PROJECTS, TESTED, assert_tested_pushed_digests

# Per-project mode: one workflow per project, triggered by its `paths:`.

def test_per_project_first_push_runs_every_workflow(per_project, per_project_first_run):
    run = per_project_first_run
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


def test_per_project_leaf_push_runs_one_workflow_building_once(per_project_built):
    per_project = per_project_built
    per_project.commit("forecast: a comment", {"projects/demand-forecast/src/forecast.py": "\n# horizon\n"})
    run = per_project.push_main()
    assert run.triggered() == ["demand-forecast"], run.explain()
    assert run.builds() == {"demand-forecast": 1}, run.explain()
    assert_tested_pushed_digests(per_project, run, ["demand-forecast"], per_project.head())
    content = per_project.tag_digest("demand-forecast", per_project.content_tag("demand-forecast", per_project.head()))
    assert per_project.tag_digest("demand-forecast", "latest") == content


def test_per_project_paths_match_what_mlrepo_changed_counts(per_project_built):
    per_project = per_project_built
    per_project.commit("docs", {"README.md": "# notes\n"})
    run = per_project.push_main()
    assert run.triggered() == [] and run.calls == [], run.explain()
    per_project.git("checkout", "-q", "-b", "lib")
    per_project.commit("mlcommon: more", {"libs/mlcommon/mlcommon/features.py": "\n# more\n"})
    run = per_project.pull_request(1, "lib")
    assert run.triggered() == ["churn-model"], run.explain()
    assert run.builds() == {"churn-model": 1}, run.explain()
    assert run.per_project["churn-model"].result("build") == "success", run.explain()


def test_per_project_release_tag_runs_that_project_only(per_project_built):
    per_project = per_project_built
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

