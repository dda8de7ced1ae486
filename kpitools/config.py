"""The center configuration: ``kpitools.yaml`` in the data folder, or ``--config FILE`` (SPEC §7).

What differs between centers — time zone, channels, answer thresholds, short abandons, the
repeat rule, survey sample, currency, targets, the definitions preset, accepted data-quality
defects and extra measures / KPIs — lives in one file that every command and notebook reads
(docs/configuration.md lists every key). :func:`read_config` checks the whole file and reports
every problem at once, each naming the file, the key path (``repeat.scope``), the value and
what is allowed. The result is a frozen :class:`CenterConfig`; :meth:`CenterConfig.params` maps
it onto the catalogue's ``parameters`` and :meth:`CenterConfig.build_registry` onto the
registry (preset variants, default targets, extra measures and KPIs).

>>> cfg = read_config("data/demo/kpitools.yaml")          # doctest: +SKIP
>>> cfg.timezone, cfg.params()["repeat_window_h"]          # doctest: +SKIP
('America/New_York', 72.0)
"""

from __future__ import annotations

import difflib
import math
import re
import zoneinfo
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import _gx
from .errors import ConfigError
from .registry import Registry, catalogue_doc, parse_registry
from .registry import registry as default_registry
from .targets import (
    OVERRIDE_DIMENSIONS,
    Targets,
    check_overrides,
    check_threshold,
    scaled_threshold,
)
from .yamlfile import quote, read_yaml

CONFIG_NAME = "kpitools.yaml"
CHANNELS = ("voice", "chat", "email", "social")
REPEAT_SCOPES = ("same_issue", "any_issue")
TOP_KEYS = ("timezone", "channels", "answer_threshold_s", "short_abandon_s", "repeat",
            "min_sample", "currency", "targets", "definitions", "quality", "measures", "kpis")
QUALITY_SEVERITIES = ("warning",)
MAX_REASON = 300
_ZONE_NAME = re.compile(r"^[A-Za-z0-9_+\-]+(/[A-Za-z0-9_+\-]+)*$")


def check_timezone(name, where: str = "time zone") -> str:
    """``name`` when it is a zone of the IANA database (``Europe/London``, ``UTC``), else a
    ConfigError. Only names checked here are ever put into SQL (``SET TimeZone``)."""
    text = name if isinstance(name, str) else ""
    ok = bool(text) and len(text) <= 64 and _ZONE_NAME.match(text) is not None
    if ok:
        try:
            zoneinfo.ZoneInfo(text)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
            ok = False
    if not ok:
        close = difflib.get_close_matches(str(name), sorted(zoneinfo.available_timezones()), 3)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        raise ConfigError(f"{where}: {quote(name)} is not a time zone of the IANA database "
                          f"(e.g. UTC, Europe/London, America/New_York){hint}")
    return text


@dataclass(frozen=True)
class QualityOverride:
    """A data-quality check lowered to ``severity`` (warning) for a known, accepted defect."""

    check: str  # the gate's check id, optionally suite-qualified: interactions.required_columns
    suite: str  # the suite it was found in
    severity: str
    reason: str


