#!/usr/bin/env python3
"""Turns bench/run.sh's results.tsv into results.md (medians, ratios, each target met or not) and
results.svg (every job's median relative to nbdkit's). Standard library only."""

import statistics
import sys
from collections import defaultdict
from html import escape

USER_JOBS_4K_MULTIPLE = 1.25
USER_JOBS_LARGE_MULTIPLE = 1.0
KERNEL_MULTIPLE = 1.1
STATS_COST_LIMIT = 0.02
ALLOC_LIMIT = 1024  # bytes per 100k requests
RSS_LIMIT = 64  # MiB
READY_LIMIT = 200  # ms
# The contenders each comparing part runs, dmp first.
CONTENDERS = {"user": ["dmp", "nbdkit", "qemu-nbd"], "kernel": ["dmp", "nbdkit", "brd"]}


def load(path):
    meta, values, units = {}, defaultdict(list), {}
    with open(path) as lines:
        for line in lines:
            fields = line.rstrip("\n").split("\t")
            if len(fields) == 2:
                meta[fields[0]] = fields[1]
            else:
                part, job, contender, _round, value, unit = fields
                if float(value) <= 0 and unit != "bytes":
                    sys.exit(f"report.py: {part} {job} {contender} measured nothing ({value} {unit})")
                values[part, job, contender].append(float(value))
                units[part, job] = unit
    medians = {key: statistics.median(found) for key, found in values.items()}
    return meta, medians, units


def jobs_of(medians, part):
    return list(dict.fromkeys(job for (p, job, _) in medians if p == part))


def mark(met):
    return "met" if met else "**missed**"


def number(value):
    return f"{value:,.0f}"


class Report:
    def __init__(self, meta, medians, units):
        self.meta, self.medians, self.units = meta, medians, units
        self.lines, self.targets = [], []

    def target(self, what, met):
        self.targets.append((what, met))
        return mark(met)

    def comparison(self, part, title, rule):
        """A table of one part's jobs: each contender's median, dmp's ratio to the others, the target."""
        contenders = CONTENDERS[part]
        self.lines += ["", f"## {title}", ""]
        others = contenders[1:]
        header = ["job", "unit"] + contenders + [f"dmp / {o}" for o in others] + ["target"]
        self.lines += ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        for job in jobs_of(self.medians, part):
            got = [self.medians.get((part, job, c)) for c in contenders]
            if None in got:
                continue
            ratios = [got[0] / value for value in got[1:]]
            target = rule(job, dict(zip(others, ratios)))
            cells = [job, self.units[part, job]] + [number(v) for v in got] + [f"{r:.2f}" for r in ratios]
            cells.append(target or "")
            self.lines.append("| " + " | ".join(cells) + " |")

    def user_rule(self, job, ratios):
        multiple = USER_JOBS_4K_MULTIPLE if "-4k-" in job else USER_JOBS_LARGE_MULTIPLE
        met = ratios["nbdkit"] >= multiple and ratios["qemu-nbd"] >= 1.0
        return f"≥ {multiple:g}× nbdkit, ≥ qemu-nbd: " + self.target(f"userspace {job}", met)

    def kernel_rule(self, job, ratios):
        if job not in ("randread-4k-qd32", "randwrite-4k-qd32"):
            return None
        return f"≥ {KERNEL_MULTIPLE:g}× nbdkit: " + self.target(f"kernel {job}", ratios["nbdkit"] >= KERNEL_MULTIPLE)

    def counting_cost(self):
        self.lines += ["", "## The cost of counting (dmp serve, statistics on and off)", "",
                       "| job | on | off | cost | target |", "|---|---|---|---|---|"]
        for job in jobs_of(self.medians, "stats"):
            on, off = self.medians["stats", job, "dmp"], self.medians["stats", job, "dmp-nostats"]
            cost = 1 - on / off
            verdict = self.target(f"counting cost {job}", cost <= STATS_COST_LIMIT)
            self.lines.append(f"| {job} | {number(on)} | {number(off)} | {cost:+.1%} | ≤ {STATS_COST_LIMIT:.0%}: {verdict} |")

    def memory(self):
        rows = [
            ("memory", "alloc-per-100k", "managed bytes allocated per 100k requests", f"< {ALLOC_LIMIT}", lambda v: v < ALLOC_LIMIT),
            ("memory", "peak-rss-inline", "peak RSS at depth 128, memory-speed backing (served inline)", f"≤ {RSS_LIMIT}", lambda v: v <= RSS_LIMIT),
            ("memory", "peak-rss-threadpool", "peak RSS at depth 128, file backing (thread pool)", f"≤ {RSS_LIMIT}", lambda v: v <= RSS_LIMIT),
            ("memory", "binary", "size of ./dmp", "", None),
            ("memory", "serve-ready", "`dmp serve` to ready, host (median of 5)", f"≤ {READY_LIMIT}", lambda v: v <= READY_LIMIT),
            ("kernel", "load-ready", "`dmp load` to ready, emulated guest", "", None),
        ]
        self.lines += ["", "## Memory and start-up", "", "| measure | value | target |", "|---|---|---|"]
        for part, job, what, limit, check in rows:
            value = self.medians.get((part, job, "dmp"))
            if value is None:
                continue
            unit = self.units[part, job]
            verdict = f"{limit} {unit}: " + self.target(what, check(value)) if check else ""
            self.lines.append(f"| {what} | {number(value)} {unit} | {verdict} |")

    def render(self):
        meta = self.meta
        head = [
            "# dmp benchmark results",
            "",
            f"Taken {meta.get('date', '?')} by `make bench` on {meta.get('machine', '?')}; "
            f"{meta.get('kernel', '?')}; {meta.get('versions', '?')}. Medians of {meta.get('runs', '?')}, "
            "the contenders interleaved (A B C A B C ...) so that drift on a shared machine hits all alike.",
            "",
            f"**Targets: {sum(met for _, met in self.targets)} of {len(self.targets)} met.**",
        ]
        missed = [what for what, met in self.targets if not met]
        if missed:
            head += ["", "Missed: " + "; ".join(missed) + "."]
        return "\n".join(head + self.lines) + "\n"


