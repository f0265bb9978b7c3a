"""A conservative text lint for what `opa check --strict` (OPA v1) rejects and the embedded engine
lets through silently — used where no `opa` binary is available.

It checks, per module:
- v1 syntax: no rule body opened without `if` (`allow {`, `deny[msg] {`, `else = x {`);
- imports: none unused, none duplicated (`import rego.v1` is exempt, as in OPA);
- `input` and `data` never assigned, declared or used as argument or rule names;
- no deprecated built-ins (`any`, `all`, `re_match`, `set_diff`, `cast_*`, `net.cidr_overlap`);
- unused locals: every `:=` assignment, `some` / `every` variable and function argument is used
  again in its scope (a comprehension, or the rule);
- the team rule that regopy needs: no `some k, v in` inside a comprehension.

It cannot catch what needs OPA's type checker or its safety analysis: unsafe variables, type
errors, unknown functions or refs, conflicting rule definitions across files, a variable used
only in a sibling scope that happens to share its name, or any construct its brace matching
misreads (set union `|` at the top of a rule body is taken for a comprehension bar).
"""
from __future__ import annotations

import re
from dataclasses import dataclass

KEYWORDS = {"some", "in", "if", "not", "every", "contains", "else", "with", "as", "default", "import",
            "package", "true", "false", "null", "_"}
DEPRECATED = re.compile(r"(?<![\w.])(any|all|re_match|set_diff|cast_array|cast_set|cast_string|cast_boolean|cast_null"
                        r"|cast_object)\s*\(|(?<![\w.])net\.cidr_overlap\s*\(")
V0_HEAD = re.compile(r"^[A-Za-z_][\w.]*(\[[^\]\n]*\])?\s*(=[^=\n{][^\n{]*)?\{", re.MULTILINE)
V0_ELSE = re.compile(r"\belse\b(?:(?!\bif\b)[^{\n])*\{")
ASSIGN = re.compile(r"(?<![\w.])([A-Za-z_]\w*)\s*:=")
SOME_DECL = re.compile(r"\bsome\s+([A-Za-z_]\w*(?:\s*,\s*[A-Za-z_]\w*)*)(?!\s*,)")
EVERY_DECL = re.compile(r"\bevery\s+([A-Za-z_]\w*(?:\s*,\s*[A-Za-z_]\w*)?)\s+in\b")
SOME_KV_IN = re.compile(r"\bsome\s+[A-Za-z_]\w*\s*,\s*[A-Za-z_]\w*\s+in\b")
FUNCTION_HEAD = re.compile(r"^([A-Za-z_]\w*)\(([^)]*)\)")
IMPORT = re.compile(r"^import\s+([\w.\[\]\"]+)(?:\s+as\s+(\w+))?\s*$", re.MULTILINE)


@dataclass(frozen=True)
class Problem:
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.line}: {self.message}"


def strip(source: str) -> str:
    """The source with comments removed and string contents blanked; offsets and lines kept."""
    out = []
    i, n = 0, len(source)
    while i < n:
        c = source[i]
        if c == "#":
            j = source.find("\n", i)
            j = n if j < 0 else j
            out.append(" " * (j - i))
            i = j
        elif c in "\"`":
            j = i + 1
            while j < n and source[j] != c:
                j += 2 if c == '"' and source[j] == "\\" else 1
            out.append(c + "".join("\n" if ch == "\n" else " " for ch in source[i + 1:j]) + c)
            i = j + 1
        else:
            out.append(c)
            i += 1
    return "".join(out)


def _statements(text: str) -> list[tuple[int, int]]:
    """(start, end) offsets of top-level statements: each starts at column 0 with a name."""
    starts = [m.start() for m in re.finditer(r"^[A-Za-z_]", text, re.MULTILINE)]
    return [(s, starts[k + 1] if k + 1 < len(starts) else len(text)) for k, s in enumerate(starts)]


def _comprehensions(text: str, start: int, end: int) -> list[tuple[int, int, int]]:
    """(open, bar, close) offsets of every comprehension in text[start:end], nested ones too."""
    found, stack = [], []  # stack of [open offset, bar offset or -1]
    pairs = {"]": "[", "}": "{", ")": "("}
    for i in range(start, end):
        c = text[i]
        if c in "[{(":
            stack.append([i, -1])
        elif c == "|" and stack and stack[-1][1] < 0 and text[stack[-1][0]] in "[{":
            stack[-1][1] = i
        elif c in pairs and stack:
            opened, bar = stack.pop()
            if bar >= 0 and text[opened] == pairs[c]:
                found.append((opened, bar, i))
    return found