@dataclass(frozen=True)
class CenterConfig:
    """A validated center configuration. ``None`` means "not set": the catalogue default."""

    source: Path | None = None
    timezone: str | None = None
    realtime_channels: tuple[str, ...] | None = None
    async_channels: tuple[str, ...] | None = None
    answer_threshold_s: tuple[tuple[str, float], ...] | None = None
    short_abandon_s: float | None = None
    repeat_window_h: float | None = None
    repeat_scope: str | None = None
    min_sample: int | None = None
    currency_code: str | None = None
    currency_symbol: str | None = None
    definitions: str | None = None
    definition_variants: tuple[tuple[str, str], ...] = ()
    target_defaults: tuple[tuple[str, tuple], ...] = ()  # kpi -> (target, warning, critical)
    target_overrides: tuple[Mapping, ...] = ()
    quality: tuple[QualityOverride, ...] = ()
    measures: tuple[tuple[str, Mapping], ...] = ()
    kpis: tuple[Mapping, ...] = ()
    registry: Registry = field(default_factory=lambda: default_registry, compare=False, repr=False)

    @property
    def name(self) -> str:
        """The file name (never a local absolute path: it is printed in reviews)."""
        return self.source.name if self.source else "defaults"

    def params(self) -> dict:
        """Overrides of the catalogue ``parameters`` this configuration sets."""
        out: dict[str, Any] = {}
        if self.timezone is not None:
            out["business_timezone"] = self.timezone
        if self.realtime_channels is not None:
            out["realtime_channels"] = list(self.realtime_channels)
        if self.async_channels is not None:
            out["async_channels"] = list(self.async_channels)
        if self.answer_threshold_s is not None:
            out["answer_threshold_s"] = dict(self.answer_threshold_s)
        if self.short_abandon_s is not None:
            out["short_abandon_s"] = self.short_abandon_s
        if self.repeat_window_h is not None:
            out["repeat_window_h"] = self.repeat_window_h
        if self.repeat_scope is not None:
            out["repeat_scope"] = self.repeat_scope
        if self.min_sample is not None:
            out["min_survey_sample"] = self.min_sample
        if self.currency_code is not None:
            out["currency_code"] = self.currency_code
        if self.currency_symbol is not None:
            out["currency_symbol"] = self.currency_symbol
        return out

    def variants(self, base: Registry | None = None) -> dict[str, str]:
        """KPI id -> default variant chosen by the definitions preset and explicit choices."""
        base = base or default_registry
        chosen = dict(base.presets.get(self.definitions, {})) if self.definitions else {}
        chosen.update(dict(self.definition_variants))
        return chosen

    @property
    def is_default(self) -> bool:
        return self == CenterConfig()

    def build_registry(self, base_doc: dict | None = None) -> Registry:
        """The catalogue with this configuration applied (see module docstring)."""
        if self.is_default and base_doc is None:
            return default_registry
        doc = base_doc if base_doc is not None else catalogue_doc()
        doc.setdefault("parameters", {}).update(self.params())
        variants = self.variants()
        defaults = dict(self.target_defaults)
        doc["measures"] = {**(doc.get("measures") or {}), **{k: dict(v) for k, v in self.measures}}
        doc["kpis"] = list(doc.get("kpis") or []) + [dict(k) for k in self.kpis]
        for raw in doc["kpis"]:
            kid = raw.get("id") if isinstance(raw, dict) else None
            if kid in variants:
                raw["variant"] = variants[kid]
            if kid in defaults:
                target, warning, critical = defaults[kid]
                old_target = raw.get("target")
                old_warning = raw.get("warning", old_target)
                raw["warning"] = warning if warning is not None else scaled_threshold(
                    old_warning, old_target, target)
                if critical is not None or raw.get("critical") is not None:
                    raw["critical"] = critical if critical is not None else scaled_threshold(
                        raw.get("critical"), old_target, target)
                raw["target"] = target
        return parse_registry(doc, f"{self.name}: the KPI catalogue with its measures and kpis")

    def describe(self) -> list[tuple[str, str]]:
        """(setting, value) pairs of what this file sets, for the review's appendix."""
        rows = [("Configuration file", self.name)]
        if self.timezone:
            rows.append(("timezone", self.timezone))
        if self.realtime_channels is not None:
            rows.append(("channels.realtime", ", ".join(self.realtime_channels)))
        if self.async_channels is not None:
            rows.append(("channels.async", ", ".join(self.async_channels)))
        if self.answer_threshold_s is not None:
            rows.append(("answer_threshold_s", ", ".join(f"{c} {s:g} s" for c, s in self.answer_threshold_s)))
        if self.short_abandon_s is not None:
            rows.append(("short_abandon_s", f"{self.short_abandon_s:g} s"))
        if self.repeat_window_h is not None:
            rows.append(("repeat.window_h", f"{self.repeat_window_h:g} h"))
        if self.repeat_scope is not None:
            rows.append(("repeat.scope", self.repeat_scope))
        if self.min_sample is not None:
            rows.append(("min_sample", f"{self.min_sample} responses"))
        if self.currency_code or self.currency_symbol:
            rows.append(("currency", " ".join(x for x in (self.currency_code, self.currency_symbol) if x)))
        if self.definitions or self.definition_variants:
            chosen = ", ".join(f"{k} {v}" for k, v in self.variants().items())
            rows.append(("definitions", f"{self.definitions or 'kpitools'} ({chosen})"))
        for kid, (t, w, c) in self.target_defaults:
            parts = [f"target {t}"] + ([f"warning {w}"] if w is not None else []) + (
                [f"critical {c}"] if c is not None else [])
            rows.append((f"targets.defaults.{kid}", ", ".join(parts)))
        if self.target_overrides:
            rows.append(("targets.overrides", f"{len(self.target_overrides)} override(s)"))
        for q in self.quality:
            rows.append((f"quality: {q.suite}.{q.check}", f"lowered to {q.severity}: {q.reason}"))
        if self.measures:
            rows.append(("measures", ", ".join(k for k, _ in self.measures)))
        if self.kpis:
            rows.append(("kpis", ", ".join(str(k.get("id")) for k in self.kpis)))
        return rows


