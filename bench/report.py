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
FILE_4K_MULTIPLE = 1.25  # dmp (writeback) over nbdkit's default, 4k jobs
FILE_LARGE_MULTIPLE = 1.0  # the same, 1M jobs
FILE_DIRECT_MULTIPLE = 1.25  # dmp --cache none over qemu-nbd --cache=none --aio=io_uring, every job
FILE_DIRECT_SHARE = 0.75  # dmp --cache none's share of fio's own O_DIRECT figure, 4k depth 32
DEVICE_MULTIPLE = 1.5  # dmp over nbdkit + nbd-client on a block device, 4k depth 32
STATS_COST_LIMIT = 0.02
TRACE_COST_LIMIT = 0.10  # a trace reader at full speed; a fault rule that never fires has no target
ALLOC_LIMIT = 1024  # bytes per 100k requests
RSS_LIMIT = 64  # MiB
READY_LIMIT = 200  # ms
# The contenders each comparing part runs, dmp first, and the ratios its table shows.
FILE_CONTENDERS = ["dmp", "dmp-none", "nbdkit", "nbdkit-none", "qemu-nbd", "qemu-nbd-none", "fio", "fio-direct"]
FILE_RATIOS = [("dmp", "nbdkit"), ("dmp-none", "qemu-nbd-none"), ("dmp-none", "fio-direct")]
DEVICE_CONTENDERS = ["dmp", "nbdkit", "dm-linear", "device"]
DEVICE_RATIOS = [("dmp", "nbdkit"), ("dmp", "dm-linear"), ("dmp", "device")]
CONTENDERS = {
    "user": ["dmp", "nbdkit", "qemu-nbd"],
    "kernel": ["dmp", "nbdkit", "brd"],
    "file-disk": FILE_CONTENDERS,
    "file-tmpfs": FILE_CONTENDERS,
    "kernel-brd": DEVICE_CONTENDERS,
    "kernel-loop": DEVICE_CONTENDERS,
    "tls": ["dmp", "nbdkit"],
}
RATIOS = {
    "user": [("dmp", "nbdkit"), ("dmp", "qemu-nbd")],
    "kernel": [("dmp", "nbdkit"), ("dmp", "brd")],
    "file-disk": FILE_RATIOS,
    "file-tmpfs": FILE_RATIOS,
    "kernel-brd": DEVICE_RATIOS,
    "kernel-loop": DEVICE_RATIOS,
    "tls": [("dmp", "nbdkit")],
}
# What the chart shows of each part: the contenders the targets name, and the ceilings.
CHART = [
    ("user", "Userspace path, memory store: fio --ioengine=nbd over a Unix socket", ["dmp", "nbdkit", "qemu-nbd"]),
    ("file-disk", "Userspace path, a file on the machine's disk", ["dmp", "dmp-none", "nbdkit", "qemu-nbd-none", "fio-direct"]),
    ("file-tmpfs", "Userspace path, a file on tmpfs", ["dmp", "dmp-none", "nbdkit", "qemu-nbd-none", "fio-direct"]),
    ("kernel", "Kernel path, memory-speed backings: fio libaio on dm-linear, emulated guest", ["dmp", "nbdkit", "brd"]),
    ("kernel-brd", "Kernel path over a RAM disk (brd), emulated guest", DEVICE_CONTENDERS),
    ("kernel-loop", "Kernel path over a loop device, emulated guest", DEVICE_CONTENDERS),
]
COLOURS = {"dmp": "#2b6cb0", "dmp-none": "#90cdf4", "nbdkit": "#a0aec0", "qemu-nbd": "#dd6b20",
           "qemu-nbd-none": "#fbd38d", "fio-direct": "#38a169", "brd": "#38a169", "dm-linear": "#805ad5",
           "device": "#38a169"}
