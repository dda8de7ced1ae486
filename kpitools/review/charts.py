"""The house style for review charts (seaborn / matplotlib), and the charts themselves.

* Sized for A4: full-width figures are :data:`TEXT_WIDTH_IN` wide at :data:`DPI`, with text at
  7.5–9 pt, so the printed text is the size it was drawn at.
* Colour-blind safe: Okabe–Ito colours; RAG status is blue / orange / vermillion and always
  carries a marker shape and a word too, never colour alone.
* Targets drawn on every KPI axis (dashed line, or a shaded band for band KPIs); units on axes
  via :mod:`kpitools.formatting`.
* Figures are built with :class:`matplotlib.figure.Figure` (no pyplot state, no backend
  dependence) and embedded as PNG data URIs with alt text, so the HTML loads nothing.
"""

from __future__ import annotations

import base64
import html
import io
import math
import warnings

import matplotlib as mpl
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.colors import LinearSegmentedColormap, TwoSlopeNorm
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator

from ..formatting import as_number as _num
from ..formatting import fmt_value, tick_formatter

OKABE_ITO = {
    "black": "#000000", "orange": "#E69F00", "sky": "#56B4E9", "green": "#009E73",
    "yellow": "#F0E442", "blue": "#0072B2", "vermillion": "#D55E00", "purple": "#CC79A7",
}
GREY = "#8C8C8C"
INK = "#222222"
RAG_COLOURS = {"green": OKABE_ITO["blue"], "amber": OKABE_ITO["orange"],
               "red": OKABE_ITO["vermillion"], None: GREY}
RAG_LABELS = {"green": "On target", "amber": "Off target", "red": "Critical"}
RAG_MARKERS = {"green": "o", "amber": "^", "red": "s", None: "D"}
TEXT_WIDTH_IN = 7.0
DPI = 170
# Heat-map cells with fewer contacts than this are left blank: a rate on a handful of
# contacts is noise, not a pattern.
MIN_CELL_CONTACTS = 20

STYLE = {
    "font.family": "DejaVu Sans",
    "font.size": 8,
    "axes.titlesize": 8.5,
    "axes.titleweight": "bold",
    "axes.labelsize": 7.5,
    "axes.edgecolor": "#555555",
    "axes.linewidth": 0.6,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "axes.grid.axis": "y",
    "grid.color": "#DDDDDD",
    "grid.linewidth": 0.5,
    "xtick.labelsize": 7,
    "ytick.labelsize": 7,
    "xtick.major.width": 0.5,
    "ytick.major.width": 0.5,
    "legend.fontsize": 7,
    "legend.frameon": False,
    "lines.linewidth": 1.4,
    "savefig.dpi": DPI,
    "figure.dpi": 100,
    "svg.fonttype": "none",
}

UNIT_AXIS_LABEL = {"fraction": "%", "seconds": "mm:ss", "count": "contacts",
                   "currency": "cost", "nps": "NPS points", "score": "score"}


# -- plumbing ----------------------------------------------------------------------------
def figure(width: float = TEXT_WIDTH_IN, height: float = 3.0) -> Figure:
    return Figure(figsize=(width, height), layout="constrained")


def to_html(fig: Figure, alt: str, caption: str = "", css: str = "chart") -> str:
    """The figure as an ``<figure>`` with an embedded PNG and alt text."""
    buf = io.BytesIO()
    # zlib level 3: same size as the default 6 on these flat-colour charts, half the time.
    fig.savefig(buf, format="png", dpi=DPI, facecolor="white", pil_kwargs={"compress_level": 3})
    data = base64.b64encode(buf.getvalue()).decode("ascii")
    width_in = fig.get_figwidth()
    cap = f"<figcaption>{html.escape(caption)}</figcaption>" if caption else ""
    return (f'<figure class="{css}" style="max-width:{width_in:.2f}in">'
            f'<img src="data:image/png;base64,{data}" alt="{html.escape(alt, quote=True)}" '
            f'style="width:100%"/>{cap}</figure>')


