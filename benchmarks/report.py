"""The benchmark's report: rounds summed up per row, the three-server table, the plot.

A row is one measurement of one server in one round (``server``, ``metric``, ``value``,
``unit``, ``better``, ``round``). A summary is one metric over every round: each
server's median, and for each peer the ratio minixmpp / peer as the median of the
per-round ratios with their range. A ratio is taken within a round only, where both
servers ran back to back, so noise that hits a whole round cancels out of it.
"""

from __future__ import annotations

import statistics
from pathlib import Path
from typing import Any

SERVERS = ("minixmpp", "prosody", "ejabberd", "capture")
PEERS = SERVERS[1:]
TITLES = {"minixmpp": "minixmpp", "prosody": "Prosody", "ejabberd": "ejabberd",
          "capture": "minixmpp, capture on"}
#: columns shown only when the run measured them (``--peers capture``)
ASKED_FOR = ("capture",)
# The machine's own floor (benchmarks/hop.py) goes in minixmpp's column.
COLUMN = {"machine": "minixmpp"}
SUB = " · "  # "parent · server CPU per login": a sub-row under its parent


def turns(kinds: list[Any], round_no: int) -> list[Any]:
    """The servers' order in round ``round_no`` (from 1): each round starts one later,
    so every server goes first, second and third equally often."""
    if not kinds:
        return []
    shift = (round_no - 1) % len(kinds)
    return kinds[shift:] + kinds[:shift]


def summarize(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One summary per metric, in the order the metrics were first measured."""
    by_metric: dict[str, dict[str, dict[int, dict[str, Any]]]] = {}
    for row in rows:
        column = COLUMN.get(row["server"], row["server"])
        by_metric.setdefault(row["metric"], {}).setdefault(column, {})[
            row.get("round", 1)] = row
    summaries = []
    for metric, by_server in by_metric.items():
        first = next(iter(next(iter(by_server.values())).values()))
        ours = by_server.get("minixmpp", {})
        ratios = {}
        for peer in PEERS:
            theirs = by_server.get(peer, {})
            # no ratio of a value at or below zero (RSS can shrink under a measurement)
            per_round = [ours[r]["value"] / theirs[r]["value"]
                         for r in sorted(ours.keys() & theirs.keys())
                         if ours[r]["value"] > 0 and theirs[r]["value"] > 0]
            if per_round:
                ratios[peer] = {"median": statistics.median(per_round),
                                "min": min(per_round), "max": max(per_round),
                                "rounds": len(per_round)}
        summaries.append({
            "metric": metric, "unit": first["unit"], "better": first["better"],
            "median": {s: statistics.median(r["value"] for r in by_server[s].values())
                       for s in by_server},
            "rounds_by_server": {s: len(by_server[s]) for s in by_server},
            "ratio": ratios})
    return summaries


def number(value: float) -> str:
    """Two decimals below 100, none above (a table of thousands reads better)."""
    return f"{value:,.2f}" if abs(value) < 100 else f"{value:,.0f}"


def ratio_text(ratio: dict[str, Any] | None) -> str:
    if not ratio:
        return "—"
    text = f"{ratio['median']:.2f}×"
    if ratio["rounds"] > 1:
        text += f" ({ratio['min']:.2f}–{ratio['max']:.2f})"
    return text


def table(rows: list[dict[str, Any]]) -> str:
    """Markdown: each server's median, then minixmpp / peer (median of the per-round
    ratios, min–max). A peer that did not run, or lacks the feature, shows "—"."""
    summaries = summarize(rows)
    servers = [s for s in SERVERS
               if s not in ASKED_FOR or any(s in x["median"] for x in summaries)]
    peers = servers[1:]
    head = ["measurement", *(TITLES[s] for s in servers),
            *(f"minixmpp / {TITLES[p]}" for p in peers)]
    lines = ["| " + " | ".join(head) + " |", "|" + " --- |" * len(head)]
    for summary in summaries:
        parent, _, sub = summary["metric"].partition(SUB)
        label = f"↳ {sub}" if sub else parent
        cells = [f"{number(summary['median'][s])} {summary['unit']}"
                 if s in summary["median"] else "—" for s in servers]
        cells += [ratio_text(summary["ratio"].get(p)) for p in peers]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def plot(rows: list[dict[str, Any]], path: Path) -> None:
    """Bars of each server's median: login rates, messages per second, latencies."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib is not installed (pip install -e '.[bench]'): no plot")
        return
    summaries = [s for s in summarize(rows) if SUB not in s["metric"]]
    servers = [s for s in SERVERS if any(s in x["median"] for x in summaries)]
    width = 0.8 / max(1, len(servers))
    fig, axes = plt.subplots(1, 3, figsize=(16, 5.5))
    groups = [("login rate", "logins/s"), ("messages/s", "messages/s"), ("latency", "ms")]
    for ax, (prefix, unit) in zip(axes, groups, strict=True):
        chosen = [s for s in summaries if s["metric"].startswith(prefix)]
        for k, server in enumerate(servers):
            ax.bar([i + k * width for i in range(len(chosen))],
                   [s["median"].get(server, 0) for s in chosen], width, label=TITLES[server])
        ax.set_xticks([i + width * (len(servers) - 1) / 2 for i in range(len(chosen))])
        ax.set_xticklabels([s["metric"].replace(prefix, "").strip(" ,") or prefix
                            for s in chosen], fontsize=7, rotation=25, ha="right")
        ax.set_title(f"{prefix} (median of rounds)")
        ax.set_ylabel(unit)
        if unit == "ms":
            ax.set_yscale("log")  # a memory or disc archive can be orders of magnitude off
        ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    print(f"plot written to {path}")
