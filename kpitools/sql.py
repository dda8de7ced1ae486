"""SQL for the base measures, generated from the registry.

One query per measure source (interactions, repeats, surveys, agent_activity, costs, qa),
each grouped by the period bucket and the requested dimensions. Queries read the input
views by their table names plus a small calendar relation ``kpi_calendar(day, bucket)``
that maps each day in scope to its period label, so no engine-specific date truncation is
needed. Engine-specific function names come from :mod:`kpitools.dialects`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from .dialects import Dialect
from .registry import SOURCE_TABLE, Registry
from .registry import registry as packaged_registry
from .schema import TABLES
from .sqlexpr import conjuncts, expression_identifiers

DIMENSIONS = ("queue", "channel", "agent_id", "team", "issue_type")
# Time-of-contact dimensions derived from arrived_at (heat maps, staffing intervals):
# weekday 1 = Monday .. 7 = Sunday, hour 0-23, interval = index of the interval_minutes slot
# since the epoch (the engine turns it back into the slot's start time).
TIME_DIMENSIONS = ("weekday", "hour", "interval")
CONTACT_DIMENSIONS = set(DIMENSIONS) | set(TIME_DIMENSIONS)
CALENDAR = "kpi_calendar"
# Every day with a contact (business time), for the coverage and its gaps: one pass.
DAYS_WITH_CONTACTS = "SELECT DISTINCT CAST(arrived_at AS DATE) AS day FROM interactions"

# Which dimensions each source can be grouped by (others make its KPIs undefined).
SOURCE_DIMENSIONS = {
    "interactions": CONTACT_DIMENSIONS,
    "repeats": CONTACT_DIMENSIONS,
    "surveys": CONTACT_DIMENSIONS,
    "qa": CONTACT_DIMENSIONS,
    "agent_activity": {"agent_id", "team"},
    "costs": {"queue"},
}
# Sources whose rows belong to a contact: they can also be grouped by the data's own extra
# columns of interactions (priority, segment …).
CONTACT_SOURCES = ("interactions", "repeats", "surveys", "qa")
BUILT_IN_DIMENSIONS = DIMENSIONS + TIME_DIMENSIONS
# Names the generated SQL uses for its own columns, the built-in dimensions and the columns of
# the tables grouped by a contact's dimensions (surveys, qa: ``SELECT s.*, c.<dim>``): an
# extra column of interactions with one of these names (in any case) cannot be a dimension.
RESERVED_NAMES = frozenset({
    "bucket", "day", "issue_type_key", "has_customer", "has_repeat", "t_us", "daily_amount",
    "is_inbound", "is_handled", "is_abandoned", "is_answered", "is_realtime", "is_async",
    "wait_s", "threshold_s", "short_abandon_s", "handle_s", "grouping_set", *BUILT_IN_DIMENSIONS,
    *TABLES["surveys"].column_names, *TABLES["qa"].column_names,
})


def supports(source: str, dim: str) -> bool:
    """True when measures of ``source`` can be grouped by ``dim`` (a built-in dimension, or
    any other name: an extra column of interactions, which contact sources carry)."""
    if dim in BUILT_IN_DIMENSIONS:
        return dim in SOURCE_DIMENSIONS[source]
    return source in CONTACT_SOURCES


def dim_key(dim: str, dialect: Dialect) -> str:
    """A dimension as a column reference: built-in names as they are, the data's own
    (validated) column names quoted for the engine."""
    return dim if dim in BUILT_IN_DIMENSIONS else dialect.quote(dim)


@dataclass(frozen=True)
class Scope:
    """What to aggregate: days [start, end] inclusive, grouped by bucket and dims.

    ``sets``: several groupings of one pass (``GROUPING SETS``), each a tuple of dims drawn
    from ``by``; the result then has a ``grouping_set`` column telling them apart (see
    :func:`grouping_code`). Empty: one grouping, by ``by``.
    """

    start: dt.date
    end: dt.date
    by: tuple[str, ...] = ()
    sets: tuple[tuple[str, ...], ...] = ()

    @property
    def end_exclusive(self) -> dt.date:
        return self.end + dt.timedelta(days=1)


# Columns the per-contact relation derives (contact_columns, _contacts_in_scope, repeats),
# which a measure's `when` and `value` can read besides the table's own columns.
DERIVED_COLUMNS = {
    "interactions": ("is_inbound", "is_handled", "is_abandoned", "is_answered", "is_realtime",
                     "is_async", "wait_s", "threshold_s", "short_abandon_s", "handle_s",
                     "issue_type_key", "has_customer", "talk_part_s", "hold_part_s",
                     "acw_part_s"),
    "costs": ("daily_amount",),
}
DERIVED_COLUMNS["repeats"] = (*DERIVED_COLUMNS["interactions"], "has_repeat", "t_us")
# Columns _contacts_in_scope always selects from interactions.
_CONTACT_BASE = ("interaction_id", "customer_id", "arrived_at", "transferred", "escalated",
                 "resolved")


def _sql_text(value) -> str:
    """A SQL string literal (quotes doubled): user text is only ever spliced this way."""
    return "'" + str(value).replace("'", "''") + "'"


def sql_list(values) -> str:
    return ", ".join(_sql_text(v) for v in values)


def measure_inputs(reg: Registry, source: str) -> list[str]:
    """Columns of the source table that its measures read (derived columns excluded)."""
    derived = {c.lower() for c in DERIVED_COLUMNS.get(source, ())}
    out: list[str] = []
    for m in reg.measures.values():
        if m.source != source:
            continue
        for text in (m.when, m.value):
            if text is None:
                continue
            for ident in expression_identifiers(str(text)):
                if ident.lower() not in derived and ident not in out:
                    out.append(ident)
    return out


def check_measure_columns(reg: Registry, columns: dict[str, list[str]]) -> list[str]:
    """Problems with a configuration's extra measures that read a column their table does not
    have (``columns``: table -> its loaded columns). Tables not loaded are skipped (their KPIs
    are null); the packaged measures are the loader's business (absent optional columns)."""
    problems = []
    for m in reg.measures.values():
        table = SOURCE_TABLE.get(m.source)
        if m.name in packaged_registry.measures or table not in columns:
            continue
        have = {c.lower() for c in columns[table]}
        derived = {c.lower() for c in DERIVED_COLUMNS.get(m.source, ())}
        for text in (m.when, m.value):
            for ident in expression_identifiers(str(text)) if text is not None else []:
                if ident.lower() not in have | derived:
                    problems.append(f"measures.{m.name}: column {ident!r} is not in the {table} "
                                    f"table (columns: {', '.join(columns[table])})")
    return problems