def chart(meta, medians, path):
    """Horizontal bars: every job's median relative to nbdkit's (= 1), userspace and kernel paths."""
    groups = []
    for part, title in (
        ("user", "Userspace path: fio --ioengine=nbd over a Unix socket"),
        ("kernel", "Kernel path: fio libaio on dm-linear, emulated guest"),
    ):
        contenders = CONTENDERS[part]
        rows = []
        for job in jobs_of(medians, part):
            base = medians.get((part, job, "nbdkit"))
            if base and all((part, job, c) in medians for c in contenders):
                rows.append((job, [(c, medians[part, job, c] / base) for c in contenders]))
        if rows:
            groups.append((title, rows))
    colours = {"dmp": "#2b6cb0", "nbdkit": "#a0aec0", "qemu-nbd": "#dd6b20", "brd": "#38a169"}
    cap = 4.0  # brd, a RAM disk with no userspace, is off this scale: its bar is cut and labelled
    bar, gap, label_width, plot_width = 11, 10, 170, 520
    height = 60 + sum(28 + len(rows) * (3 * bar + gap) for _, rows in groups)
    svg = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{label_width + plot_width + 80}" height="{height}" '
           'font-family="sans-serif" font-size="11">',
           '<rect width="100%" height="100%" fill="white"/>',
           f'<text x="10" y="20" font-size="14" font-weight="bold">dmp vs nbdkit, qemu-nbd and brd: median relative to nbdkit (= 1)</text>',
           f'<text x="{label_width + plot_width + 70}" y="20" text-anchor="end" fill="#4a5568">make bench, {escape(meta.get("date", "?"))}</text>']
    legend_x = 10
    for name, colour in colours.items():
        svg.append(f'<rect x="{legend_x}" y="30" width="10" height="10" fill="{colour}"/>'
                   f'<text x="{legend_x + 14}" y="39">{escape(name)}</text>')
        legend_x += 90
    y = 60
    scale = plot_width / cap
    for title, rows in groups:
        svg.append(f'<text x="10" y="{y + 12}" font-weight="bold">{escape(title)}</text>')
        y += 22
        top = y
        for job, values in rows:
            svg.append(f'<text x="{label_width - 6}" y="{y + 1.5 * bar + 4}" text-anchor="end">{escape(job)}</text>')
            for name, ratio in values:
                width = min(ratio, cap) * scale
                svg.append(f'<rect x="{label_width}" y="{y}" width="{width:.1f}" height="{bar - 1}" fill="{colours[name]}"/>')
                svg.append(f'<text x="{label_width + width + 3:.1f}" y="{y + bar - 2}" font-size="9">{ratio:.2f}</text>')
                y += bar
            y += gap
        one = label_width + scale
        svg.append(f'<line x1="{one}" y1="{top - 4}" x2="{one}" y2="{y - gap + 2}" stroke="#4a5568" stroke-dasharray="3,3"/>')
        y += 6
    svg.append("</svg>")
    with open(path, "w") as out:
        out.write("\n".join(svg) + "\n")


def main(tsv, markdown, svg):
    meta, medians, units = load(tsv)
    report = Report(meta, medians, units)
    report.comparison("user", "Userspace path (fio --ioengine=nbd over a Unix socket; -x2: two jobs, one connection each)",
                      report.user_rule)
    report.comparison("kernel", "Kernel path (emulated guest; fio libaio O_DIRECT on dm-linear over each; only ratios mean anything)",
                      report.kernel_rule)
    report.counting_cost()
    report.memory()
    with open(markdown, "w") as out:
        out.write(report.render())
    chart(meta, medians, svg)


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit("usage: report.py RESULTS.tsv RESULTS.md RESULTS.svg")
    main(*sys.argv[1:])