DEFAULTS = CenterConfig()


# -- reading -----------------------------------------------------------------------------
def find_config(data_path, config=None) -> Path | None:
    """The configuration file in force: ``config`` when given, else ``<data>/kpitools.yaml``
    when it exists, else None (catalogue defaults)."""
    if config is not None:
        p = Path(config)
        if not p.is_file():
            raise ConfigError(f"configuration file {p} does not exist"
                              + (" (it is a folder)" if p.is_dir() else ""))
        return p
    candidate = Path(data_path) / CONFIG_NAME
    return candidate if candidate.is_file() else None


def load_config(data_path, config=None) -> CenterConfig:
    """The configuration for a data folder: ``config`` may be a CenterConfig, a mapping (as
    the file's contents), a file path, or None (``<data>/kpitools.yaml`` or defaults)."""
    if isinstance(config, CenterConfig):
        return config
    if isinstance(config, Mapping):
        return parse_config(dict(config), None)
    path = find_config(data_path, config)
    return read_config(path) if path else DEFAULTS


@dataclass(frozen=True)
class Settings:
    """What a loaded dataset runs with: its configuration, registry, parameters and targets."""

    config: CenterConfig
    registry: Registry
    params: dict
    targets: Targets


def dataset_settings(path, *, config=None, registry: Registry | None = None,
                     timezone: str | None = None, params: dict | None = None,
                     targets=None) -> Settings:
    """Settings for a data folder, shared by both engines' loaders.

    Precedence, lowest first: catalogue defaults, the configuration file, ``params``, then the
    command-line options (``timezone``; ``targets`` overrides apply after the configuration's,
    so a targets file wins for the same KPI and group). ``registry`` replaces the catalogue
    with the configuration applied (for tests and custom catalogues).
    """
    cfg = load_config(path, config)
    reg = registry or cfg.registry
    merged = {**reg.parameters, **(params or {})}
    if timezone is not None:
        merged["business_timezone"] = check_timezone(timezone, "--timezone")
    merged["business_timezone"] = check_timezone(merged.get("business_timezone", "UTC"),
                                                 "business time zone")
    before = [dict(o) for o in cfg.target_overrides]
    targets_path = Path(targets) if targets else Path(path) / "targets.yaml"
    if targets or targets_path.is_file():
        tgt = Targets.load(targets_path, reg, before=before)
    else:
        tgt = Targets(before, reg, cfg.name if before else "")
    return Settings(cfg, reg, merged, tgt)


def read_config(path) -> CenterConfig:
    """Read and check one ``kpitools.yaml``."""
    path = Path(path)
    return parse_config(read_yaml(path, "center configuration"), path)


def _number(value, key: str, problems: list[str], *, minimum: float = 0.0,
            strict: bool = False) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        problems.append(f"{key}: {quote(value)} is not a number; give seconds/hours as a number "
                        f"{'>' if strict else '>='} {minimum:g}")
        return None
    if value < minimum or (strict and value == minimum):
        problems.append(f"{key}: {quote(value)} must be {'>' if strict else '>='} {minimum:g}")
        return None
    return float(value)


def _mapping(value, key: str, allowed: tuple[str, ...], problems: list[str]) -> dict:
    if not isinstance(value, dict):
        problems.append(f"{key}: expected a mapping with {', '.join(allowed)}, got {quote(value)}")
        return {}
    for k in value:
        if k not in allowed:
            problems.append(_unknown(f"{key}.{k}" if key else str(k), k, allowed))
    return value


def _unknown(path: str, key, allowed) -> str:
    close = difflib.get_close_matches(str(key), list(allowed), 1)
    hint = f" (did you mean {close[0]}?)" if close else ""
    return f"{path}: unknown key{hint}; allowed: {', '.join(allowed)}"