def contact_columns(params: dict, dialect: Dialect, alias: str = "i") -> str:
    """Per-contact derived columns every interactions measure can use."""
    thresholds = params.get("answer_threshold_s") or {}
    default_threshold = float(params.get("default_answer_threshold_s", 20))
    cases = " ".join(
        f"WHEN {_sql_text(ch)} THEN {float(s)}" for ch, s in thresholds.items()
    )
    threshold = f"CASE {alias}.channel {cases} ELSE {default_threshold} END" if cases else str(default_threshold)
    answered = f"({alias}.outcome = 'handled' AND {alias}.answered_at IS NOT NULL)"
    abandoned = f"({alias}.outcome = 'abandoned')"
    wait_end = (
        f"CASE WHEN {answered} THEN {alias}.answered_at "
        f"WHEN {abandoned} THEN {alias}.ended_at END"
    )
    return ",\n      ".join(
        [
            f"{alias}.direction = 'inbound' AS is_inbound",
            f"{alias}.outcome = 'handled' AS is_handled",
            f"{abandoned} AS is_abandoned",
            f"{answered} AS is_answered",
            f"{alias}.channel IN ({sql_list(params['realtime_channels'])}) AS is_realtime",
            f"{alias}.channel IN ({sql_list(params['async_channels'])}) AS is_async",
            f"{dialect.seconds_between(alias + '.arrived_at', wait_end)} AS wait_s",
            f"{threshold} AS threshold_s",
            f"CAST({float(params.get('short_abandon_s', 5))} AS DOUBLE) AS short_abandon_s",
            f"(COALESCE({alias}.talk_s, 0) + COALESCE({alias}.hold_s, 0) + COALESCE({alias}.acw_s, 0)) AS handle_s",
            # The parts of handle_s, for the talk / hold / ACW split of AHT.
            f"COALESCE({alias}.talk_s, 0) AS talk_part_s",
            f"COALESCE({alias}.hold_s, 0) AS hold_part_s",
            f"COALESCE({alias}.acw_s, 0) AS acw_part_s",
        ]
    )