def _uses(name: str, text: str) -> int:
    return len(re.findall(rf"(?<![\w.]){re.escape(name)}\b(?!\s*\()", text))


def _line(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


def _declared(scope_text: str) -> list[tuple[str, int]]:
    """Variables a scope introduces: `x :=`, `some x, y`, `some x in`, `every x in`."""
    names = [(m.group(1), m.start()) for m in ASSIGN.finditer(scope_text)]
    for pattern in (SOME_DECL, EVERY_DECL):
        for m in pattern.finditer(scope_text):
            names += [(n.strip(), m.start()) for n in m.group(1).split(",")]
    return [(n, at) for n, at in names if n not in KEYWORDS]


def _blank(text: str, ranges: list[tuple[int, int]]) -> str:
    chars = list(text)
    for a, b in ranges:
        for k in range(a, b):
            if chars[k] != "\n":
                chars[k] = " "
    return "".join(chars)


def _check_scope(text: str, a: int, b: int, own: str, skip: set[str], problems: list[Problem]) -> None:
    """Every variable declared in `own` (the scope without nested scopes) is used again in text[a:b]."""
    whole = text[a:b]
    for name, at in _declared(own):
        if name in skip or name.startswith("_"):
            continue
        if name in ("input", "data"):
            problems.append(Problem(_line(text, a + at), f"'{name}' is reserved: it must not be assigned or declared"))
        elif _uses(name, whole) < 2:
            problems.append(Problem(_line(text, a + at), f"variable '{name}' is never used"))


def _check_statement(text: str, start: int, end: int, problems: list[Problem]) -> None:
    stmt = text[start:end]
    head = re.match(r"[A-Za-z_]\w*", stmt).group(0)
    if head in ("package", "import"):
        return
    if head in ("input", "data"):
        problems.append(Problem(_line(text, start), f"rule named '{head}': the name is reserved"))
    function = FUNCTION_HEAD.match(stmt)
    if function:
        for arg in (a.strip() for a in function.group(2).split(",")):
            if re.fullmatch(r"[A-Za-z_]\w*", arg) and arg != "_":
                if arg in ("input", "data"):
                    problems.append(Problem(_line(text, start), f"argument '{arg}' of {head}: the name is reserved"))
                elif _uses(arg, stmt) < 2:
                    problems.append(Problem(_line(text, start), f"argument '{arg}' of {head} is never used"))
    comps = _comprehensions(text, start, end)
    for opened, bar, close in comps:
        inner = [(o, c + 1) for o, _, c in comps if opened < o and c < close]
        own = _blank(text, inner)[bar:close]
        for m in SOME_KV_IN.finditer(own):
            problems.append(Problem(_line(text, bar + m.start()), "`some k, v in` inside a comprehension (regopy cannot parse it)"))
        _check_scope(text, opened, close + 1, " " * (bar - opened) + own, set(), problems)
    outer = _blank(text, [(o, c + 1) for o, _, c in comps])[start:end]
    _check_scope(text, start, end, outer[len(head):], {head}, problems)


def _check_imports(text: str, problems: list[Problem]) -> None:
    seen: dict[str, int] = {}
    body = IMPORT.sub("", text)
    for m in IMPORT.finditer(text):
        path, alias = m.group(1), m.group(2)
        line = _line(text, m.start())
        if path in seen:
            problems.append(Problem(line, f"import {path} duplicates line {seen[path]}"))
        seen[path] = line
        if path == "rego.v1" or path.startswith("future.keywords"):
            continue
        name = alias or re.split(r"[.\[]", path)[-1].strip('"]')
        if not re.search(rf"(?<![\w.]){re.escape(name)}\b", body):
            problems.append(Problem(line, f"import {path} is never used"))


def lint(source: str) -> list[Problem]:
    """The problems of one Rego module, by line."""
    text = strip(source)
    problems: list[Problem] = []
    for m in V0_HEAD.finditer(text):
        if not text[m.start():m.end()].startswith(("package", "import", "default")):
            problems.append(Problem(_line(text, m.start()), "rule body without `if` (Rego v0 syntax)"))
    for m in V0_ELSE.finditer(text):
        problems.append(Problem(_line(text, m.start()), "`else` body without `if` (Rego v0 syntax)"))
    for m in DEPRECATED.finditer(text):
        problems.append(Problem(_line(text, m.start()), f"deprecated built-in {m.group(0).rstrip('( ')}"))
    _check_imports(text, problems)
    for start, end in _statements(text):
        _check_statement(text, start, end, problems)
    return sorted(set(problems), key=lambda p: (p.line, p.message))
