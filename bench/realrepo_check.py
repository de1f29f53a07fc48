#!/usr/bin/env python3
"""An independent check of mlrepo's answers on a real repository's history.

For each of the last N first-parent commits it works out from plain `git`
output, with its own small Dockerfile reader, what the contract says:

- the projects (directories holding a regular file named Dockerfile, outside
  dot-directories and `exclude:` globs, named by `name:` or `name_from`),
- the FROM edges (a reference names a project only by its image repository or
  its bare local name, Docker Hub spellings normalised, digests never),
- the changed projects between the commit and its parent (`git diff
  --name-only --no-renames`, each path to every project holding it whose
  build sees it by its ignore file, nested projects' parents too, every project
  when the workspace's registry, image_prefix, name_from or docker differ,
  then every dependent), and the removed ones,

and compares them with `mlrepo list --rev`, `mlrepo graph --rev` and
`mlrepo changed --base --head`. It shares no code with mlrepo.

usage: realrepo_check.py REPO [--commits N] [--mlrepo PATH] [--json OUT]
"""
import argparse
import fnmatch
import json
import re
import subprocess
import sys


def git(repo, *args):
    return subprocess.run(["git", "-C", repo, *args], check=True, capture_output=True).stdout


def read_blob(repo, rev, path):
    r = subprocess.run(["git", "-C", repo, "show", f"{rev}:{path}"], capture_output=True)
    return r.stdout.decode("utf-8", "replace") if r.returncode == 0 else None


def simple_yaml(text):
    """Top-level `key: value` and `key: [a, b]` / block lists: all this check needs."""
    out, key = {}, None
    for line in (text or "").lstrip("\ufeff").splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        m = re.match(r"^([A-Za-z_]+):\s*(.*?)\s*$", line)
        if m:
            key, value = m.group(1), m.group(2)
            if value.startswith("["):
                out[key] = [v.strip().strip("'\"") for v in value.strip("[]").split(",") if v.strip()]
            elif value:
                out[key] = value.strip("'\"")
            else:
                out[key] = []
            continue
        m = re.match(r"^\s+-\s*(.*?)\s*$", line)
        if m and key is not None and isinstance(out.get(key), list):
            out[key].append(m.group(1).strip("'\""))
    return out


def canonical(repo):
    first, _, rest = repo.partition("/")
    if rest and ("." in first or ":" in first or first == "localhost" or first.lower() != first):
        domain, path = first, rest
    else:
        domain, path = "docker.io", repo
    if domain in ("docker.io", "index.docker.io"):
        domain = "docker.io"
        if "/" not in path:
            path = "library/" + path
    return domain + "/" + path


def expand(word, scope):
    """$X, ${X}, ${X:-w}, ${X-w}, ${X:+w}, ${X+w}; undefined is empty."""
    def repl(m):
        if m.group(4):
            return scope.get(m.group(4), "")
        name, op, word_ = m.group(1), m.group(2), m.group(3)
        value = scope.get(name)
        if op == ":-":
            return value if value else expand(word_, scope)
        if op == "-":
            return value if value is not None else expand(word_, scope)
        if op == ":+":
            return expand(word_, scope) if value else ""
        if op == "+":
            return expand(word_, scope) if value is not None else ""
        return value or ""
    return re.sub(r"\$\{(\w+)(?:(:-|-|:\+|\+)([^}]*))?\}|\$(\w+)", repl, word)


def image_refs(text):
    """(line, reference, pinned) for FROM, COPY --from, RUN --mount from=."""
    lines = text.lstrip("\ufeff").split("\n")
    instructions, cur, start = [], "", 0
    for i, raw in enumerate(lines):
        s = raw.strip()
        if not cur and (not s or s.startswith("#")):
            continue
        if cur and (not s or s.startswith("#")):
            continue
        if not cur:
            start = i + 1
        if s.endswith("\\"):
            cur += s[:-1] + " "
            continue
        cur += s
        instructions.append((start, cur))
        cur = ""
    scope_global, aliases, stages, out = {}, set(), 0, []
    in_stage, stage_scope = False, {}
    for line, ins in instructions:
        words = ins.split()
        kw, args = words[0].upper(), words[1:]
        if kw == "ARG":
            for a in args:
                k, eq, v = a.partition("=")
                target = stage_scope if in_stage else scope_global
                if eq:
                    target[k] = expand(v.strip("'\""), target)
                elif in_stage and k in scope_global:
                    target[k] = scope_global[k]
        elif kw == "FROM":
            rest = [a for a in args if not a.startswith("--")]
            if rest:
                ref = expand(rest[0], scope_global)
                if ref.lower() != "scratch" and ref.lower() not in aliases:
                    out.append((line, ref))
                if len(rest) >= 3 and rest[1].upper() == "AS":
                    aliases.add(rest[2].lower())
            in_stage, stage_scope, stages = True, {}, stages + 1
        elif kw in ("COPY", "ADD", "RUN"):
            for a in args:
                if not a.startswith("--"):
                    break
                refs = []
                if kw != "RUN" and a.startswith("--from="):
                    refs.append(a[len("--from="):])
                if kw == "RUN" and a.startswith("--mount="):
                    refs += [o[5:] for o in a[len("--mount="):].split(",") if o.startswith("from=")]
                for r in refs:
                    r = expand(r, stage_scope)
                    if r.lower() in aliases or r.lower() == "scratch" or (r.isdigit() and int(r) < stages):
                        continue
                    out.append((line, r))
    result = []
    for line, ref in out:
        pinned = "@" in ref
        repo = ref.split("@")[0]
        slash, colon = repo.rfind("/"), repo.rfind(":")
        if colon > slash:
            repo = repo[:colon]
        result.append((line, repo, pinned))
    return result