def axis_formatter(unit: str, span: float | None = None) -> FuncFormatter:
    """Axis ticks in the KPI's unit: :func:`kpitools.formatting.tick_formatter`, the one
    spelling the reviews and the notebooks share."""
    return FuncFormatter(tick_formatter(unit, span))


def unit_label(unit: str, grain: str | None = None) -> str:
    if unit == "currency":
        return "cost per handled contact"
    return UNIT_AXIS_LABEL.get(unit, unit)


def short_label(label: str, grain: str) -> str:
    """Compact x tick labels: W46, Oct 26, Q3 26."""
    if grain == "week":
        return label.split("-")[1]
    if grain == "month":
        y, m = label.split("-")
        return pd.Timestamp(int(y), int(m), 1).strftime("%b %y")
    if grain == "quarter":
        y, q = label.split("-")
        return f"{q} {y[2:]}"
    return label




def _draw_target(ax, target, direction, unit):
    if target is None or direction == "none":
        return
    if isinstance(target, (list, tuple)):
        ax.axhspan(target[0], target[1], color=OKABE_ITO["green"], alpha=0.12, lw=0,
                   label="target band")
        return
    ax.axhline(target, color=OKABE_ITO["green"], ls="--", lw=1.0, label="target")


# -- trends ------------------------------------------------------------------------------
def trend_grid(trend: pd.DataFrame, kpis: list[str], labels: list[str], grain: str,
               registry, current: str, ncols: int = 3, panel_height: float = 1.75,
               titles: dict[str, str] | None = None) -> tuple[Figure, str]:
    """Small multiples of each KPI over the trend window, target drawn, current period
    marked in its RAG colour and shape; partial periods hollow, small samples grey."""
    n = len(kpis)
    nrows = math.ceil(n / ncols)
    alt_parts = []
    with mpl.rc_context(STYLE):
        fig = figure(TEXT_WIDTH_IN, panel_height * nrows + 0.25)
        axes = np.atleast_1d(fig.subplots(nrows, ncols, squeeze=False)).ravel()
        x_of = {lab: k for k, lab in enumerate(labels)}
        for ax, kid in zip(axes, kpis, strict=False):
            kpi = registry[kid]
            sub = trend[trend["kpi"] == kid].copy()
            sub = sub[sub["period"].isin(labels)]
            sub["x"] = sub["period"].map(x_of)
            sub = sub.sort_values("x")
            ok = sub["value"].notna()
            title = (titles or {}).get(kid) or (
                kpi.label + (f" [{sub['variant'].iloc[0]}]" if len(sub) and sub["variant"].iloc[0] else ""))
            ax.set_title(title, loc="left")
            if kpi.unit == "count":
                partial = sub["partial"].astype(bool).tolist()
                ax.bar(sub["x"], sub["value"].fillna(0), width=0.7,
                       color=["white" if p else OKABE_ITO["sky"] for p in partial],
                       edgecolor=[OKABE_ITO["blue"] if p else OKABE_ITO["sky"] for p in partial],
                       hatch=None, linewidth=0.8)
            else:
                if kpi.unit == "fraction" and sub["ci_low"].notna().any():
                    ax.fill_between(sub["x"], sub["ci_low"].astype(float), sub["ci_high"].astype(float),
                                    color=OKABE_ITO["blue"], alpha=0.12, lw=0, label="95 % CI")
                sns.lineplot(x=sub.loc[ok, "x"], y=sub.loc[ok, "value"], ax=ax, color=INK,
                             marker="o", markersize=3.5, legend=False)
                small = sub[ok & sub["small_sample"].astype(bool)]
                if len(small):
                    ax.scatter(small["x"], small["value"], color=GREY, s=14, zorder=3)
                part = sub[ok & sub["partial"].astype(bool)]
                if len(part):
                    ax.scatter(part["x"], part["value"], facecolor="white", edgecolor=INK, s=18, zorder=4)
            target = sub["target"].dropna().iloc[-1] if sub["target"].notna().any() else kpi.target
            _draw_target(ax, target, kpi.direction, kpi.unit)
            cur = sub[sub["period"] == current]
            if len(cur) and cur["value"].notna().all() and kpi.unit != "count":
                status = None if bool(cur["small_sample"].iloc[0]) else cur["status"].iloc[0]
                colour = RAG_COLOURS.get(status, GREY)
                if bool(cur["partial"].iloc[0]):  # a partial period stays hollow, in its colour
                    ax.scatter(cur["x"], cur["value"], s=46, zorder=5, facecolor="white",
                               edgecolor=colour, marker=RAG_MARKERS.get(status, "D"), linewidth=1.2)
                else:
                    ax.scatter(cur["x"], cur["value"], s=46, zorder=5, color=colour,
                               marker=RAG_MARKERS.get(status, "D"), edgecolor="white", linewidth=0.6)
            vals = sub["value"].dropna()
            if len(vals):
                lo, hi = vals.min(), vals.max()
                if target is not None and not isinstance(target, (list, tuple)):
                    lo, hi = min(lo, target), max(hi, target)
                elif isinstance(target, (list, tuple)):
                    lo, hi = min(lo, target[0]), max(hi, target[1])
                pad = (hi - lo) * 0.15 or abs(hi) * 0.1 or 1
                ax.set_ylim(lo - pad if kpi.unit != "count" else 0, hi + pad)
                ax.yaxis.set_major_formatter(axis_formatter(kpi.unit, hi - lo))
                last = cur["value"].iloc[0] if len(cur) else vals.iloc[-1]
                alt_parts.append(f"{kpi.label} {fmt_value(last, kpi.unit)}"
                                 + (f" (target {fmt_value(target, kpi.unit)})" if target is not None else ""))
            ax.yaxis.set_major_locator(MaxNLocator(4))
            ax.set_ylabel(unit_label(kpi.unit), labelpad=2)
            ax.set_xlabel("")
            ax.set_xlim(-0.6, len(labels) - 0.4)
            tick_room = 0.42 if grain == "week" else 0.55  # inches per tick label
            max_ticks = max(2, int(TEXT_WIDTH_IN / ncols / tick_room))
            step = max(1, math.ceil(len(labels) / max_ticks))
            ticks = list(range(len(labels) - 1, -1, -step))[::-1]
            ax.set_xticks(ticks)
            ax.set_xticklabels([short_label(labels[t], grain) for t in ticks])
        for ax in axes[n:]:
            ax.set_visible(False)
    alt = (f"Small-multiple line charts of {n} KPIs over {len(labels)} {grain}s from {labels[0]} "
           f"to {labels[-1]}, each with its target; latest values: " + "; ".join(alt_parts) + ".")
    return fig, alt