def dim_expr(dim: str, alias: str, params: dict | None = None, dialect: Dialect | None = None) -> str:
    if dim == "team":
        return "a.team AS team"
    if dim == "weekday":
        return f"{dialect.weekday(alias + '.arrived_at')} AS weekday"
    if dim == "hour":
        return f"EXTRACT(HOUR FROM {alias}.arrived_at) AS hour"
    if dim == "interval":
        width_us = int(float(params.get("interval_minutes", 30)) * 60 * 1_000_000)
        return f"CAST(FLOOR({dialect.micros(alias + '.arrived_at')} / {width_us}) AS BIGINT) AS interval"
    if dim not in BUILT_IN_DIMENSIONS:  # an extra column of interactions
        return f"{alias}.{dialect.quote(dim)} AS {dialect.quote(dim)}"
    return f"{alias}.{dim} AS {dim}"


def _measure_aggregates(reg: Registry, source: str, dialect: Dialect) -> list[tuple]:
    """(measure, its aggregate as SQL) for each measure of ``source``."""
    out = []
    for m in reg.measures.values():
        if m.source != source:
            continue
        # Non-additive measures see only the rows matching `when` (NULL elsewhere is ignored).
        rows = m.value if m.when is None else f"CASE WHEN {m.when} THEN {m.value} END"
        if m.aggregate == "quantile":
            expr = dialect.quantile(rows, m.q)
        elif m.aggregate == "max":
            expr = f"MAX({rows})"
        elif m.when is None and m.value == "1":
            expr = "COUNT(*)"
        elif m.when is None:
            expr = f"SUM({m.value})"
        else:
            expr = f"SUM(CASE WHEN {m.when} THEN {m.value} ELSE 0 END)"
        out.append((m, f"CAST({expr} AS DOUBLE)"))
    return out


def _measure_selects(reg: Registry, source: str, dialect: Dialect) -> list[str]:
    return [f"{sql} AS {m.name}" for m, sql in _measure_aggregates(reg, source, dialect)]


def grouping_code(by: tuple[str, ...], grouped: tuple[str, ...]) -> int:
    """The ``grouping_set`` value of the rows grouped by ``grouped`` in a pass over ``by``:
    one bit per dimension of ``by`` (the first is the highest), set when it is rolled up."""
    return sum(1 << (len(by) - 1 - k) for k, d in enumerate(by) if d not in grouped)


# Dimensions with few values (a center's queues, channels and issue types, 7 weekdays, 24
# hours): groupings made of them only are summed from one aggregate by all of them at once
# (_rolled_up) rather than each aggregating every row.
FEW_VALUES = ("queue", "channel", "issue_type", "weekday", "hour")


def _grouping_sets(sets) -> str:
    return ", ".join("(" + ", ".join(["bucket", *g]) + ")" for g in sets)


def _grouped(inner: str, source: str, reg: Registry, scope: Scope, dialect: Dialect) -> str:
    few = [g for g in scope.sets if set(g) <= set(FEW_VALUES)]
    if len(few) >= 2:
        return _rolled_up(inner, source, reg, scope, dialect, few)
    keys = ["bucket", *(dim_key(d, dialect) for d in scope.by)]
    selects = _measure_selects(reg, source, dialect)
    if not scope.sets:
        return (f"SELECT {', '.join(keys)},\n  " + ",\n  ".join(selects)
                + f"\nFROM (\n{inner}\n) src\nGROUP BY {', '.join(keys)}")
    # GROUPING(dim) is 1 on rows where dim is rolled up: a NULL dim value (no issue type)
    # stays distinct from "all issue types".
    sets = _grouping_sets([tuple(dim_key(d, dialect) for d in g) for g in scope.sets])
    return (f"SELECT {', '.join(keys)},\n  CAST({_code(keys[1:], keys[1:])} AS INTEGER) AS "
            "grouping_set,\n  " + ",\n  ".join(selects)
            + f"\nFROM (\n{inner}\n) src\nGROUP BY GROUPING SETS ({sets})")


def _code(by, grouped) -> str:
    """SQL for :func:`grouping_code` in a GROUPING SETS query over the dims ``grouped``
    (the dims of ``by`` outside it are rolled up in every row: constant bits)."""
    n = len(by)
    parts = [f"GROUPING({d}) * {1 << (n - 1 - i)}" for i, d in enumerate(by) if d in grouped]
    constant = grouping_code(by, grouped)
    return " + ".join(parts + ([str(constant)] if constant or not parts else []))


