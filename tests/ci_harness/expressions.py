"""GitHub Actions expressions (the `${{ }}` language), enough of it for the
workflows mlrepo generates: literals, property access, !, ==, !=, <, >, &&, ||,
parentheses, and the functions always, success, failure, cancelled, fromJSON,
toJSON, contains, startsWith, endsWith, format. Semantics follow GitHub's
documentation: && and || return an operand, comparisons of strings ignore
case, a missing property is null."""

import json
import re

_TOKEN = re.compile(
    r"\s*(?:(?P<num>-?\d+(?:\.\d+)?)|(?P<str>'(?:[^']|'')*')|(?P<op>==|!=|<=|>=|&&|\|\||[!<>().,\[\]])"
    r"|(?P<ident>[A-Za-z_][A-Za-z0-9_-]*|\*))"
)


class ExpressionError(Exception):
    pass


def tokenize(text):
    pos, out = 0, []
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise ExpressionError(f"cannot read expression at {text[pos:]!r}")
        pos = m.end()
        kind = m.lastgroup
        out.append((kind, m.group(kind)))
    return out


def truthy(v):
    return not (v is None or v is False or v == "" or v == 0)


def _coerce_num(v):
    if v is None:
        return 0
    if isinstance(v, bool):
        return 1 if v else 0
    if isinstance(v, (int, float)):
        return v
    if isinstance(v, str):
        try:
            return float(v) if v.strip() else 0
        except ValueError:
            return float("nan")
    return float("nan")


def equal(a, b):
    if isinstance(a, str) and isinstance(b, str):
        return a.lower() == b.lower()
    if type(a) is type(b) or (isinstance(a, (int, float)) and isinstance(b, (int, float))):
        return a == b
    if isinstance(a, (dict, list)) or isinstance(b, (dict, list)):
        return a is b
    return _coerce_num(a) == _coerce_num(b)


def to_string(v):
    if v is None:
        return ""
    if v is True:
        return "true"
    if v is False:
        return "false"
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    if isinstance(v, (dict, list)):
        return json.dumps(v, indent=2)
    return str(v)


class Evaluator:
    """functions: name -> callable(*args) for the status functions."""

    def __init__(self, contexts, status_functions):
        self.contexts = contexts
        self.status = status_functions

    def evaluate(self, text):
        self.tokens = tokenize(text)
        self.i = 0
        v = self._or()
        if self.i != len(self.tokens):
            raise ExpressionError(f"unexpected {self.tokens[self.i][1]!r} in {text!r}")
        return v

    def _peek(self):
        return self.tokens[self.i] if self.i < len(self.tokens) else (None, None)

    def _take(self, value=None):
        tok = self._peek()
        if value is not None and tok[1] != value:
            raise ExpressionError(f"expected {value!r}, found {tok[1]!r}")
        self.i += 1
        return tok

    def _or(self):
        v = self._and()
        while self._peek()[1] == "||":
            self._take()
            rhs = self._and()
            v = v if truthy(v) else rhs
        return v

    def _and(self):
        v = self._cmp()
        while self._peek()[1] == "&&":
            self._take()
            rhs = self._cmp()
            v = rhs if truthy(v) else v
        return v

    def _cmp(self):
        v = self._unary()
        while self._peek()[1] in ("==", "!=", "<", ">", "<=", ">="):
            op = self._take()[1]
            rhs = self._unary()
            if op == "==":
                v = equal(v, rhs)
            elif op == "!=":
                v = not equal(v, rhs)
            else:
                a, b = _coerce_num(v), _coerce_num(rhs)
                v = {"<": a < b, ">": a > b, "<=": a <= b, ">=": a >= b}[op]
        return v

    def _unary(self):
        if self._peek()[1] == "!":
            self._take()
            return not truthy(self._unary())
        return self._postfix(self._primary())

    def _primary(self):
        kind, value = self._take()
        if kind == "num":
            return float(value) if "." in value else int(value)
        if kind == "str":
            return value[1:-1].replace("''", "'")
        if value == "(":
            v = self._or()
            self._take(")")
            return v
        if kind == "ident":
            low = value.lower()
            if low in ("true", "false"):
                return low == "true"
            if low == "null":
                return None
            if self._peek()[1] == "(":
                self._take()
                args = []
                while self._peek()[1] != ")":
                    args.append(self._or())
                    if self._peek()[1] == ",":
                        self._take()
                self._take(")")
                return self._call(low, args)
            if value not in self.contexts:
                raise ExpressionError(f"unknown context {value!r}")
            return self.contexts[value]
        raise ExpressionError(f"unexpected {value!r}")

    def _postfix(self, v):
        while self._peek()[1] in (".", "["):
            if self._take()[1] == ".":
                key = self._take()[1]
            else:
                key = self._or()
                self._take("]")
            if isinstance(v, dict):
                match = [k for k in v if isinstance(k, str) and isinstance(key, str) and k.lower() == key.lower()]
                v = v[match[0]] if match else None
            elif isinstance(v, list) and isinstance(key, (int, float)):
                v = v[int(key)] if 0 <= int(key) < len(v) else None
            else:
                v = None
        return v

    def _call(self, name, args):
        if name in self.status:
            return self.status[name]()
        if name == "fromjson":
            return json.loads(to_string(args[0]))
        if name == "tojson":
            return json.dumps(args[0], indent=2)
        if name == "contains":
            hay, needle = args
            if isinstance(hay, list):
                return any(equal(x, needle) for x in hay)
            return to_string(needle).lower() in to_string(hay).lower()
        if name == "startswith":
            return to_string(args[0]).lower().startswith(to_string(args[1]).lower())
        if name == "endswith":
            return to_string(args[0]).lower().endswith(to_string(args[1]).lower())
        if name == "format":
            out = to_string(args[0])
            for k, a in enumerate(args[1:]):
                out = out.replace("{" + str(k) + "}", to_string(a))
            return out
        raise ExpressionError(f"unknown function {name}()")


# One ${{ ... }}: its inside never holds "}}", so a whole-value match cannot
# span two templates ("${{ a }}/${{ b }}").
_TEMPLATE = re.compile(r"\$\{\{((?:(?!\}\}).)*)\}\}", re.S)


def substitute(text, evaluator):
    """A string with each ${{ expr }} replaced by its value as text."""
    if not isinstance(text, str):
        return text
    return _TEMPLATE.sub(lambda m: to_string(evaluator.evaluate(m.group(1))), text)


def evaluate_value(text, evaluator):
    """A whole-value template (`${{ fromJSON(x) }}`) keeps its type."""
    if isinstance(text, str):
        m = _TEMPLATE.fullmatch(text.strip())
        if m:
            return evaluator.evaluate(m.group(1))
    return substitute(text, evaluator)


def evaluate_condition(text, evaluator):
    """An `if:` condition: with or without ${{ }}, and success() implied
    unless it calls a status function."""
    if text is None:
        text = "success()"
    if isinstance(text, bool):
        return text
    text = str(text).strip()
    m = _TEMPLATE.fullmatch(text)
    if m:
        text = m.group(1)
    if not re.search(r"\b(always|success|failure|cancelled)\s*\(", text):
        text = f"success() && ({text})"
    return truthy(evaluator.evaluate(text))