def trend_legend_html() -> str:
    """A text legend for the trend charts (the marker meanings), shared by all cadences."""
    return ('<p class="legend">Dashed green line: target (shaded: target band). '
            'Large marker: this period in its status colour and shape — '
            '<span class="rag rag-green">● on target</span> '
            '<span class="rag rag-amber">▲ off target</span> '
            '<span class="rag rag-red">■ critical</span>. '
            'Hollow markers and bars: partial periods; grey markers: survey samples below the minimum; '
            'blue ribbon: 95 % confidence interval.</p>')


# -- heat maps ---------------------------------------------------------------------------
def _diverging(good: str, bad: str) -> LinearSegmentedColormap:
    return LinearSegmentedColormap.from_list("rag", [bad, "#F7F7F7", good])


def heat_panels(heat: pd.DataFrame) -> list[tuple[str, str]]:
    """The heat maps worth drawing: volume always, rates only where some cell has enough contacts."""
    panels = [("contact_volume", "Contacts")]
    for kid, title in (("service_level", "Service level"), ("abandonment_rate", "Abandonment rate")):
        sub = heat[(heat["kpi"] == kid) & heat["value"].notna()]
        if (sub["denominator"] >= MIN_CELL_CONTACTS).any():
            panels.append((kid, title))
    return panels


