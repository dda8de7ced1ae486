"""Checking the SQL expressions a measure declares (``when``, ``value``).

Measures in the catalogue and in a center's ``kpitools.yaml`` are written in the catalogue's
own form: a ``when`` condition and a ``value`` over the columns of their source, spliced into
the engine's SQL. Before that, each expression must be a plain, single SQL expression: column
names, numbers, 'quoted' text, comparison and arithmetic operators, AND / OR / NOT, IS NULL,
IN (…), BETWEEN, CASE … END and a few scalar functions. Anything else — a semicolon, a
comment, a quoted identifier, a sub-query keyword, an unknown function — is refused, so no
text from a configuration file can turn into a second statement or read another table.

>>> expression_identifiers("is_handled AND hold_s > 60")
['is_handled', 'hold_s']
"""

from __future__ import annotations

import re

KEYWORDS = {
    "and", "or", "not", "is", "null", "in", "between", "case", "when", "then", "else", "end",
    "true", "false", "like", "ilike", "cast", "as", "double", "varchar", "bigint", "integer",
    "boolean", "distinct", "from",  # "from" only inside IS [NOT] DISTINCT FROM, checked below
}
FUNCTIONS = {"coalesce", "abs", "least", "greatest", "lower", "upper", "length", "round",
             "floor", "ceil", "nullif", "cast"}
# Words that would start another clause or statement: never part of a measure.
REFUSED = {"select", "where", "union", "join", "insert", "update", "delete", "drop", "create",
           "alter", "attach", "detach", "copy", "pragma", "set", "call", "export", "import",
           "install", "load", "with", "over", "group", "order", "limit", "having", "into",
           "table", "values", "exists", "reset", "checkpoint", "vacuum", "use", "describe",
           "show", "summarize", "pivot", "unpivot", "window", "qualify", "returning"}
MAX_LENGTH = 500

_TOKEN = re.compile(r"""
    (?P<space>\s+)
  | (?P<number>\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)
  | (?P<string>'(?:[^']|'')*')
  | (?P<word>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<op><=|>=|<>|!=|\|\||[=<>+\-*/%(),])
""", re.VERBOSE)


def expression_identifiers(text: str) -> list[str]:
    """The column names a plain SQL expression reads, in order of first use.

    Raises ValueError (with what is wrong, for a message) when ``text`` is not a plain,
    single expression.
    """
    if not isinstance(text, str) or not text.strip():
        raise ValueError("is empty; write a SQL condition or value such as is_handled AND hold_s > 60")
    if len(text) > MAX_LENGTH:
        raise ValueError(f"is longer than {MAX_LENGTH} characters")
    tokens: list[tuple[str, str]] = []
    pos = 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None:
            raise ValueError(f"has {text[pos]!r} at character {pos + 1}, which a measure cannot use "
                             "(no ; -- /* or \"quoted\" names)")
        if m.lastgroup != "space":
            tokens.append((m.lastgroup, m.group()))
        pos = m.end()
    if "--" in text or "/*" in text:
        raise ValueError("contains a comment")
    depth = 0
    columns: list[str] = []
    for k, (kind, tok) in enumerate(tokens):
        if tok == "(":
            depth += 1
        elif tok == ")":
            depth -= 1
            if depth < 0:
                raise ValueError("has a ')' without its '('")
        if kind != "word":
            continue
        word = tok.lower()
        following = tokens[k + 1][1] if k + 1 < len(tokens) else ""
        if word in REFUSED:
            raise ValueError(f"uses {tok!r}: a measure is one expression, not a query")
        if following == "(" and word not in FUNCTIONS and word not in KEYWORDS:
            raise ValueError(f"calls {tok}(), which is not one of {', '.join(sorted(FUNCTIONS))}")
        if word == "from" and (k < 1 or tokens[k - 1][1].lower() != "distinct"):
            raise ValueError("uses 'from' outside IS [NOT] DISTINCT FROM")
        if word in KEYWORDS or word in FUNCTIONS:
            continue
        if tok not in columns:
            columns.append(tok)
    if depth:
        raise ValueError("has an unclosed '('")
    return columns


def conjuncts(text: str) -> list[str]:
    """The parts of a checked expression joined by top-level ``AND`` (the expression itself
    when it is not a conjunction): an ``AND`` inside parentheses, inside ``CASE … END`` or
    closing a ``BETWEEN`` does not split, and a top-level ``OR`` (which binds looser than
    ``AND``) makes the whole text one part.

    >>> conjuncts("is_handled AND (a OR b) AND wait_s BETWEEN 1 AND 5")
    ['is_handled', '(a OR b)', 'wait_s BETWEEN 1 AND 5']
    >>> conjuncts("a OR b AND c")
    ['a OR b AND c']
    """
    depth = case_depth = 0
    between = False  # a BETWEEN at the top level waits for its AND
    cuts: list[tuple[int, int]] = []  # (start, end) of each splitting AND
    for m in _TOKEN.finditer(text):
        tok = m.group().lower()
        if tok == "(":
            depth += 1
        elif tok == ")":
            depth -= 1
        elif depth or m.lastgroup != "word":
            continue
        elif tok == "case":
            case_depth += 1
        elif tok == "end":
            case_depth -= 1
        elif case_depth:
            continue
        elif tok == "between":
            between = True
        elif tok == "or":
            return [text.strip()]
        elif tok == "and":
            if between:
                between = False
            else:
                cuts.append(m.span())
    parts, start = [], 0
    for a, b in cuts:
        parts.append(text[start:a].strip())
        start = b
    parts.append(text[start:].strip())
    return parts