LEGEND = {"dmp": "dmp", "dmp-none": "dmp --cache none", "nbdkit": "nbdkit", "qemu-nbd": "qemu-nbd",
          "qemu-nbd-none": "qemu-nbd --cache=none", "dm-linear": "dm-linear",
          "brd": "ceiling: brd, fio O_DIRECT on the file, the device"}


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

    def comparison(self, part, title, rule, note=None):
        """A table of one part's jobs: each contender's median, the ratios of RATIOS[part], the target."""
        contenders, pairs = CONTENDERS[part], RATIOS[part]
        jobs = [job for job in jobs_of(self.medians, part)
                if all((part, job, c) in self.medians for c in contenders)]
        if not jobs:
            return
        self.lines += ["", f"## {title}", ""]
        if note:
            self.lines += [note, ""]
        header = ["job", "unit"] + contenders + [f"{a} / {b}" for a, b in pairs] + ["target"]
        self.lines += ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        for job in jobs:
            got = {c: self.medians[part, job, c] for c in contenders}
            ratios = {(a, b): got[a] / got[b] for a, b in pairs}
            target = rule(job, ratios)
            cells = [job, self.units[part, job]] + [number(got[c]) for c in contenders]
            cells += [f"{r:.2f}" for r in ratios.values()] + [target or ""]
            self.lines.append("| " + " | ".join(cells) + " |")

    def user_rule(self, job, ratios):
        multiple = USER_JOBS_4K_MULTIPLE if "-4k-" in job else USER_JOBS_LARGE_MULTIPLE
        met = ratios["dmp", "nbdkit"] >= multiple and ratios["dmp", "qemu-nbd"] >= 1.0
        return f"≥ {multiple:g}× nbdkit, ≥ qemu-nbd: " + self.target(f"userspace {job}", met)

    def kernel_rule(self, job, ratios):
        if job not in ("randread-4k-qd32", "randwrite-4k-qd32"):
            return None
        return f"≥ {KERNEL_MULTIPLE:g}× nbdkit: " + self.target(f"kernel {job}", ratios["dmp", "nbdkit"] >= KERNEL_MULTIPLE)

    def file_rule(self, part):
        def rule(job, ratios):
            multiple = FILE_4K_MULTIPLE if "-4k-" in job else FILE_LARGE_MULTIPLE
            verdicts = [
                f"dmp ≥ {multiple:g}× nbdkit: "
                + self.target(f"{part} {job} dmp / nbdkit", ratios["dmp", "nbdkit"] >= multiple),
                f"dmp-none ≥ {FILE_DIRECT_MULTIPLE:g}× qemu-nbd-none: "
                + self.target(f"{part} {job} dmp-none / qemu-nbd-none",
                              ratios["dmp-none", "qemu-nbd-none"] >= FILE_DIRECT_MULTIPLE),
            ]
            if job in ("randread-4k-qd32", "randwrite-4k-qd32"):
                verdicts.append(f"dmp-none ≥ {FILE_DIRECT_SHARE:g}× fio-direct: "
                                + self.target(f"{part} {job} dmp-none / fio-direct",
                                              ratios["dmp-none", "fio-direct"] >= FILE_DIRECT_SHARE))
            return "; ".join(verdicts)
        return rule

    def device_rule(self, part):
        def rule(job, ratios):
            if job not in ("randread-4k-qd32", "randwrite-4k-qd32"):
                return None
            return f"≥ {DEVICE_MULTIPLE:g}× nbdkit: " + self.target(f"{part} {job}", ratios["dmp", "nbdkit"] >= DEVICE_MULTIPLE)
        return rule

    def counting_cost(self):
        if not jobs_of(self.medians, "stats"):
            return
        self.lines += ["", "## The cost of counting (dmp serve, statistics on and off)", "",
                       "| job | on | off | cost | target |", "|---|---|---|---|---|"]
        for job in jobs_of(self.medians, "stats"):
            on, off = self.medians["stats", job, "dmp"], self.medians["stats", job, "dmp-nostats"]
            cost = 1 - on / off
            verdict = self.target(f"counting cost {job}", cost <= STATS_COST_LIMIT)
            self.lines.append(f"| {job} | {number(on)} | {number(off)} | {cost:+.1%} | ≤ {STATS_COST_LIMIT:.0%}: {verdict} |")

    def layers_cost(self):
        contenders = ["dmp", "dmp-trace", "dmp-fault"]
        jobs = [job for job in jobs_of(self.medians, "layers")
                if all(("layers", job, c) in self.medians for c in contenders)]
        if not jobs:
            return
        self.lines += ["", "## The cost of the trace and of fault rules (dmp serve memory, with its stat tree)", "",
                       "none: no layer on; trace: `dmp trace` reads every line through the job (lines read: "
                       "the share it got, the rest it was told it lost); fault: the device has one rule that every "
                       "request meets and none fires (`probability=0`).", "",
                       "| job | none | trace | cost | target | lines read | fault | cost |", "|---|---|---|---|---|---|---|---|"]
        for job in jobs:
            none, traced, faulty = (self.medians["layers", job, c] for c in contenders)
            trace_cost, fault_cost = 1 - traced / none, 1 - faulty / none
            verdict = self.target(f"trace reader cost {job}", trace_cost <= TRACE_COST_LIMIT)
            share = self.medians.get(("layers", job, "reader-share"))
            read = f"{share:.1%}" if share is not None else "?"
            self.lines.append(f"| {job} | {number(none)} | {number(traced)} | {trace_cost:+.1%} | "
                              f"≤ {TRACE_COST_LIMIT:.0%}: {verdict} | {read} | {number(faulty)} | {fault_cost:+.1%} |")

    def memory(self):
        rows = [
            ("memory", "alloc-per-100k", "managed bytes allocated per 100k requests", f"< {ALLOC_LIMIT}", lambda v: v < ALLOC_LIMIT),
            ("memory", "peak-rss-inline", "peak RSS at depth 128, memory-speed backing (served inline)", f"≤ {RSS_LIMIT}", lambda v: v <= RSS_LIMIT),
            ("memory", "peak-rss-file", "peak RSS at depth 128, file backing on disk (io_uring, default cache)", f"≤ {RSS_LIMIT}", lambda v: v <= RSS_LIMIT),
            ("memory", "binary", "size of ./dmp", "", None),
            ("memory", "serve-ready", "`dmp serve` to ready, host (median of 5)", f"≤ {READY_LIMIT}", lambda v: v <= READY_LIMIT),
            ("kernel", "load-ready", "`dmp load` to ready, emulated guest", "", None),
        ]
        if not any((part, job, "dmp") in self.medians for part, job, *_ in rows):
            return
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
    """Horizontal bars: every job's median relative to nbdkit's default (= 1), part by part."""
    groups = []
    for part, title, contenders in CHART:
        rows = []
        for job in jobs_of(medians, part):
            base = medians.get((part, job, "nbdkit"))
            if base and all((part, job, c) in medians for c in contenders):
                rows.append((job, [(c, medians[part, job, c] / base) for c in contenders]))
        if rows:
            groups.append((title, rows))
    cap = 4.0  # the ceilings, with no server at all, are off this scale: their bars are cut and labelled
    bar, gap, label_width, plot_width = 9, 8, 170, 520
    width = label_width + plot_width + 80
    # The legend: the colours the chart uses, in rows that fit the width.
    used = {name for _, rows in groups for _, values in rows for name, _ in values}
    legend, x, y = [], 10, 30
    for name, label in LEGEND.items():
        if name not in used and not (name == "brd" and used & {"fio-direct", "device"}):
            continue
        step = 24 + 6 * len(label)
        if x + step > width:
            x, y = 10, y + 16
        legend.append(f'<rect x="{x}" y="{y}" width="10" height="10" fill="{COLOURS[name]}"/>'
                      f'<text x="{x + 14}" y="{y + 9}">{escape(label)}</text>')
        x += step
    top = y + 30
    height = top + sum(28 + sum(len(values) * bar + gap for _, values in rows) for _, rows in groups)
    svg = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           'font-family="sans-serif" font-size="11">',
           '<rect width="100%" height="100%" fill="white"/>',
           '<text x="10" y="20" font-size="14" font-weight="bold">dmp and the others: median relative to nbdkit\'s default (= 1)</text>',
           f'<text x="{width - 10}" y="20" text-anchor="end" fill="#4a5568">make bench, {escape(meta.get("date", "?"))}</text>']
    svg += legend
    y = top
    scale = plot_width / cap
    for title, rows in groups:
        svg.append(f'<text x="10" y="{y + 12}" font-weight="bold">{escape(title)}</text>')
        y += 22
        first = y
        for job, values in rows:
            svg.append(f'<text x="{label_width - 6}" y="{y + len(values) * bar / 2 + 4}" text-anchor="end">{escape(job)}</text>')
            for name, ratio in values:
                length = min(ratio, cap) * scale
                svg.append(f'<rect x="{label_width}" y="{y}" width="{length:.1f}" height="{bar - 1}" fill="{COLOURS[name]}"/>')
                svg.append(f'<text x="{label_width + length + 3:.1f}" y="{y + bar - 1}" font-size="8">{ratio:.2f}</text>')
                y += bar
            y += gap
        one = label_width + scale
        svg.append(f'<line x1="{one}" y1="{first - 4}" x2="{one}" y2="{y - gap + 2}" stroke="#4a5568" stroke-dasharray="3,3"/>')
        y += 6
    svg.append("</svg>")
    with open(path, "w") as out:
        out.write("\n".join(svg) + "\n")