def _rolled_up(inner: str, source: str, reg: Registry, scope: Scope, dialect: Dialect,
               few: list[tuple[str, ...]]) -> str:
    """The GROUPING SETS result of :func:`_grouped`, with the groupings ``few`` (made of
    FEW_VALUES dims only) summed from one aggregate by all their dims.

    DuckDB aggregates every row once per grouping set, with every measure; a quarter of 10M
    contacts grouped five ways took 7 s, the same rows grouped once by queue, channel,
    issue type, weekday and hour (~12k groups) and summed up from there 4.5 s. Sums and
    maxima add up that way; a quantile does not, so quantiles of those groupings come from
    a GROUPING SETS query of the quantiles alone. Other groupings (per agent: many groups)
    are aggregated with the fine one and passed through. Same rows, codes and values.
    """
    by = tuple(dim_key(d, dialect) for d in scope.by)  # FEW_VALUES need no quoting
    fine = tuple(d for d in FEW_VALUES if any(d in g for g in few))
    others = [tuple(dim_key(d, dialect) for d in g) for g in scope.sets if g not in few]
    aggregates = _measure_aggregates(reg, source, dialect)
    names = [m.name for m, _ in aggregates]
    base_sets = _grouping_sets([fine, *others])
    base = (f"SELECT bucket, {', '.join(by)}, CAST({_code(by, by)} AS INTEGER) AS grouping_set, "
            + ", ".join(f"{sql} AS {m.name}" for m, sql in aggregates)
            + f" FROM ({inner}) src GROUP BY GROUPING SETS ({base_sets})")
    dims = ", ".join(d if d in fine else f"NULL AS {d}" for d in by)
    code = f"CAST({_code(by, fine)} AS INTEGER) AS grouping_set"
    quantiles = [m for m, _ in aggregates if m.aggregate == "quantile"]

    def summed(m) -> str:
        if m.aggregate == "quantile":
            return f"CAST(NULL AS DOUBLE) AS {m.name}"
        return f"{'MAX' if m.aggregate == 'max' else 'SUM'}({m.name}) AS {m.name}"

    rolled = (f"SELECT bucket, {dims}, {code}, " + ", ".join(summed(m) for m, _ in aggregates)
              + f" FROM base WHERE grouping_set = {grouping_code(by, fine)} "
              f"GROUP BY GROUPING SETS ({_grouping_sets(few)})")
    if quantiles:
        # Only rows a quantile reads (a group without them keeps its NULL quantile).
        where = ("" if any(m.when is None for m in quantiles) else
                 " WHERE " + " OR ".join(f"({m.when})" for m in quantiles))
        alone = (f"SELECT bucket, {dims}, {code}, "
                 + ", ".join(f"{sql} AS {m.name}" if m.aggregate == "quantile"
                             else f"CAST(NULL AS DOUBLE) AS {m.name}" for m, sql in aggregates)
                 + f" FROM ({inner}) src{where} GROUP BY GROUPING SETS ({_grouping_sets(few)})")
        # each group's row from either side holds its values, the other side's are NULL
        rolled = (f"SELECT bucket, {', '.join(by)}, grouping_set, "
                  + ", ".join(f"MAX({n}) AS {n}" for n in names)
                  + f" FROM ({rolled} UNION ALL {alone}) halves "
                  f"GROUP BY bucket, {', '.join(by)}, grouping_set")
    sql = f"WITH {dialect.materialized_cte.format(name='base', sql=base)}\n{rolled}"
    if others:
        sql += (f"\nUNION ALL SELECT bucket, {', '.join(by)}, grouping_set, {', '.join(names)} "
                f"FROM base WHERE grouping_set <> {grouping_code(by, fine)}")
    return sql


def _contacts_in_scope(scope: Scope, params: dict, dialect: Dialect, extra_days: int = 0,
                       columns: tuple[str, ...] = ()) -> str:
    """Interactions arriving in scope (plus extra_days after), with derived columns and dims.
    ``columns``: other interactions columns the measures read (checked identifiers)."""
    end = scope.end_exclusive + dt.timedelta(days=extra_days)
    join_team = "LEFT JOIN agents a ON i.agent_id = a.agent_id" if "team" in scope.by else ""
    dims = "".join(f",\n      {dim_expr(d, 'i', params, dialect)}" for d in scope.by if d != "team")
    team = ",\n      a.team AS team" if "team" in scope.by else ""
    taken = {c.lower() for c in (*_CONTACT_BASE, *scope.by)}
    extra = "".join(f", i.{c}" for c in columns if c.lower() not in taken)
    return (
        f"    SELECT i.interaction_id, i.customer_id, i.issue_type AS issue_type_key, i.arrived_at,"
        f" i.transferred, i.escalated, i.resolved, i.customer_id IS NOT NULL AS has_customer{extra}"
        f"{dims}{team},\n"
        f"      {contact_columns(params, dialect)}\n"
        f"    FROM interactions i {join_team}\n"
        f"    WHERE i.arrived_at >= {dialect.timestamp(scope.start)}"
        f" AND i.arrived_at < {dialect.timestamp(end)}"
    )


