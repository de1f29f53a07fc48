#!/usr/bin/env python3
"""Checks files `mlrepo job render --target ecs` wrote against AWS's own
service models, offline: each file is the input of one API call, validated by
botocore's ParamValidator against that operation's input shape, then every
enum value against the model (ParamValidator does not check enums). Also what
the models cannot say: a Fargate task's CPU and memory are a pair Fargate
offers, a Scheduler cron has AWS's six fields with '?' in one day field, the
time zone exists, an alert's event pattern is JSON and every <placeholder> of
its message is read from the event.

No AWS server sees these files here: IAM permissions, networking, whether the
image can be pulled, and EventBridge's own pattern matching are not checked.

usage: aws_check.py FILE...   (exit 0: every file valid; else one line per problem)
"""
import json
import os
import re
import sys
import zoneinfo

import botocore.session
from botocore.validate import ParamValidator

OPERATIONS = {
    "task-definition.json": ("ecs", "RegisterTaskDefinition"),
    "alert-rule.json": ("events", "PutRule"),
    "alert-targets.json": ("events", "PutTargets"),
}

# Fargate's task sizes (AWS Fargate documentation): CPU units -> memory MiB.
FARGATE = {
    256: [512, 1024, 2048],
    512: list(range(1024, 4096 + 1, 1024)),
    1024: list(range(2048, 8192 + 1, 1024)),
    2048: list(range(4096, 16384 + 1, 1024)),
    4096: list(range(8192, 30720 + 1, 1024)),
    8192: list(range(16384, 61440 + 1, 4096)),
    16384: list(range(32768, 122880 + 1, 8192)),
}

CRON = re.compile(r"cron\((\S+) (\S+) (\S+) (\S+) (\S+) (\S+)\)")


def operation_of(path):
    name = os.path.basename(path)
    if re.fullmatch(r"schedule(-[0-9]+)?\.json", name):
        return ("scheduler", "CreateSchedule")
    return OPERATIONS.get(name)


def enum_problems(shape, value, where):
    """Every enum value in `value` that the model's shape does not list."""
    out = []
    if shape.type_name == "structure" and isinstance(value, dict):
        for key, member in shape.members.items():
            if key in value:
                out += enum_problems(member, value[key], where + "." + key)
    elif shape.type_name == "list" and isinstance(value, list):
        for i, item in enumerate(value):
            out += enum_problems(shape.member, item, "%s[%d]" % (where, i))
    elif shape.type_name == "map" and isinstance(value, dict):
        for k, v in value.items():
            out += enum_problems(shape.value, v, where + "." + k)
    elif shape.type_name == "string" and shape.enum and value not in shape.enum:
        out.append("%s: %r is not one of %s" % (where, value, ", ".join(shape.enum)))
    return out


def own_problems(op, params):
    out = []
    if op == "RegisterTaskDefinition" and "FARGATE" in params.get("requiresCompatibilities", []):
        cpu, memory = int(params.get("cpu", 0)), int(params.get("memory", 0))
        if memory not in FARGATE.get(cpu, []):
            out.append("cpu %s with memory %s is not a Fargate size" % (cpu, memory))
        if params.get("networkMode") != "awsvpc":
            out.append("Fargate needs networkMode awsvpc")
        for c in params["containerDefinitions"]:
            if any(r.get("type") == "GPU" for r in c.get("resourceRequirements", [])):
                out.append("a GPU on Fargate")
    if op == "CreateSchedule":
        m = CRON.fullmatch(params["ScheduleExpression"])
        if not m:
            out.append("ScheduleExpression %r is not cron(6 fields)" % params["ScheduleExpression"])
        elif (m.group(3) == "?") == (m.group(5) == "?"):
            out.append("exactly one of day-of-month and day-of-week must be '?': %s" % m.group(0))
        try:
            zoneinfo.ZoneInfo(params["ScheduleExpressionTimezone"])
        except Exception:
            out.append("no time zone %r" % params.get("ScheduleExpressionTimezone"))
    if op == "PutRule":
        try:
            json.loads(params["EventPattern"])
        except ValueError as e:
            out.append("EventPattern is not JSON: %s" % e)
    if op == "PutTargets":
        for t in params["Targets"]:
            tr = t.get("InputTransformer")
            if tr:
                json.loads(tr["InputTemplate"])
                for name in re.findall(r"<([^<>]*)>", tr["InputTemplate"]):
                    if name not in tr["InputPathsMap"] and name != "aws.events.event":
                        out.append("<%s> in the message is not in InputPathsMap" % name)
    return out


def check(path, session, validator):
    op = operation_of(path)
    if not op:
        return ["%s: no AWS operation takes a file of this name" % path]
    service, name = op
    with open(path) as f:
        params = json.load(f)
    shape = session.get_service_model(service).operation_model(name).input_shape
    report = validator.validate(params, shape)
    problems = []
    if report.has_errors():
        problems += report.generate_report().splitlines()
    problems += enum_problems(shape, params, name)
    problems += own_problems(name, params)
    return ["%s (%s %s): %s" % (path, service, name, p) for p in problems]


def main(paths):
    session = botocore.session.get_session()
    validator = ParamValidator()
    problems = []
    for path in paths:
        problems += check(path, session, validator)
    for p in problems:
        print(p)
    print("%d files, %d problems" % (len(paths), len(problems)), file=sys.stderr)
    return 1 if problems or not paths else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