class Snapshot:
    def __init__(self, repo, rev):
        self.repo, self.rev = repo, rev
        self.ignores = {}  # project dir -> its ignore rules, read on first use
        ws = simple_yaml(read_blob(repo, rev, "mlrepo.yaml"))
        self.build_keys = tuple(ws.get(k, d) for k, d in
                                (("registry", ""), ("image_prefix", ""), ("name_from", "leaf"), ("docker", "docker")))
        self.registry = ws.get("registry", "").rstrip("/")
        self.prefix = ws.get("image_prefix", "")
        self.name_from = ws.get("name_from", "leaf")
        excludes = ws.get("exclude", [])
        entries = git(repo, "ls-tree", "-r", "-z", rev).split(b"\0")
        self.files = {}
        for e in entries:
            if not e:
                continue
            meta, path = e.decode("utf-8", "surrogateescape").split("\t", 1)
            self.files[path] = meta.split()[0]
        dirs = []
        for path, mode in self.files.items():
            if path.rsplit("/", 1)[-1] != "Dockerfile" or mode not in ("100644", "100755") or "/" not in path:
                continue
            d = path.rsplit("/", 1)[0]
            parts = d.split("/")
            if any(p.startswith(".") for p in parts):
                continue
            prefixes = ["/".join(parts[:k]) for k in range(1, len(parts) + 1)]
            if any(fnmatch.fnmatchcase(p, g.replace("**/", "*")) or fnmatch.fnmatchcase(p, g) for p in prefixes for g in excludes):
                continue
            dirs.append(d)
        self.projects = {}
        for d in sorted(dirs):
            cfg = simple_yaml(read_blob(repo, rev, d + "/mlrepo.yaml"))
            name = cfg.get("name") or (d.rsplit("/", 1)[-1] if self.name_from == "leaf" else d.replace("/", "-")).lower()
            self.projects[d] = name
        self.by_identity = {}
        for d, name in self.projects.items():
            local = self.prefix + name
            self.by_identity[canonical(local)] = d
            if self.registry:
                self.by_identity[canonical(self.registry + "/" + local)] = d
        self.edges = set()
        for d, name in self.projects.items():
            text = read_blob(repo, rev, d + "/Dockerfile") or ""
            for _, ref, pinned in image_refs(text):
                target = self.by_identity.get(canonical(ref))
                if target and target != d and not pinned:
                    self.edges.add((name, self.projects[target]))

    def owner(self, path):
        best = None
        for d in self.projects:
            if path.startswith(d + "/") and (best is None or len(d) > len(best)):
                best = d
        return best

    def enclosing(self, path):
        """Every project directory holding the path, deepest first."""
        return sorted((d for d in self.projects if path.startswith(d + "/")), key=len, reverse=True)

    def sees(self, d, path):
        """Whether project d's build sees `path`, by the ignore file BuildKit
        reads (`Dockerfile.dockerignore` beside the Dockerfile, else the
        context's `.dockerignore`; the context is taken to be d)."""
        rel = path[len(d) + 1:]
        always = {"Dockerfile", "mlrepo.yaml", ".dockerignore", "Dockerfile.dockerignore"}
        if rel in always:
            return True
        if d not in self.ignores:
            text = read_blob(self.repo, self.rev, d + "/Dockerfile.dockerignore")
            if text is None:
                text = read_blob(self.repo, self.rev, d + "/.dockerignore")
            self.ignores[d] = ignore_rules(text or "")
        ignored = False
        parts = rel.split("/")
        for exception, rx in self.ignores[d]:
            if any(rx.fullmatch("/".join(parts[:n])) for n in range(1, len(parts) + 1)):
                ignored = not exception
        return not ignored


def ignore_rules(text):
    """Docker's .dockerignore: one pattern a line, '#' comments, '!' exceptions,
    '*' and '?' within a path component, '**' across them; the last match decides."""
    rules = []
    for line in text.lstrip("\ufeff").splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        exception = line.startswith("!")
        if exception:
            line = line[1:].strip()
        line = "/".join(p for p in line.split("/") if p not in ("", "."))
        if not line:
            continue
        rx, i = "", 0
        while i < len(line):
            if line.startswith("**/", i):
                rx, i = rx + "(?:.*/)?", i + 3
            elif line.startswith("**", i):
                rx, i = rx + ".*", i + 2
            elif line[i] == "*":
                rx, i = rx + "[^/]*", i + 1
            elif line[i] == "?":
                rx, i = rx + "[^/]", i + 1
            elif line[i] == "[" and "]" in line[i + 1:]:
                j = line.index("]", i + 1)
                rx, i = rx + "[" + line[i + 1:j].replace("!", "^", 1) + "]", j + 1
            else:
                rx, i = rx + re.escape(line[i]), i + 1
        rules.append((exception, re.compile(rx)))
    return rules