def _channels(value, key: str, problems: list[str]) -> tuple[str, ...] | None:
    if not isinstance(value, list) or not all(isinstance(c, str) for c in value):
        problems.append(f"{key}: expected a list of channels from {', '.join(CHANNELS)}, got {quote(value)}")
        return None
    bad = [c for c in value if c not in CHANNELS]
    if bad:
        problems.append(f"{key}: {quote(bad[0])} is not a channel; allowed: {', '.join(CHANNELS)}")
        return None
    if len(set(value)) != len(value):
        problems.append(f"{key}: a channel is listed twice")
    return tuple(value)


def _quality(value, problems: list[str]) -> tuple[QualityOverride, ...]:
    if not isinstance(value, list):
        problems.append(f"quality: expected a list of {{check, severity, reason}}, got {quote(value)}")
        return ()
    try:
        suites = _gx.load_suites()
    except ConfigError as exc:
        problems.append(f"quality: the stored suites cannot be read ({exc})")
        return ()
    where_check: dict[str, list[str]] = {}
    for name, suite in suites.items():
        for exp in suite["expectations"]:
            where_check.setdefault(exp["meta"]["check"], []).append(name)
    qualified = sorted(f"{s}.{c}" for c, ss in where_check.items() for s in ss)
    out = []
    for k, item in enumerate(value):
        key = f"quality[{k}]"
        if not isinstance(item, dict):
            problems.append(f"{key}: expected {{check, severity, reason}}, got {quote(item)}")
            continue
        _mapping(item, key, ("check", "severity", "reason"), problems)
        check, severity, reason = item.get("check"), item.get("severity", "warning"), item.get("reason")
        if severity not in QUALITY_SEVERITIES:
            problems.append(f"{key}.severity: {quote(severity)} is not allowed; a check can only be "
                            "lowered to warning")
        if not isinstance(reason, str) or not reason.strip():
            problems.append(f"{key}.reason: say why this defect is accepted (it is printed in the review)")
        elif len(reason) > MAX_REASON:
            problems.append(f"{key}.reason: keep it under {MAX_REASON} characters")
        if not isinstance(check, str) or not check:
            problems.append(f"{key}.check: name the gate's check id, e.g. handled_inbound_has_agent")
            continue
        suite, _, bare = check.rpartition(".")
        found = [s for s in where_check.get(bare, []) if not suite or s == suite]
        if not found:
            close = difflib.get_close_matches(check, list(where_check) + qualified, 3, 0.6)
            hint = f"; close matches: {', '.join(close)}" if close else ""
            problems.append(f"quality[{k}].check: {quote(check)} is not a check of the data-quality "
                            f"gate{hint} (every check id is in expectations/*.json and in "
                            "`kpitools validate --format json`)")
            continue
        if len(found) > 1:
            problems.append(f"{key}.check: {quote(check)} is a check of several tables; write one of "
                            f"{', '.join(f'{s}.{bare}' for s in found)}")
            continue
        if isinstance(reason, str) and reason.strip() and severity in QUALITY_SEVERITIES:
            out.append(QualityOverride(bare, found[0], severity, " ".join(reason.split())))
    return tuple(out)


def _targets(value, reg: Registry, problems: list[str]):
    """(defaults, overrides) from the ``targets:`` block, checked against each KPI's unit."""
    if not isinstance(value, dict):
        problems.append(f"targets: expected a mapping with defaults and overrides, got {quote(value)}")
        return (), ()
    _mapping(value, "targets", ("defaults", "overrides"), problems)
    defaults = []
    raw_defaults = value.get("defaults") or {}
    if not isinstance(raw_defaults, dict):
        problems.append(f"targets.defaults: expected a mapping of KPI id: target, got {quote(raw_defaults)}")
        raw_defaults = {}
    for kid, spec in raw_defaults.items():
        key = f"targets.defaults.{kid}"
        if kid not in reg:
            problems.append(_unknown(key, kid, list(reg.kpis)).replace("unknown key", "unknown KPI"))
            continue
        kpi = reg[kid]
        if isinstance(spec, dict):
            _mapping(spec, key, ("target", "warning", "critical"), problems)
            if "target" not in spec:
                problems.append(f"{key}: a target is required")
                continue
            values = (spec.get("target"), spec.get("warning"), spec.get("critical"))
        else:
            values = (spec, None, None)
        ok = True
        for name, v in zip(("target", "warning", "critical"), values, strict=True):
            if v is None and name != "target":
                continue
            problem = check_threshold(kpi, v)
            if problem:
                problems.append(f"{key}{'' if name == 'target' and not isinstance(spec, dict) else '.' + name}: "
                                f"{problem}")
                ok = False
        if ok:
            defaults.append((kid, tuple(list(v) if isinstance(v, list) else v for v in values)))
    overrides = value.get("overrides") or []
    problems.extend(f"targets.overrides{p}" for p in check_overrides(overrides, reg))
    if not isinstance(overrides, list):
        overrides = []
    return tuple(defaults), tuple(overrides)


