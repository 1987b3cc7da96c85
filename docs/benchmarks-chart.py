#!/usr/bin/env python3
"""Draws the scaling curves of `benches/run` as one SVG, with the standard library only.

    python3 docs/benchmarks-chart.py [OUT_DIR] [SVG]

OUT_DIR holds scaling.tsv (series, x, ours_ms, ref_ms, rops_ms, true_ms) as written by
benches/run; one panel per series, log-log where the x values span decades, "nan" points
left out. The decrypt panel also draws rops and the cost of starting /bin/true (dashed),
timed in the same runs; older files without those columns draw as before.
"""
import csv
import math
import os
import sys

PANELS = {
    # series: (title, x label, reference label, log x, log y)
    "decrypt-size": ("decrypt vs file size", "plaintext bytes", "sops decrypt", True, True),
    "history-values": ("doctor --history vs known values", "values", "awslabs --scan-history", True, True),
    "history-size": ("doctor --history vs history size", "MiB of objects", "git cat-file --batch-all-objects", False, False),
    "rekey": ("rekey vs files", "files", "sops updatekeys loop", True, True),
}
W, H, PAD_L, PAD_R, PAD_T, PAD_B = 420, 300, 64, 16, 34, 46
OURS, REF, ROPS, TRUE = "#1f77b4", "#d62728", "#2ca02c", "#7f7f7f"
# the optional lines after ours and the reference: column, colour, label, dashed
EXTRA = (("rops_ms", ROPS, "rops decrypt", False), ("true_ms", TRUE, "/bin/true", True))


def fmt(v):
    """Short tick label: 1k, 10M, 0.5, 20."""
    for unit, div in (("M", 1e6), ("k", 1e3)):
        if abs(v) >= div:
            return f"{v / div:g}{unit}"
    return f"{v:g}"


def ticks(lo, hi, log):
    """Decades on a log axis, about five round steps on a linear one."""
    if log:
        return [10.0**e for e in range(math.floor(math.log10(lo)), math.ceil(math.log10(hi)) + 1)]
    step = 10 ** math.floor(math.log10((hi - lo) / 4 or 1))
    for m in (1, 2, 5, 10):
        if (hi - lo) / (step * m) <= 6:
            step *= m
            break
    first = math.floor(lo / step) * step
    return [first + i * step for i in range(int((hi - first) / step) + 2)]


def panel(rows, title, xlabel, reflabel, logx, logy, ox, oy):
    """One chart at (ox, oy); returns its SVG elements."""
    cols = [("ours_ms", OURS, "git-secrets", False), ("ref_ms", REF, reflabel, False)]
    cols += [c for c in EXTRA if any(r.get(c[0], "nan") not in ("nan", "") for r in rows)]
    pts = [(float(r["x"]),) + tuple(r.get(c[0]) or "nan" for c in cols) for r in rows]
    ys = [float(v) for p in pts for v in p[1:] if v != "nan"]
    xs = [p[0] for p in pts]
    xt = ticks(min(xs), max(xs), logx)
    yt = ticks(min(ys) if logy else 0, max(ys), logy)
    x0, x1, y0, y1 = xt[0], xt[-1], yt[0], yt[-1]
    tx = (lambda v: math.log10(v)) if logx else (lambda v: v)
    ty = (lambda v: math.log10(v)) if logy else (lambda v: v)
    pw, ph = W - PAD_L - PAD_R, H - PAD_T - PAD_B

    def px(v):
        return ox + PAD_L + (tx(v) - tx(x0)) / (tx(x1) - tx(x0)) * pw

    def py(v):
        return oy + PAD_T + ph - (ty(v) - ty(y0)) / (ty(y1) - ty(y0)) * ph

    out = [f'<text x="{ox + W / 2}" y="{oy + 18}" text-anchor="middle" font-weight="bold">{title}</text>']
    for v in xt:
        out.append(f'<line x1="{px(v):.1f}" y1="{oy + PAD_T}" x2="{px(v):.1f}" y2="{oy + PAD_T + ph}" stroke="#ddd"/>')
        out.append(f'<text x="{px(v):.1f}" y="{oy + PAD_T + ph + 14}" text-anchor="middle">{fmt(v)}</text>')
    for v in yt:
        out.append(f'<line x1="{ox + PAD_L}" y1="{py(v):.1f}" x2="{ox + PAD_L + pw}" y2="{py(v):.1f}" stroke="#ddd"/>')
        out.append(f'<text x="{ox + PAD_L - 4}" y="{py(v) + 4:.1f}" text-anchor="end">{fmt(v)}</text>')
    out.append(f'<text x="{ox + PAD_L + pw / 2}" y="{oy + H - 8}" text-anchor="middle">{xlabel}</text>')
    out.append(f'<text transform="translate({ox + 14},{oy + PAD_T + ph / 2}) rotate(-90)" text-anchor="middle">ms (median)</text>')
    for idx, (_, color, label, dashed) in enumerate(cols, start=1):
        line = [(px(p[0]), py(float(p[idx]))) for p in pts if p[idx] != "nan"]
        if line:
            d = " ".join(f"{x:.1f},{y:.1f}" for x, y in line)
            dash = ' stroke-dasharray="5,3"' if dashed else ""
            out.append(f'<polyline points="{d}" fill="none" stroke="{color}" stroke-width="2"{dash}/>')
            out += [f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{color}"/>' for x, y in line]
        ly = oy + PAD_T + 12 + (idx - 1) * 14
        out.append(f'<rect x="{ox + PAD_L + 8}" y="{ly - 8}" width="10" height="3" fill="{color}"/>')
        out.append(f'<text x="{ox + PAD_L + 22}" y="{ly - 3}">{label}</text>')
    return out


def main():
    out_dir = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.environ.get("CARGO_TARGET_DIR", "target"), "bench")
    svg = sys.argv[2] if len(sys.argv) > 2 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "benchmarks.svg")
    with open(os.path.join(out_dir, "scaling.tsv")) as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    series = [s for s in PANELS if any(r["series"] == s for r in rows)]
    cols = 2
    nrows = math.ceil(len(series) / cols)
    body = []
    for i, s in enumerate(series):
        sub = sorted((r for r in rows if r["series"] == s), key=lambda r: float(r["x"]))
        body += panel(sub, *PANELS[s], (i % cols) * W, (i // cols) * H)
    with open(svg, "w") as f:
        f.write(f'<svg xmlns="http://www.w3.org/2000/svg" width="{cols * W}" height="{nrows * H}" '
                f'font-family="sans-serif" font-size="11">\n<rect width="100%" height="100%" fill="white"/>\n')
        f.write("\n".join(body) + "\n</svg>\n")
    print(f"wrote {svg} ({len(series)} panels)")


if __name__ == "__main__":
    main()