def _with_bucket(relation: str, day_expr: str, columns: str = "r.*") -> str:
    return (
        f"  SELECT {columns}, cal.bucket FROM (\n{relation}\n  ) r\n"
        f"  JOIN {CALENDAR} cal ON {day_expr} = cal.day"
    )


def interactions_query(reg: Registry, scope: Scope, params: dict, dialect: Dialect) -> str:
    inner = _contacts_in_scope(scope, params, dialect,
                               columns=tuple(measure_inputs(reg, "interactions")))
    return _grouped(_with_bucket(inner, "CAST(r.arrived_at AS DATE)"), "interactions", reg,
                    scope, dialect)


def repeats_only(reg: Registry) -> str | None:
    """When every ``repeats`` measure counts only contacts with a repeat (``has_repeat`` is a
    top-level AND part of its ``when``), the condition a contact must meet besides having a
    repeat to count in any of them (the other parts, OR-ed over the measures); else None.
    Rows without a repeat add nothing to such measures, so the query may leave them out."""
    rests = []
    for m in reg.measures.values():
        if m.source != "repeats":
            continue
        parts = conjuncts(str(m.when)) if m.when is not None else []
        if not any(part.lower() == "has_repeat" for part in parts):
            return None
        rest = [part for part in parts if part.lower() != "has_repeat"]
        if any(ident.lower() in ("has_repeat", "t_us")
               for part in rest for ident in expression_identifiers(part)):
            return None  # read before the flag and the time exist: the window form
        rests.append(" AND ".join(f"({part})" if len(rest) > 1 else part for part in rest)
                     or "TRUE")
    if not rests:
        return None
    return rests[0] if len(set(rests)) == 1 else " OR ".join(f"({r})" for r in rests)