def heatmaps(heat: pd.DataFrame, registry, targets: dict, weekdays: tuple[str, ...]) -> tuple[Figure, str]:
    """Volume, service level and abandonment by weekday (rows) and hour of day (columns)."""
    panels = heat_panels(heat)
    alt_bits = []
    with mpl.rc_context({**STYLE, "axes.grid": False}):
        fig = figure(TEXT_WIDTH_IN, 2.1 * len(panels) + 0.1)
        axes = np.atleast_1d(fig.subplots(len(panels), 1))
        for ax, (kid, title) in zip(axes, panels, strict=True):
            kpi = registry[kid]
            sub = heat[heat["kpi"] == kid]
            value = sub.pivot(index="weekday", columns="hour", values="value").reindex(
                index=range(1, 8), columns=range(24))
            den = sub.pivot(index="weekday", columns="hour", values="denominator").reindex(
                index=range(1, 8), columns=range(24))
            if kid != "contact_volume":
                value = value.where(den >= MIN_CELL_CONTACTS)
            value.index = list(weekdays)
            target = targets.get(kid)
            if kid == "contact_volume":
                cmap, norm = sns.color_palette("Blues", as_cmap=True), None
                finite = value.stack().dropna()
                fmt = axis_formatter("count", float(finite.max() - finite.min()) if len(finite) else None)
            else:
                good, bad = OKABE_ITO["blue"], OKABE_ITO["vermillion"]
                cmap = _diverging(good, bad) if kpi.direction == "higher" else _diverging(bad, good)
                finite = value.stack().dropna()
                vmin = min(finite.min(), target) if len(finite) else 0
                vmax = max(finite.max(), target) if len(finite) else 1
                if vmin >= target:
                    vmin = target - 1e-6
                if vmax <= target:
                    vmax = target + 1e-6
                norm = TwoSlopeNorm(vcenter=target, vmin=vmin, vmax=vmax)
                fmt = axis_formatter("fraction")
            ax.set_facecolor("#EBEBEB")
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", PendingDeprecationWarning)
                sns.heatmap(value, ax=ax, cmap=cmap, norm=norm, linewidths=0.4, linecolor="white",
                            cbar_kws={"format": fmt, "shrink": 0.9, "pad": 0.01, "aspect": 12})
            cbar = ax.collections[0].colorbar
            if target is not None and kid != "contact_volume":
                cbar.ax.axhline(target, color=INK, lw=1.5)
            cbar.ax.tick_params(labelsize=6.5)
            ax.set_title(title + ("" if kid == "contact_volume" else
                                  f" (blank: fewer than {MIN_CELL_CONTACTS} real-time contacts)"),
                         loc="left")
            ax.set_xlabel("hour of day (arrival, business time)" if kid == panels[-1][0] else "")
            ax.set_ylabel("")
            ax.set_xticks(np.arange(24) + 0.5)
            ax.set_xticklabels([f"{h:02d}" for h in range(24)], rotation=0)
            ax.tick_params(axis="y", rotation=0)
            flat = value.stack().dropna()
            if len(flat):
                (d, h) = flat.idxmax() if kpi.direction != "higher" else flat.idxmin()
                word = "busiest" if kid == "contact_volume" else "worst"
                alt_bits.append(f"{title}: {word} cell {d} {h:02d}:00 at {fmt_value(flat[(d, h)], kpi.unit)}")
    alt = (f"Heat maps by weekday and hour of day of {', '.join(t.lower() for _, t in panels)}. "
           + "; ".join(alt_bits) + ".")
    return fig, alt


# -- bars by group -----------------------------------------------------------------------
def plain(text) -> str:
    """Data text for a chart label: no mathtext ($), underscores as spaces."""
    return str(text).replace("_", " ").replace("$", r"\$")


MAX_BARS = 20


