"""The results table: medians, ratios and targets (MET / MISSED), kept as
plain dicts so the same rows go to the screen and to the JSON copy."""

import statistics


def _med(runs, key):
    xs = [r[key] for r in runs if r.get("ok") and key in r]
    return statistics.median(xs) if xs else None


def _fmt(x, unit=""):
    if x is None:
        return "n/a"
    if abs(x) >= 100:
        return f"{x:.0f}{unit}"
    if abs(x) >= 10:
        return f"{x:.1f}{unit}"
    return f"{x:.3g}{unit}"


def _verdict(value, op, limit):
    if value is None:
        return "MISSED (no result)"
    ok = {">=": value >= limit, "<=": value <= limit, "<": value < limit,
          "==": value == limit}[op]
    return "MET" if ok else "MISSED"


def _ratio(a, b):
    return a / b if a is not None and b else None


def _per_bp(row, kind):
    """Row 9: what each of the 199 extra breakpoints adds to a continue
    (gdb's z0 at the stop and Z0 at the resume, plus the target's work)."""
    a, b = row.get(kind), row.get(f"{kind}_ms_1")
    return (a - b) / 199 if a is not None and b is not None else None


class Report:
    def __init__(self, cfg):
        self.cfg = cfg
        self.rows = []

    def _add(self, row_id, what, **kw):
        row = {"row": row_id, "what": what, "targets": []}
        row.update(kw)
        self.rows.append(row)
        return row

    def _target(self, row, desc, value, op, limit):
        row["targets"].append({"target": f"{desc} {op} {limit}",
                               "value": value,
                               "verdict": _verdict(value, op, limit)})

    def rate_row(self, row_id, what, runs, key, want_ratio=None,
                 want_ceiling=None, gdb_share=True):
        h, q = _med(runs.get("hvgdb", []), key), _med(runs.get("qemu", []),
                                                       key)
        m = _med(runs.get("mock", []), key) if "mock" in runs else None
        row = self._add(row_id, what, hvgdb=h, qemu=q, ceiling=m,
                        ratio=_ratio(h, q), fraction=_ratio(h, m),
                        ceiling_vs_qemu=_ratio(m, q))
        if gdb_share:
            row["gdb_share"] = {k: _med(v, "gdb_share")
                                for k, v in runs.items()}
        failed = {k: [r.get("error") for r in v if not r.get("ok")]
                  for k, v in runs.items()}
        row["failures"] = {k: v for k, v in failed.items() if v}
        if want_ratio:
            self._target(row, "hvgdb/QEMU", row["ratio"], ">=", want_ratio)
        if want_ceiling:
            self._target(row, "hvgdb/ceiling", row["fraction"], ">=",
                         want_ceiling)

    def latency_row(self, runs, row_id="4", note=""):
        h, q = runs["hvgdb"], runs["qemu"]
        row = self._add(row_id, f"Ctrl-C stop latency, 8 busy vCPUs{note}, "
                        "ms (median / p99)", hvgdb=_med(h, "median"),
                        qemu=_med(q, "median"), hvgdb_p99=_med(h, "p99"),
                        qemu_p99=_med(q, "p99"))
        row["ratio"] = _ratio(row["hvgdb"], row["qemu"])
        self._target(row, "hvgdb median ms", row["hvgdb"], "<=", 5)

    def cpu_rows(self, runs, with_dbg, smp, with_watch):
        h, q = _med(runs["hvgdb"], "compute"), _med(runs["qemu"], "compute")
        row = self._add("5a", "cpu-bench 1 vCPU, no debugger, compute s "
                        f"(work={self.cfg.work})", hvgdb=h, qemu=q,
                        ratio=_ratio(h, q))
        self._target(row, "hvgdb/QEMU wall", row["ratio"], "<=", 1.5)
        plain = _med(runs["hvgdb"], "wall")
        dbg = _med(with_dbg["hvgdb"], "wall")
        row = self._add("5b", "cpu-bench, gdb attached + 100 never-hit "
                        "breakpoints, s (speed vs no debugger)",
                        hvgdb=dbg, qemu=None, ratio=_ratio(plain, dbg),
                        no_debugger=plain)
        bad = [r for r in with_dbg["hvgdb"]
               if r.get("ok") and (not r.get("exited") or r.get("stops") or
                                   r.get("stop_replies"))]
        row["runs_not_clean"] = len(bad)
        self._target(row, "speed with/without debugger", row["ratio"],
                     ">=", 0.95)
        t1 = _med(runs["hvgdb"], "throughput")
        t4 = _med(smp["hvgdb"], "throughput")
        row = self._add("5c", "cpu-bench 4 vCPUs, total throughput, "
                        "work/s (ratio: vs own 1 vCPU)", hvgdb=t4,
                        qemu=None, one_vcpu=t1, ratio=_ratio(t4, t1))
        self._target(row, "4-vCPU/1-vCPU throughput", row["ratio"], ">=",
                     0.9)
        watch = _med(with_watch["hvgdb"], "wall")
        row = self._add("5d", "cpu-bench, gdb attached + 4 watchpoints on "
                        "untouched data, s (speed vs no debugger)",
                        hvgdb=watch, qemu=None, ratio=_ratio(plain, watch),
                        no_debugger=plain)
        bad = [r for r in with_watch["hvgdb"]
               if r.get("ok") and (not r.get("exited") or r.get("stops") or
                                   r.get("stop_replies") or
                                   r.get("hardware_watchpoints") != 4)]
        row["runs_not_clean"] = len(bad)
        self._target(row, "speed with/without watchpoints", row["ratio"],
                     ">=", 0.9)

    def scale_rows(self, series, work):
        """Row 16: cpu-bench on 1, 2, 4, 8 vCPUs, hvgdb next to QEMU.
        ratio: hvgdb's throughput against its own 1 vCPU; vs_qemu: time
        hvgdb/QEMU."""
        one = _med(series[1]["hvgdb"], "throughput")
        for cpus, runs in series.items():
            h = _med(runs["hvgdb"], "compute")
            q = _med(runs["qemu"], "compute")
            t = _med(runs["hvgdb"], "throughput")
            qt = _med(runs["qemu"], "throughput")
            row = self._add(f"16.{cpus}", f"cpu-bench work={work}, {cpus} "
                            "vCPU(s), compute s (ratio: throughput vs own "
                            "1 vCPU)", hvgdb=h, qemu=q, ratio=_ratio(t, one),
                            vs_qemu=_ratio(h, q),
                            qemu_scaling=_ratio(
                                qt, _med(series[1]["qemu"], "throughput")))
            if cpus == 1:
                row["ratio"] = row["vs_qemu"]
            if cpus in (2, 4):
                self._target(row, f"{cpus}-vCPU/1-vCPU throughput",
                             row["ratio"], ">=", 1.8)
            if cpus == 4:
                self._target(row, "hvgdb/QEMU time", row["vs_qemu"], "<=",
                             1.0)

    def storm_row(self, runs):
        h, q = runs["hvgdb"][0], runs["qemu"][0]
        row = self._add("6", "SMP storm, 8 vCPUs, one breakpoint, stops/s",
                        hvgdb=h.get("rate"), qemu=q.get("rate"),
                        ratio=_ratio(h.get("rate"), q.get("rate")),
                        hvgdb_continues=h.get("count"),
                        qemu_continues=q.get("count"),
                        hvgdb_threads=h.get("threads_seen"),
                        qemu_threads=q.get("threads_seen"),
                        gdb_share={"hvgdb": h.get("gdb_share"),
                                   "qemu": q.get("gdb_share")})
        self._target(row, "hvgdb continues done", h.get("count"), ">=",
                     self.cfg.storm)
        self._target(row, "hvgdb stop replies without thread",
                     (h.get("stop_replies", 0) -
                      h.get("stop_replies_with_thread", 0))
                     if h.get("ok") else None, "==", 0)
        self._target(row, "hvgdb spurious stops after delete",
                     h.get("spurious_after_delete") if h.get("ok") else None,
                     "==", 0)
        if not h.get("ok"):
            row["hvgdb_error"] = h.get("error")

    def rss_row(self, cpus, runs):
        h, q = _med(runs["hvgdb"], "rss_mb"), _med(runs["qemu"], "rss_mb")
        row = self._add(f"7.{cpus}", f"peak RSS, demo, {cpus} vCPU(s), MiB",
                        hvgdb=h, qemu=q, ratio=_ratio(h, q))
        self._target(row, "hvgdb/QEMU", row["ratio"], "<=", 1.5)

    def _failures(self, row, runs):
        failed = {k: [r.get("error") for r in v if not r.get("ok")]
                  for k, v in runs.items()}
        row["failures"] = {k: v for k, v in failed.items() if v}

    def bps_row(self, runs, always_inserted=False):
        h, q = runs["hvgdb"], runs.get("qemu", [])
        row_id, how = ("9b", ", always-inserted") if always_inserted else \
            ("9", "")
        row = self._add(row_id, f"continue, 4 vCPUs, 200 breakpoints{how}, "
                        "ms (h/Q: ms)", hvgdb=_med(h, "ms_200"),
                        qemu=_med(q, "ms_200"),
                        hvgdb_ms_1=_med(h, "ms_1"), qemu_ms_1=_med(q, "ms_1"),
                        hvgdb_200_vs_1=_med(h, "ratio"),
                        qemu_200_vs_1=_med(q, "ratio"))
        row["ratio"] = _ratio(row["hvgdb"], row["qemu"])
        self._failures(row, runs)
        if always_inserted:
            self._target(row, "hvgdb 200-bp/1-bp continue",
                         row["hvgdb_200_vs_1"], "<=", 1.2)
        else:
            # gdb's default sends a z0 and a Z0 per breakpoint per stop:
            # what a stub controls is what each of those costs.
            self._target(row, "hvgdb/QEMU ms per extra bp per continue",
                         _ratio(_per_bp(row, "hvgdb"), _per_bp(row, "qemu")),
                         "<=", 1.0)

    def bprss_row(self, runs):
        h = runs["hvgdb"]
        hits = self.cfg.rss_hits
        row = self._add("10", f"RSS after {hits} bp hits, 4 vCPUs, MiB "
                        "(ratio: vs 100 hits)", hvgdb=_med(h, "rss_end_mb"),
                        qemu=None, ratio=_med(h, "ratio"),
                        rss_100=_med(h, "rss_100_mb"),
                        hit_rate=_med(h, "rate"))
        ok = [r for r in h if r.get("ok")]
        if ok:
            row["samples"] = ok[0]["samples"]
            row["grown"] = ok[0].get("grown_mappings_kib", [])[:2]
        self._failures(row, runs)
        self._target(row, f"hvgdb RSS {hits} hits/100 hits", row["ratio"],
                     "<=", 2)

    def hltstep_row(self, runs):
        h, q = runs["hvgdb"], runs.get("qemu", [])
        row = self._add("11", "stepi over hlt, timer-storm 20 kHz, ms "
                        "(median)", hvgdb=_med(h, "median"),
                        qemu=_med(q, "median"), hvgdb_max=_med(h, "max"),
                        qemu_max=_med(q, "max"))
        row["ratio"] = _ratio(row["hvgdb"], row["qemu"])
        row["pcs_after"] = {k: sorted({p for r in v for p in
                                       r.get("pcs_after", [])})
                            for k, v in runs.items()}
        self._failures(row, runs)
        self._target(row, "hvgdb median ms", row["hvgdb"], "<", 10)

    def packets_note(self, runs):
        """The last row's packets per operation (lldb's own log)."""
        row = self.rows[-1]
        row["hvgdb_packets"] = _med(runs.get("hvgdb", []), "packets_per_op")
        row["qemu_packets"] = _med(runs.get("qemu", []), "packets_per_op")

    def next_row(self, runs, row_id, cpus):
        h, q = runs["hvgdb"], runs.get("qemu", [])
        row = self._add(row_id, f"next over a ~200-instruction line, {cpus} "
                        "vCPU(s), ms (range stepping on)",
                        hvgdb=_med(h, "ms_on"), qemu=_med(q, "ms_on"),
                        hvgdb_ms_off=_med(h, "ms_off"),
                        qemu_ms_off=_med(q, "ms_off"),
                        speedup=_med(h, "speedup"))
        row["ratio"] = _ratio(row["hvgdb"], row["qemu"])
        self._failures(row, runs)
        if cpus == 1:
            self._target(row, "hvgdb range stepping off/on",
                         row["speedup"], ">=", 5)

    def linux_boot_row(self, cpus, runs, want_ratio):
        h, q = runs["hvgdb"], runs["qemu"]
        row = self._add(f"13.{cpus}", f"Linux boot to /init + power-off, "
                        f"{cpus} vCPU(s), s", hvgdb=_med(h, "wall"),
                        qemu=_med(q, "wall"),
                        hvgdb_run_init=_med(h, "run_init"),
                        qemu_run_init=_med(q, "run_init"),
                        hvgdb_cpu=_med(h, "cpu"), qemu_cpu=_med(q, "cpu"))
        row["ratio"] = _ratio(row["hvgdb"], row["qemu"])
        self._failures(row, runs)
        self._target(row, "hvgdb/QEMU wall", row["ratio"], "<=", want_ratio)

    def linux_idle_row(self, runs):
        h, q = _med(runs["hvgdb"], "share"), _med(runs["qemu"], "share")
        row = self._add("14", "idle booted Linux, 4 vCPUs, % of a core",
                        hvgdb=None if h is None else h * 100,
                        qemu=None if q is None else q * 100)
        row["ratio"] = _ratio(row["hvgdb"], row["qemu"])
        self._failures(row, runs)
        self._target(row, "hvgdb %", row["hvgdb"], "<", 5)

    def single_row(self, row_id, what, value, op, limit):
        row = self._add(row_id, what, hvgdb=value, qemu=None, ratio=None)
        self._target(row, "hvgdb", value, op, limit)

    def table(self):
        head = (f"{'row':5} {'what':58} {'hvgdb':>9} {'QEMU':>9} "
                f"{'h/Q':>6} {'ceiling':>9} {'h/ceil':>6}  gdb CPU share "
                f"h/Q/ceil")
        lines = [head, "-" * len(head)]
        for r in self.rows:
            share = r.get("gdb_share") or {}
            shares = "/".join(_fmt(share[k] * 100, "%")
                              if share.get(k) is not None else "-"
                              for k in ("hvgdb", "qemu", "mock")
                              if k in share)
            lines.append(
                f"{r['row']:5} {r['what'][:58]:58} {_fmt(r.get('hvgdb')):>9}"
                f" {_fmt(r.get('qemu')):>9} {_fmt(r.get('ratio')):>6}"
                f" {_fmt(r.get('ceiling')):>9} {_fmt(r.get('fraction')):>6}"
                f"  {shares}")
            extra = []
            if "hvgdb_p99" in r:
                extra.append(f"p99 hvgdb {_fmt(r['hvgdb_p99'])} ms, "
                             f"QEMU {_fmt(r['qemu_p99'])} ms")
            if r.get("ceiling_vs_qemu"):
                extra.append(f"ceiling/QEMU {_fmt(r['ceiling_vs_qemu'])}")
            if "no_debugger" in r:
                extra.append(f"no debugger {_fmt(r['no_debugger'])} s")
            if r.get("runs_not_clean"):
                extra.append(f"{r['runs_not_clean']} run(s) stopped or did "
                             "not reach the guest's end (see the JSON)")
            if "one_vcpu" in r:
                extra.append(f"1 vCPU {_fmt(r['one_vcpu'])} work/s")
            if "vs_qemu" in r:
                extra.append(f"time hvgdb/QEMU {_fmt(r['vs_qemu'])}; QEMU's "
                             f"own scaling {_fmt(r.get('qemu_scaling'))}")
            if "hvgdb_packets" in r:
                extra.append(f"packets sent per operation: hvgdb "
                             f"{_fmt(r['hvgdb_packets'])}, QEMU "
                             f"{_fmt(r['qemu_packets'])}")
            if "hvgdb_ms_off" in r:
                extra.append(f"range stepping off: hvgdb "
                             f"{_fmt(r['hvgdb_ms_off'])} ms, QEMU "
                             f"{_fmt(r['qemu_ms_off'])} ms; hvgdb off/on "
                             f"{_fmt(r['speedup'])}")
            if "hvgdb_ms_1" in r:
                extra.append(f"1 bp: hvgdb {_fmt(r['hvgdb_ms_1'])} ms, "
                             f"QEMU {_fmt(r['qemu_ms_1'])} ms; 200/1: hvgdb "
                             f"{_fmt(r['hvgdb_200_vs_1'])}, QEMU "
                             f"{_fmt(r['qemu_200_vs_1'])}; per extra bp "
                             f"per continue: hvgdb "
                             f"{_fmt(_per_bp(r, 'hvgdb'))} ms, QEMU "
                             f"{_fmt(_per_bp(r, 'qemu'))} ms")
            if "rss_100" in r:
                extra.append(f"after 100 hits {_fmt(r['rss_100'])} MiB; "
                             f"{_fmt(r['hit_rate'])} hits/s")
            if r.get("samples"):
                ss = r["samples"]
                pick = sorted({0, len(ss) - 1} |
                              set(range(0, len(ss), max(1, len(ss) // 5))))
                extra.append("VmRSS KiB at hits: " + " ".join(
                    f"{ss[i][0]}:{ss[i][1]}" for i in pick))
                if r.get("grown"):
                    extra.append("grew most (KiB, mapping): " + "; ".join(
                        f"{kb} {m}" for kb, m in r["grown"]))
            if "hvgdb_max" in r:
                extra.append(f"max hvgdb {_fmt(r['hvgdb_max'])} ms, QEMU "
                             f"{_fmt(r['qemu_max'])} ms; pc after "
                             f"{r['pcs_after']}")
            if "hvgdb_run_init" in r:
                extra.append(f"Run /init at (guest s) hvgdb "
                             f"{_fmt(r['hvgdb_run_init'])}, QEMU "
                             f"{_fmt(r['qemu_run_init'])}; CPU s hvgdb "
                             f"{_fmt(r['hvgdb_cpu'])}, QEMU "
                             f"{_fmt(r['qemu_cpu'])}")
            if "hvgdb_continues" in r:
                extra.append(f"continues hvgdb {r['hvgdb_continues']} "
                             f"QEMU {r['qemu_continues']}; threads hvgdb "
                             f"{r['hvgdb_threads']} QEMU {r['qemu_threads']}")
            if r.get("failures"):
                extra.append(f"failures {r['failures']}")
            for t in r["targets"]:
                v = t["value"]
                vs = _fmt(v) if isinstance(v, (int, float)) else str(v)
                extra.append(f"{t['verdict']}: {t['target']} (is {vs})")
            for e in extra:
                lines.append(f"{'':7}{e}")
        met = sum(t["verdict"] == "MET" for r in self.rows
                  for t in r["targets"])
        total = sum(len(r["targets"]) for r in self.rows)
        lines.append(f"targets: {met} MET, {total - met} MISSED")
        return "\n".join(lines)