def repeats_query(reg: Registry, scope: Scope, params: dict, dialect: Dialect) -> str:
    """Flag handled inbound contacts followed by another inbound contact of the same customer
    and issue type, strictly later and at most ``repeat_window_h`` after. The window looks past
    the end of the scope, so a repeat in the next period still counts for this one.

    ``repeat_scope`` ``any_issue`` drops the issue-type condition: any later inbound contact of
    the same customer within the window is a repeat (contacts without an issue type count too).

    Two forms give the same rows to the measures. When they only count contacts that have a
    repeat (:func:`repeats_only`, the catalogue's case), a semi join keeps the contacts with a
    later contact in reach: a hash join on the customer (and issue type) that checks the time
    gap per pair. Most customers contact once in a week, so the pairs are few, and it needs
    no sort of every inbound contact. Otherwise every inbound contact gets ``has_repeat`` from
    a window over the customer's contacts in time order (a sort of all of them: slower).
    """
    window_h = float(params.get("repeat_window_h", 168))
    window_us = int(window_h * 3600 * 1_000_000)
    extra_days = int(window_h // 24) + 1
    any_issue = params.get("repeat_scope", "same_issue") == "any_issue"
    columns = tuple(measure_inputs(reg, "repeats"))
    wanted = repeats_only(reg)
    if wanted is not None:
        contacts = _contacts_in_scope(scope, params, dialect, columns=columns)
        # The later contacts a repeat can be: inbound, with a customer, up to the window's
        # reach past the scope. Only the join keys and the time are carried.
        end = scope.end_exclusive + dt.timedelta(days=extra_days)
        later = (
            f"      SELECT customer_id, issue_type AS issue_type_key, "
            f"{dialect.micros('arrived_at')} AS t_us\n"
            f"      FROM interactions WHERE direction = 'inbound' AND customer_id IS NOT NULL\n"
            f"        AND arrived_at >= {dialect.timestamp(scope.start)}"
            f" AND arrived_at < {dialect.timestamp(end)}"
        )
        # Equal issue types only (a NULL issue type equals none, so it is never a repeat).
        same = "" if any_issue else " AND n.issue_type_key = c.issue_type_key"
        flagged = (
            f"    SELECT c.*, TRUE AS has_repeat\n"
            f"    FROM (SELECT x.*, {dialect.micros('x.arrived_at')} AS t_us FROM (\n{contacts}\n"
            f"    ) x WHERE x.is_inbound AND x.has_customer AND ({wanted})) c\n"
            f"    SEMI JOIN (\n{later}\n    ) n ON n.customer_id = c.customer_id{same}\n"
            f"      AND n.t_us > c.t_us AND n.t_us <= c.t_us + {window_us}"
        )
    else:
        contacts = _contacts_in_scope(scope, params, dialect, extra_days=extra_days,
                                      columns=columns)
        if any_issue:
            needs_issue, partition = "TRUE", "c.customer_id"
        else:
            needs_issue, partition = ("c.issue_type_key IS NOT NULL",
                                      "c.customer_id, c.issue_type_key")
        flagged = (
            f"    SELECT c.*, {needs_issue} AND COUNT(*) OVER (\n"
            f"        PARTITION BY {partition} ORDER BY c.t_us\n"
            f"        RANGE BETWEEN 1 FOLLOWING AND {window_us} FOLLOWING) > 0 AS has_repeat\n"
            f"    FROM (SELECT x.*, {dialect.micros('x.arrived_at')} AS t_us FROM (\n{contacts}\n"
            "    ) x WHERE x.is_inbound AND x.has_customer) c"
        )
    # The calendar join keeps only contacts arriving inside the scope itself.
    return _grouped(_with_bucket(flagged, "CAST(r.arrived_at AS DATE)"), "repeats", reg, scope, dialect)


def _per_contact_table(table: str, alias: str, reg: Registry, scope: Scope, params: dict,
                       dialect: Dialect, source: str) -> str:
    """Surveys and QA rows belong to their interaction's period and dimensions."""
    contacts = _contacts_in_scope(scope, params, dialect)
    dims = "".join(f", c.{dim_key(d, dialect)}" for d in scope.by)
    inner = (
        f"  SELECT {alias}.*{dims}, cal.bucket\n"
        f"  FROM {table} {alias}\n"
        f"  JOIN (\n{contacts}\n  ) c ON {alias}.interaction_id = c.interaction_id\n"
        f"  JOIN {CALENDAR} cal ON CAST(c.arrived_at AS DATE) = cal.day"
    )
    return _grouped(inner, source, reg, scope, dialect)


def surveys_query(reg, scope, params, dialect) -> str:
    return _per_contact_table("surveys", "s", reg, scope, params, dialect, "surveys")


def qa_query(reg, scope, params, dialect) -> str:
    return _per_contact_table("qa", "q", reg, scope, params, dialect, "qa")


def activity_query(reg: Registry, scope: Scope, params: dict, dialect: Dialect) -> str:
    join_team = "LEFT JOIN agents a ON act.agent_id = a.agent_id" if "team" in scope.by else ""
    # act.* already holds agent_id: selecting it twice is an ambiguous column on Spark.
    dims = "".join(f", {dim_expr(d, 'act')}" for d in scope.by if d != "agent_id")
    inner = (
        f"  SELECT act.*{dims}, cal.bucket\n  FROM agent_activity act {join_team}\n"
        f"  JOIN {CALENDAR} cal ON act.date = cal.day"
    )
    return _grouped(inner, "agent_activity", reg, scope, dialect)


def costs_query(reg: Registry, scope: Scope, params: dict, dialect: Dialect) -> str:
    """Each cost row is spread evenly over the days it covers (pro rata by day)."""
    dims = "".join(f", c.{d}" for d in scope.by)
    days = dialect.days("c.period_start", "c.period_end")
    inner = (
        f"  SELECT c.amount / ({days} + 1) AS daily_amount{dims}, cal.bucket\n"
        f"  FROM costs c JOIN {CALENDAR} cal\n"
        f"    ON cal.day >= c.period_start AND cal.day <= c.period_end"
    )
    return _grouped(inner, "costs", reg, scope, dialect)


QUERIES = {
    "interactions": interactions_query,
    "repeats": repeats_query,
    "surveys": surveys_query,
    "qa": qa_query,
    "agent_activity": activity_query,
    "costs": costs_query,
}