def _definitions(value, reg: Registry, problems: list[str]):
    presets = list(reg.presets)
    if isinstance(value, str):
        value = {"preset": value}
    if not isinstance(value, dict):
        problems.append(f"definitions: expected a preset name ({', '.join(presets)}) or a mapping "
                        f"{{preset, <kpi>: <variant>}}, got {quote(value)}")
        return None, ()
    preset = value.get("preset")
    if preset is not None and preset not in reg.presets:
        problems.append(f"definitions{'.preset' if len(value) > 1 else ''}: {quote(preset)} is not a "
                        f"preset; allowed: {', '.join(presets)}")
        preset = None
    chosen = []
    for kid, variant in value.items():
        if kid == "preset":
            continue
        key = f"definitions.{kid}"
        with_variants = [k.id for k in reg.kpis.values() if k.variants]
        if kid not in reg or not reg[kid].variants:
            problems.append(f"{key}: unknown key; give preset or a KPI with variants: "
                            f"{', '.join(with_variants)}")
        elif variant not in reg[kid].variants:
            problems.append(f"{key}: {quote(variant)} is not a variant of {kid}; allowed: "
                            f"{', '.join(reg[kid].variants)}")
        else:
            chosen.append((kid, variant))
    return preset, tuple(chosen)


def parse_config(doc: dict, source: Path | None) -> CenterConfig:
    """Check a parsed configuration and build a CenterConfig (every problem at once)."""
    where = source.name if source else "configuration"
    problems: list[str] = []
    for k in doc:
        if k not in TOP_KEYS:
            problems.append(_unknown(str(k), k, TOP_KEYS))
    values: dict[str, Any] = {"source": source}
    if "timezone" in doc:
        try:
            values["timezone"] = check_timezone(doc["timezone"], "timezone")
        except ConfigError as exc:
            problems.append(str(exc))
    if "channels" in doc:
        ch = _mapping(doc["channels"], "channels", ("realtime", "async"), problems)
        rt = _channels(ch["realtime"], "channels.realtime", problems) if "realtime" in ch else None
        asy = _channels(ch["async"], "channels.async", problems) if "async" in ch else None
        if rt is not None and asy is not None and set(rt) & set(asy):
            problems.append(f"channels: {', '.join(sorted(set(rt) & set(asy)))} is both real-time and "
                            "async; a channel is one or the other")
        if rt is not None and asy is None:  # every other channel is async
            asy = tuple(c for c in CHANNELS if c not in rt)
        if asy is not None and rt is None:
            rt = tuple(c for c in CHANNELS if c not in asy)
        values["realtime_channels"], values["async_channels"] = rt, asy
    if "answer_threshold_s" in doc:
        raw = doc["answer_threshold_s"]
        if not isinstance(raw, dict):
            problems.append(f"answer_threshold_s: expected a mapping of channel: seconds, e.g. "
                            f"{{voice: 20, chat: 60}}, got {quote(raw)}")
        else:
            pairs = []
            for ch, s in raw.items():
                if ch not in CHANNELS:
                    problems.append(_unknown(f"answer_threshold_s.{ch}", ch, CHANNELS))
                    continue
                n = _number(s, f"answer_threshold_s.{ch}", problems, strict=True)
                if n is not None:
                    pairs.append((ch, n))
            values["answer_threshold_s"] = tuple(
                {**default_registry.parameters["answer_threshold_s"], **dict(pairs)}.items())
    if "short_abandon_s" in doc:
        values["short_abandon_s"] = _number(doc["short_abandon_s"], "short_abandon_s", problems)
    if "repeat" in doc:
        rep = _mapping(doc["repeat"], "repeat", ("window_h", "scope"), problems)
        if "window_h" in rep:
            values["repeat_window_h"] = _number(rep["window_h"], "repeat.window_h", problems, strict=True)
        if "scope" in rep:
            if rep["scope"] in REPEAT_SCOPES:
                values["repeat_scope"] = rep["scope"]
            else:
                problems.append(f"repeat.scope: {quote(rep['scope'])} is not allowed; allowed: "
                                f"{', '.join(REPEAT_SCOPES)}")
    if "min_sample" in doc:
        m = doc["min_sample"]
        if isinstance(m, bool) or not isinstance(m, int) or m < 1:
            problems.append(f"min_sample: {quote(m)} must be a whole number of survey responses >= 1")
        else:
            values["min_sample"] = m
    if "currency" in doc:
        cur = _mapping(doc["currency"], "currency", ("code", "symbol"), problems)
        code, symbol = cur.get("code"), cur.get("symbol")
        if code is not None:
            if isinstance(code, str) and re.fullmatch(r"[A-Z]{3}", code):
                values["currency_code"] = code
            else:
                problems.append(f"currency.code: {quote(code)} is not an ISO 4217 code such as USD, EUR, GBP")
        if symbol is not None:
            if isinstance(symbol, str) and 0 < len(symbol) <= 5 and symbol.isprintable():
                values["currency_symbol"] = symbol
            else:
                problems.append(f"currency.symbol: {quote(symbol)} must be 1 to 5 characters, e.g. $ or €")
    if "measures" in doc:
        raw = doc["measures"]
        if not isinstance(raw, dict):
            problems.append(f"measures: expected a mapping of name: {{source, when, value, description}}, "
                            f"got {quote(raw)}")
        else:
            ms = []
            for name, m in raw.items():
                key = f"measures.{name}"
                if not isinstance(name, str) or not name.isidentifier():
                    problems.append(f"{key}: a measure name must be an identifier (letters, digits, _)")
                elif name in default_registry.measures:
                    problems.append(f"{key}: a built-in measure has this name; choose another")
                elif isinstance(m, dict):
                    _mapping(m, key, ("source", "when", "value", "description"), problems)
                    ms.append((name, m))
                else:
                    problems.append(f"{key}: expected {{source, when, value, description}}, got {quote(m)}")
            values["measures"] = tuple(ms)
    if "kpis" in doc:
        raw = doc["kpis"]
        allowed = ("id", "label", "description", "type", "numerator", "denominator", "scale", "unit",
                   "direction", "target", "warning", "critical", "ci", "ci_squares", "min_sample",
                   "variant", "variants")
        if not isinstance(raw, list):
            problems.append(f"kpis: expected a list of KPIs in the catalogue's form, got {quote(raw)}")
        else:
            ks = []
            for k, item in enumerate(raw):
                key = f"kpis[{k}]"
                if not isinstance(item, dict):
                    problems.append(f"{key}: expected a mapping with id, label, numerator …, got {quote(item)}")
                    continue
                _mapping(item, f"{key} ({item.get('id')})", allowed, problems)
                if item.get("id") in default_registry.kpis:
                    problems.append(f"{key}.id: {quote(item.get('id'))} is a built-in KPI; choose another id")
                    continue
                ks.append(item)
            values["kpis"] = tuple(ks)
    # The rest is checked against the catalogue with this file's measures and KPIs added.
    base = CenterConfig(**{k: v for k, v in values.items() if v is not None})
    reg = default_registry
    if base.measures or base.kpis:
        try:
            reg = base.build_registry()
        except ConfigError as exc:  # the catalogue's own list of problems, one per line
            problems.extend(line.strip()[2:] for line in str(exc).splitlines()[1:])
    if "definitions" in doc:
        values["definitions"], values["definition_variants"] = _definitions(doc["definitions"], reg, problems)
    if "targets" in doc:
        values["target_defaults"], values["target_overrides"] = _targets(doc["targets"], reg, problems)
    if "quality" in doc:
        values["quality"] = _quality(doc["quality"], problems)
    if problems:
        lines = "\n  - ".join(problems)
        raise ConfigError(f"{where}: {len(problems)} problem{'s' if len(problems) > 1 else ''} in the "
                          f"center configuration (docs/configuration.md):\n  - {lines}")
    cfg = CenterConfig(**{k: v for k, v in values.items() if v is not None})
    return CenterConfig(**{**cfg.__dict__, "registry": cfg.build_registry()})


__all__ = ["CONFIG_NAME", "CenterConfig", "DEFAULTS", "OVERRIDE_DIMENSIONS", "QualityOverride",
           "Settings", "check_timezone", "dataset_settings", "find_config", "load_config",
           "parse_config", "read_config"]
