"""The table: measurement, goal, figure, ratio, met."""
from __future__ import annotations


def format_table(rows: list[dict]) -> str:
    header = ("measurement", "goal", "figure", "ratio", "met")
    lines = []
    for r in rows:
        figure = f"{r['figure']:g} {r['unit']}".strip()
        ratio = "" if r.get("ratio") is None else f"{r['ratio']:.2f}"
        met = {True: "yes", False: "NO", None: "-"}[r.get("met")]
        lines.append((r["name"], r["goal"], figure, ratio, met))
    widths = [max(len(str(x[i])) for x in [header, *lines]) for i in range(5)]
    out = ["| " + " | ".join(str(h).ljust(w) for h, w in zip(header, widths)) + " |",
           "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
    out += ["| " + " | ".join(str(c).ljust(w) for c, w in zip(line, widths)) + " |"
            for line in lines]
    return "\n".join(out)
