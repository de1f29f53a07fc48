#!/usr/bin/env python3
"""Check rendered Argo Workflows objects offline, against Argo's own types.

No Argo controller runs here. Each WorkflowTemplate and CronWorkflow is
loaded into hera's models (generated from Argo's OpenAPI schema) and dumped
back: the dump must equal the document, so a misspelt or unknown field (which
the models would drop) or a value of the wrong type fails. Then what the
schema cannot say and the controller would refuse: template and task names,
the entrypoint, `depends` naming tasks of the same DAG, every
`{{tasks.X.outputs.artifacts.Y}}` naming an upstream task's declared output,
every input artifact given, every `{{workflow.parameters.P}}` declared, the
CronWorkflow's reference, crons and starting deadline.

Usage: argo_check.py FILE...   (exit 1 with every problem on stderr)
"""
import re
import sys

import yaml
from hera.workflows.models import CronWorkflow, WorkflowTemplate

MODELS = {"WorkflowTemplate": WorkflowTemplate, "CronWorkflow": CronWorkflow}
DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
TASK_ARTIFACT = re.compile(r"^\{\{tasks\.([^.]+)\.outputs\.artifacts\.([^}]+)\}\}$")
WORKFLOW_PARAM = re.compile(r"\{\{workflow\.parameters\.([^}]+)\}\}")
ANY_EXPR = re.compile(r"\{\{([^}]*)\}\}")


def differences(given, dumped, path="", out=None):
    """Each path where the dump differs from the document, with both values."""
    out = [] if out is None else out
    if isinstance(given, dict) and isinstance(dumped, dict):
        for key in sorted(set(given) | set(dumped), key=str):
            if key not in dumped:
                out.append(f"{path}.{key}: dropped (no such field in Argo's type)")
            elif key not in given:
                out.append(f"{path}.{key}: added as {dumped[key]!r}")
            else:
                differences(given[key], dumped[key], f"{path}.{key}", out)
    elif isinstance(given, list) and isinstance(dumped, list) and len(given) == len(dumped):
        for i, (g, d) in enumerate(zip(given, dumped)):
            differences(g, d, f"{path}[{i}]", out)
    elif given != dumped or type(given) is not type(dumped):
        out.append(f"{path}: {given!r} came back as {dumped!r}")
    return out


def roundtrip(doc, where, problems):
    model = MODELS[doc["kind"]]
    try:
        dumped = model.model_validate(doc).model_dump(by_alias=True, exclude_none=True, mode="json")
    except Exception as e:  # pydantic's ValidationError names each field
        problems.append(f"{where}: not a valid {doc['kind']} for Argo's types: {e}")
        return
    for d in differences(doc, dumped):
        problems.append(f"{where}: {d}")


def strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from strings(v)


def check_template(doc, where, problems):
    spec = doc["spec"]
    name = doc["metadata"]["name"]
    if not DNS_LABEL.match(name) or len(name) > 52:
        problems.append(f"{where}: name {name!r} is not a DNS-1123 label of at most 52 characters")
    templates = {t["name"]: t for t in spec["templates"]}
    if len(templates) != len(spec["templates"]):
        problems.append(f"{where}: template names repeat")
    if spec.get("entrypoint") not in templates:
        problems.append(f"{where}: entrypoint {spec.get('entrypoint')!r} is no template")
    declared = {p["name"] for p in spec.get("arguments", {}).get("parameters", [])}
    for text in strings(spec["templates"]):
        for used in WORKFLOW_PARAM.findall(text):
            if used not in declared:
                problems.append(f"{where}: {{{{workflow.parameters.{used}}}}} is not in spec.arguments")
        for expr in ANY_EXPR.findall(text):
            if not (expr.startswith("workflow.parameters.") or expr.startswith("tasks.")):
                problems.append(f"{where}: {{{{{expr}}}}} is not a variable the controller resolves here")
    for t in spec["templates"]:
        if "dag" not in t:
            continue
        tasks = {task["name"]: task for task in t["dag"]["tasks"]}
        for task in t["dag"]["tasks"]:
            at = f"{where}: task {task['name']!r}"
            if task["name"][:1].isdigit() and any(task["name"] in other.get("depends", "").split(" && ")
                                                  for other in t["dag"]["tasks"]):
                problems.append(f"{at}: a task other tasks depend on may not start with a digit")
            if task["template"] not in templates:
                problems.append(f"{at}: template {task['template']!r} does not exist")
                continue
            target = templates[task["template"]]
            upstream = [d for d in task.get("depends", "").split(" && ") if d]
            for d in upstream:
                if d not in tasks:
                    problems.append(f"{at}: depends on {d!r}, which is no task")
            wanted = {a["name"] for a in target.get("inputs", {}).get("artifacts", [])}
            given = {}
            for a in task.get("arguments", {}).get("artifacts", []):
                given[a["name"]] = a
                m = TASK_ARTIFACT.match(a.get("from", ""))
                if not m:
                    problems.append(f"{at}: artifact {a['name']!r} is not from a task's output")
                    continue
                source, output = m.groups()
                if source not in upstream:
                    problems.append(f"{at}: artifact {a['name']!r} comes from {source!r}, which it does not depend on")
                elif source in tasks:
                    outputs = templates[tasks[source]["template"]].get("outputs", {}).get("artifacts", [])
                    if output not in {o["name"] for o in outputs}:
                        problems.append(f"{at}: {source!r} has no output artifact {output!r}")
            if set(given) != wanted:
                problems.append(f"{at}: gives artifacts {sorted(given)}, its template reads {sorted(wanted)}")


def check_cron(doc, where, templates, problems):
    spec = doc["spec"]
    ref = spec.get("workflowSpec", {}).get("workflowTemplateRef", {}).get("name")
    if templates and ref not in templates:
        problems.append(f"{where}: workflowTemplateRef {ref!r} is not among the WorkflowTemplates given")
    for cron in spec.get("schedules", []):
        if not (cron.startswith("@") or len(cron.split()) == 5):
            problems.append(f"{where}: schedule {cron!r} is not a five-field cron")
    if not spec.get("schedules"):
        problems.append(f"{where}: no schedules")
    if spec.get("startingDeadlineSeconds", 0) <= 0:
        problems.append(f"{where}: startingDeadlineSeconds must be above zero (a missed run is skipped silently)")
    if not spec.get("timezone"):
        problems.append(f"{where}: no timezone (the controller would read the crons in its own)")


def main(paths):
    problems = []
    docs = []
    for path in paths:
        with open(path, encoding="utf-8") as f:
            for i, doc in enumerate(yaml.safe_load_all(f)):
                if doc:
                    docs.append((f"{path}#{i}", doc))
    templates = {d["metadata"]["name"] for _, d in docs if d.get("kind") == "WorkflowTemplate"}
    checked = 0
    for where, doc in docs:
        kind = doc.get("kind")
        if kind == "Kustomization":
            continue
        if kind not in MODELS:
            problems.append(f"{where}: unexpected kind {kind!r}")
            continue
        if doc.get("apiVersion") != "argoproj.io/v1alpha1":
            problems.append(f"{where}: apiVersion {doc.get('apiVersion')!r}")
        roundtrip(doc, where, problems)
        if kind == "WorkflowTemplate":
            check_template(doc, where, problems)
        else:
            check_cron(doc, where, templates, problems)
        checked += 1
    for p in problems:
        print(p, file=sys.stderr)
    print(f"{checked} objects checked, {len(problems)} problems")
    return 1 if problems or checked == 0 else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