def issue_type_bars(frame: pd.DataFrame, registry) -> tuple[Figure, str]:
    """AHT per issue type against each type's own target, FCR alongside (the MAX_BARS issue
    types with the most handled contacts, so the chart fits a page)."""
    aht = frame[frame["kpi"] == "aht"].dropna(subset=["value"])
    handled = frame[frame["kpi"] == "handled"].set_index("issue_type")["value"]
    if len(aht) > MAX_BARS:
        keep = handled.reindex(aht["issue_type"]).fillna(0).sort_values(ascending=False).index[:MAX_BARS]
        aht = aht[aht["issue_type"].isin(keep)]
    aht = aht.sort_values("value")
    fcr = frame[frame["kpi"] == "fcr"].set_index("issue_type")
    n = len(aht)
    with mpl.rc_context({**STYLE, "axes.grid.axis": "x"}):
        fig = figure(TEXT_WIDTH_IN, 0.26 * n + 0.9)
        ax1, ax2 = fig.subplots(1, 2, sharey=True, width_ratios=[3, 2])
        y = np.arange(n)
        colours = [RAG_COLOURS.get(s if isinstance(s, str) else None, GREY) for s in aht["status"]]
        ax1.barh(y, aht["value"], color=colours, height=0.65)
        for k, t in enumerate(aht["target"]):
            t = _num(t)
            if t is not None:
                ax1.plot([t, t], [k - 0.42, k + 0.42], color=INK, lw=1.6)
        ax1.set_yticks(y)
        ax1.set_yticklabels([plain(i) for i in aht["issue_type"]])
        ax1.xaxis.set_major_formatter(axis_formatter("seconds"))
        ax1.set_xlabel("average handle time (mm:ss); black tick: the issue type's target")
        ax1.set_title("AHT by issue type", loc="left")
        fvals = [fcr["value"].get(i, np.nan) for i in aht["issue_type"]]
        fstat = [fcr["status"].get(i) for i in aht["issue_type"]]
        ax2.barh(y, fvals, color=[RAG_COLOURS.get(s if isinstance(s, str) else None, GREY) for s in fstat],
                 height=0.65)
        ftarget = registry["fcr"].target
        ax2.axvline(ftarget, color=OKABE_ITO["green"], ls="--", lw=1.0)
        ax2.xaxis.set_major_formatter(axis_formatter("fraction"))
        ax2.set_xlim(0, 1)
        ax2.set_xlabel("first contact resolution (%); dashed: target")
        ax2.set_title("FCR by issue type", loc="left")
    above = aht[aht["status"].isin(["amber", "red"])]["issue_type"].tolist()
    alt = (f"Horizontal bar charts of AHT and FCR for {n} issue types with each type's AHT target. "
           + (f"Above their AHT target: {', '.join(above)}." if above else "All issue types within their AHT target."))
    return fig, alt


def distribution(frame: pd.DataFrame, registry, kpis=("occupancy", "utilization")) -> tuple[Figure, str]:
    """Per-agent distribution of occupancy and utilization with the target band shaded."""
    alt_bits = []
    with mpl.rc_context(STYLE):
        fig = figure(TEXT_WIDTH_IN, 2.3)
        axes = fig.subplots(1, len(kpis))
        for ax, kid in zip(np.atleast_1d(axes), kpis, strict=True):
            kpi = registry[kid]
            vals = frame[(frame["kpi"] == kid)]["value"].dropna()
            _draw_target(ax, kpi.target, kpi.direction, kpi.unit)
            if len(vals):
                sns.histplot(vals, ax=ax, binwidth=0.025, binrange=(0, 1.0), color=OKABE_ITO["blue"],
                             edgecolor="white", linewidth=0.5)
                inside = ((vals >= kpi.target[0]) & (vals <= kpi.target[1])).sum()
                alt_bits.append(f"{kpi.label}: {inside} of {len(vals)} agents inside the "
                                f"{fmt_value(kpi.target, kpi.unit)} band")
                lo = max(0.0, min(vals.min(), kpi.target[0]) - 0.05)
                hi = min(1.0, max(vals.max(), kpi.target[1]) + 0.05)
                ax.set_xlim(lo, hi)
            ax.grid(False, axis="x")
            ax.xaxis.set_major_formatter(axis_formatter("fraction"))
            ax.set_xlabel(f"{kpi.label.lower()} per agent (%); shaded: target band")
            ax.set_ylabel("agents")
            ax.set_title(f"{kpi.label} distribution", loc="left")
            ax.yaxis.set_major_locator(MaxNLocator(integer=True, nbins=4))
    alt = "Histograms of per-agent occupancy and utilization. " + "; ".join(alt_bits) + "."
    return fig, alt