def expected_changed(head, base, changed_paths):
    marked = set()
    if head.build_keys != base.build_keys:  # names or builds of every image
        marked = set(head.projects.values())
    for p in changed_paths:
        # The contract: every project holding the file whose build sees it
        # (the deepest owns it; an enclosing project's context holds it too).
        for d in head.enclosing(p):
            if head.sees(d, p):
                marked.add(head.projects[d])
    dependents = {}
    for a, b in head.edges:
        dependents.setdefault(b, set()).add(a)
    todo = list(marked)
    while todo:
        n = todo.pop()
        for r in dependents.get(n, ()):
            if r not in marked:
                marked.add(r)
                todo.append(r)
    removed = {base.projects[d] for d in base.projects if d not in head.projects}
    return marked, removed


def mlrepo_json(mlrepo, repo, *args):
    r = subprocess.run([mlrepo, "-C", repo, *args], capture_output=True, text=True,
                       env={"PATH": "/usr/bin:/bin", "HOME": "/tmp", "CI": "true"})
    if r.returncode != 0:
        return None, r.stderr.strip()
    return json.loads(r.stdout), None


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("repo")
    ap.add_argument("--commits", type=int, default=100)
    ap.add_argument("--mlrepo", default="build/src/mlrepo")
    ap.add_argument("--json")
    a = ap.parse_args()
    revs = git(a.repo, "rev-list", "--first-parent", "-n", str(a.commits + 1), "HEAD").decode().split()
    stats = {"commits": 0, "list_diffs": 0, "graph_diffs": 0, "changed_diffs": 0, "errors": 0,
             "projects_at_head": 0, "edges_at_head": 0, "changed_total": 0, "differences": []}
    snaps = {}

    def snap(rev):
        if rev not in snaps:
            snaps[rev] = Snapshot(a.repo, rev)
        return snaps[rev]

    for k in range(len(revs) - 1):
        head_rev, base_rev = revs[k], revs[k + 1]
        head, base = snap(head_rev), snap(base_rev)
        stats["commits"] += 1
        if k == 0:
            stats["projects_at_head"], stats["edges_at_head"] = len(head.projects), len(head.edges)
        lst, err = mlrepo_json(a.mlrepo, a.repo, "list", "--rev", head_rev, "--json")
        if err:
            stats["errors"] += 1
            stats["differences"].append({"commit": head_rev, "what": "list failed", "detail": err})
            continue
        got = {(p["path"], p["name"]) for p in lst["projects"]}
        want = set(head.projects.items())
        if got != want:
            stats["list_diffs"] += 1
            stats["differences"].append({"commit": head_rev, "what": "list",
                                         "mlrepo_only": sorted(got - want), "check_only": sorted(want - got)})
        graph, err = mlrepo_json(a.mlrepo, a.repo, "graph", "--rev", head_rev, "--format", "json")
        got_e = {(e["from"], e["to"]) for e in graph["edges"] if e["via"] == "FROM"} if graph else set()
        if got_e != head.edges:
            stats["graph_diffs"] += 1
            stats["differences"].append({"commit": head_rev, "what": "graph",
                                         "mlrepo_only": sorted(got_e - head.edges),
                                         "check_only": sorted(head.edges - got_e)})
        paths = git(a.repo, "diff", "--name-only", "--no-renames", "-z", base_rev, head_rev).decode(
            "utf-8", "surrogateescape").split("\0")
        want_c, want_r = expected_changed(head, base, [p for p in paths if p])
        ch, err = mlrepo_json(a.mlrepo, a.repo, "changed", "--base", base_rev, "--head", head_rev, "--json")
        if err:
            stats["errors"] += 1
            stats["differences"].append({"commit": head_rev, "what": "changed failed", "detail": err})
            continue
        got_c = {c["name"] for c in ch["changed"]}
        got_r = {r["name"] for r in ch["removed"]}
        stats["changed_total"] += len(got_c)
        if got_c != want_c or got_r != want_r:
            stats["changed_diffs"] += 1
            stats["differences"].append({"commit": head_rev, "what": "changed",
                                         "mlrepo_only": sorted(got_c - want_c), "check_only": sorted(want_c - got_c),
                                         "removed_mlrepo": sorted(got_r), "removed_check": sorted(want_r)})
    summary = {k: v for k, v in stats.items() if k != "differences"}
    print(json.dumps(summary))
    for d in stats["differences"][:20]:
        print(json.dumps(d))
    if a.json:
        with open(a.json, "w") as f:
            json.dump(stats, f, indent=1)
    return 0 if not stats["differences"] else 1


if __name__ == "__main__":
    sys.exit(main())