def main(tsv, markdown, svg):
    meta, medians, units = load(tsv)
    report = Report(meta, medians, units)
    report.comparison("user", "Userspace path (fio --ioengine=nbd over a Unix socket; -x2: two jobs, one connection each)",
                      report.user_rule)
    for part, where in (("file-disk", f"a file on the machine's disk ({meta.get('disk', '/var/tmp')})"),
                        ("file-tmpfs", "a file on tmpfs (/dev/shm)")):
        report.comparison(
            part, f"Userspace path on {where} (fio --ioengine=nbd over a Unix socket; fio: libaio on the file itself)",
            report.file_rule(part),
            "dmp: `--cache writeback` (its default); nbdkit: the file plugin's default; qemu-nbd: `--cache=writeback`; "
            "*-none: dmp `--cache none` (O_DIRECT), nbdkit `cache=none` (the page cache, pages dropped after use), "
            "qemu-nbd `--cache=none --aio=io_uring` (O_DIRECT); fio: buffered, fio-direct: O_DIRECT, the ceiling. "
            "-x2: two jobs, one connection each.")
    report.comparison("tls", "NBD over TLS (fio --ioengine=nbd over nbds+unix://; a memory store)", lambda job, ratios: None,
                      "dmp: `serve --tls on`; nbdkit: `--tls=on` with its memory plugin; the same ECDSA P-256 certificates. "
                      "Measured, with no target: dmp's TLS (.NET's SslStream on OpenSSL) runs beside the request path, "
                      "through a socket pair, which costs the large transfers a copy each way.")
    report.comparison("kernel", "Kernel path (emulated guest; fio libaio O_DIRECT on dm-linear over each; only ratios mean anything)",
                      report.kernel_rule)
    for part, what in (("kernel-brd", "a RAM disk (brd)"), ("kernel-loop", "a loop device on a file in the guest's /tmp")):
        report.comparison(
            part, f"Kernel path over {what} (emulated guest; fio libaio O_DIRECT; only ratios mean anything)",
            report.device_rule(part),
            "dmp: `dmp create` (its defaults: `--cache none`, one connection per CPU); nbdkit: its file plugin on the "
            "device, attached with nbd-client with as many connections, dm-linear on top; dm-linear: straight on the "
            "device; device: fio on the device itself, the ceiling.")
    report.counting_cost()
    report.layers_cost()
    report.memory()
    with open(markdown, "w") as out:
        out.write(report.render())
    chart(meta, medians, svg)


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit("usage: report.py RESULTS.tsv RESULTS.md RESULTS.svg")
    main(*sys.argv[1:])