def staffing_chart(profile: pd.DataFrame, channel: str, within: float, target: float,
                   measured: bool = False) -> tuple[Figure, str]:
    """Required (Erlang C) vs staffed agents by time of day, weekday average, plus the gap map.
    ``measured``: staffed agents come from the staffing table; otherwise they are estimates
    (see :mod:`kpitools.review.staffing_view`) and say so."""
    staffed = "staffed (staffing table)" if measured else "estimated staffed (workload ÷ occupancy)"
    weekdays = profile[profile["weekday"].isin(["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"])]
    by_time = weekdays.groupby("time_of_day", observed=True)[["required_agents", "staffed_agents"]].mean()
    with mpl.rc_context(STYLE):
        fig = figure(TEXT_WIDTH_IN, 5.2)
        ax1, ax2 = fig.subplots(2, 1, height_ratios=[1.1, 1])
        x = np.arange(len(by_time))
        ax1.plot(x, by_time["required_agents"], color=OKABE_ITO["vermillion"], ls="--", marker="s",
                 markersize=2.5, label=f"required (Erlang C, {100 * target:.0f} % in {within:.0f} s)")
        ax1.plot(x, by_time["staffed_agents"], color=OKABE_ITO["blue"], marker="o", markersize=2.5,
                 label=staffed)
        ax1.fill_between(x, by_time["required_agents"], by_time["staffed_agents"],
                         where=by_time["staffed_agents"] < by_time["required_agents"],
                         color=OKABE_ITO["vermillion"], alpha=0.2, lw=0, label="short of requirement")
        step = max(1, len(x) // 12)
        ax1.set_xticks(x[::step])
        ax1.set_xticklabels(by_time.index[::step])
        ax1.set_ylabel("agents")
        ax1.set_xlabel(f"time of day (Monday–Friday average, {channel})")
        ax1.legend(loc="upper center", bbox_to_anchor=(0.5, -0.28), ncols=3, fontsize=6.5)
        ax1.set_title("Required vs " + ("staffed" if measured else "estimated staffed")
                      + " agents by interval", loc="left")
        gap = profile.pivot(index="weekday", columns="time_of_day", values="staffing_gap")
        gap.index = [str(d)[:3] for d in gap.index]
        lim = float(np.nanmax(np.abs(gap.to_numpy()))) if gap.notna().any().any() else 1.0
        with mpl.rc_context({"axes.grid": False}), warnings.catch_warnings():
            # seaborn 0.13 calls Colormap.set_bad, which matplotlib 3.11 marks for deprecation
            warnings.simplefilter("ignore", PendingDeprecationWarning)
            sns.heatmap(gap, ax=ax2, cmap=_diverging(OKABE_ITO["blue"], OKABE_ITO["vermillion"]),
                        center=0, vmin=-lim, vmax=lim, linewidths=0.3, linecolor="white",
                        cbar_kws={"label": ("staffed" if measured else "estimated") + " − required agents",
                                  "pad": 0.01, "aspect": 12})
        ticks = np.arange(0, gap.shape[1], max(1, gap.shape[1] // 12))
        ax2.set_xticks(ticks + 0.5)
        ax2.set_xticklabels([gap.columns[t] for t in ticks], rotation=0)
        ax2.tick_params(axis="y", rotation=0)
        ax2.set_xlabel("time of day")
        ax2.set_ylabel("")
        ax2.set_title("Staffing gap by weekday and interval (vermillion: short)", loc="left")
    short = int((by_time["staffed_agents"] < by_time["required_agents"]).sum())
    alt = (f"Line chart of Erlang C required agents and {staffed} agents by time of day on "
           f"{channel}, weekday average: below required in {short} of {len(by_time)} intervals; "
           "and a heat map of the staffing gap by weekday and interval.")
    return fig, alt
