#!/usr/bin/python3
"""Runs the benchmark cases of bench/cases/ and writes bench/out/results.json and
docs/BENCHMARKS.md. bench/run.sh (`make bench`) starts it once the servers the
cases need are up; see run.sh for the BENCH_* settings.

    bench/run.py BUILD_DIR           run the cases BENCH_ONLY selects (default: all)
    bench/run.py --needs BUILD_DIR   print what they need ("postgres", tools)

The cases are TOML files, one a benchmark; bench/cases/README.md describes their
keys and steps.
"""
import datetime
import json
import os
import re
import shlex
import shutil
import statistics
import subprocess
import sys
import time
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CASES = ROOT / "bench" / "cases"
OUT = ROOT / "bench" / "out"
DEFAULTS = {"BENCH_ROWS": 1000000, "BENCH_RUNS": 3, "BENCH_MEMBERS": 10000, "BENCH_HTTP_S": 20}
VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
MISSING = object()
ENV = dict(os.environ, LC_ALL="C", PGOPTIONS="-c client_min_messages=warning")
KEEP = os.environ.get("BENCH_KEEP", "0") == "1"
GENERATED = {}  # data directory -> seconds it took to generate in this run


class BenchError(Exception):
    pass


def log(msg):
    print(f"bench: {msg}", file=sys.stderr, flush=True)


def loadavg():
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def utc_now(fmt="%Y-%m-%dT%H:%M:%SZ"):
    return datetime.datetime.now(datetime.timezone.utc).strftime(fmt)


def human(n):
    n = int(n)
    if n % 1000000 == 0:
        return f"{n // 1000000}M"
    return f"{n // 1000}k" if n % 1000 == 0 else str(n)


def f2(x):
    return f"{x:.2f}"


def mib(kib):
    return f"{kib / 1024:.1f}"


def median2(values):
    return f2(statistics.median(values))


def ratio(a, b):
    if "n/a" in (a, b) or float(b) <= 0:
        return "n/a"
    return f"{float(a) / float(b):.2f}"


def mark(ok, yes="meets target", no="MISSES target"):
    return f"✅ {yes}" if ok else f"❌ {no}"


def verdict(value, target):
    if value == "n/a":
        return "n/a (too fast to time; raise BENCH_ROWS)"
    return "meets target" if float(value) <= target else "MISSES target"


def calc(expr):
    funcs = {"round": round, "int": int, "float": float, "max": max, "min": min, "abs": abs,
             "f2": f2, "ratio": ratio, "mark": mark, "human": human, "clock": time.monotonic,
             "mb": lambda p: f"{os.path.getsize(p) / 1e6:.1f}"}
    try:
        return eval(expr, {"__builtins__": {}}, funcs)  # expressions of the case files only
    except Exception as e:
        raise BenchError(f"cannot evaluate {expr!r}: {e}") from None


def jvalue(s):
    """A case's text as a JSON value: whole and decimal numbers, true/false, text."""
    if not isinstance(s, str):
        return s
    if re.fullmatch(r"-?[0-9]+", s):
        return int(s)
    if re.fullmatch(r"-?[0-9]+\.[0-9]+", s):
        return float(s)
    return {"true": True, "false": False, "n/a": None}.get(s, s)


def jtext(v):
    if v is MISSING or v is None or isinstance(v, bool):
        return {True: "true", False: "false", None: "null"}.get(v, "?")
    return str(v)


def jfind(doc, key):
    """The value of KEY in a JSON report, breadth first (top-level keys first)."""
    queue = [doc]
    while queue:
        d = queue.pop(0)
        if isinstance(d, dict):
            if key in d:
                return d[key]
            queue.extend(d.values())
        elif isinstance(d, list):
            queue.extend(d)
    return MISSING


def dumps(doc):
    """JSON with lists of numbers on one line."""
    text = json.dumps(doc, indent=2, ensure_ascii=False)
    return re.sub(r"\[\s+([^\[\]{}\n]*(?:\n[^\[\]{}\n]*)*?)\s+\]",
                  lambda m: "[" + ", ".join(x.strip() for x in m.group(1).split(",\n")) + "]",
                  text) + "\n"


def tail(path, lines=20):
    try:
        text = Path(path).read_text(errors="replace").splitlines()
    except OSError:
        return ""
    return "\n".join(text[-lines:])


def fresh(db):
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(db + suffix).unlink(missing_ok=True)


def sh(argv, stdout=None, capture=True):
    """Runs ARGV untimed; its stdout (unless sent to the file STDOUT), or an error."""
    with open(stdout, "w") if stdout else open(os.devnull, "w") as sink:
        r = subprocess.run(argv, stdin=subprocess.DEVNULL, env=ENV, text=True,
                           stdout=sink if stdout or not capture else subprocess.PIPE,
                           stderr=subprocess.PIPE)
    if r.returncode != 0:
        shown = " ".join(shlex.quote(a) for a in argv)
        raise BenchError(f"{shown[:400]} failed (exit {r.returncode}):\n{r.stderr[-2000:]}")
    return r.stdout or ""


class Ctx(dict):
    """The variables of a case; sub() replaces ${name} in text, recursively."""

    def sub(self, text, depth=0):
        if not isinstance(text, str):
            return str(text)

        def one(m):
            k = m.group(1)
            if k == "utc_now_us":
                return utc_now("%Y-%m-%dT%H:%M:%S.%fZ")
            if k not in self:
                raise BenchError(f"unknown variable ${{{k}}}")
            return self.sub(self[k], depth + 1) if depth < 20 else str(self[k])
        return VAR.sub(one, text)

    def argv(self, items):
        return [self.sub(a) for a in items]


# ---------------------------------------------------------------------------
# The machine, the settings, the cases


def settings():
    s = {}
    for k, default in DEFAULTS.items():
        v = os.environ.get(k, str(default))
        if not re.fullmatch(r"[1-9][0-9]*", v):
            raise BenchError(f'{k} must be a positive whole number, not "{v}"')
        s[k] = int(v)
    return s


def machine(build_dir):
    meminfo = Path("/proc/meminfo").read_text()
    kib = int(re.search(r"^MemTotal:\s+(\d+)", meminfo, re.M).group(1))
    cpu = re.search(r"^model name\s*:\s*(.*)$", Path("/proc/cpuinfo").read_text(), re.M)
    osname = "unknown"
    try:
        osname = re.search(r'^PRETTY_NAME="?([^"\n]*)', Path("/etc/os-release").read_text(),
                           re.M).group(1)
    except (OSError, AttributeError):
        pass
    build_type = "unknown"
    try:
        m = re.search(r"^CMAKE_BUILD_TYPE:STRING=(.*)$",
                      (build_dir / "CMakeCache.txt").read_text(), re.M)
        build_type = m.group(1) or "unknown" if m else "unknown"
    except OSError:
        pass
    commit = os.environ.get("BENCH_COMMIT", "")
    if not commit:
        git = ["git", "-C", str(ROOT)]
        r = subprocess.run(git + ["rev-parse", "--short", "HEAD"], capture_output=True, text=True)
        commit = r.stdout.strip() if r.returncode == 0 else "unknown"
        if commit != "unknown" and subprocess.run(
                git + ["status", "--porcelain", "--", "src", "CMakeLists.txt"],
                capture_output=True, text=True).stdout.strip():
            commit += "+local-changes"
    u = os.uname()
    return {"nproc": str(len(os.sched_getaffinity(0))), "ram_gib": f"{kib / 1048576:.1f}",
            "cpu_model": cpu.group(1).strip() if cpu else "unknown", "os": osname,
            "kernel": f"{u.sysname} {u.release}", "build_type": build_type, "commit": commit,
            "sqlite_version": sh(["sqlite3", "--version"]).split()[0]}


def command_line(build_dir):
    """The command that produced this run, as one would type it again."""
    env = " ".join(f"{k}={shlex.quote(v)}" for k, v in sorted(os.environ.items())
                   if k.startswith("BENCH_"))
    rel = os.path.relpath(build_dir, ROOT)
    if os.environ.get("MAKELEVEL"):
        cmd = "make bench" + ("" if rel == "build" else f" BUILD_DIR={shlex.quote(rel)}")
    else:
        cmd = f"bench/run.sh {shlex.quote(rel)}"
    return f"{env} {cmd}".strip()


def load_cases():
    def read(path):
        try:
            return tomllib.loads(path.read_text())
        except (OSError, tomllib.TOMLDecodeError) as e:
            raise BenchError(f"{path.relative_to(ROOT)}: {e}") from None
    common = read(CASES / "_common.toml")
    cases = []
    for path in sorted(CASES.glob("[!_]*.toml")):
        spec = read(path)
        merged = {"vars": dict(common.get("vars", {})), "data": {}, "steps": {}}
        for part in [read(CASES / inc) for inc in spec.get("include", [])] + [spec]:
            for k in merged:
                merged[k].update(part.get(k, {}))
        spec.update(merged, name=path.stem)
        for k in ("title", "order", "report"):
            if k not in spec:
                raise BenchError(f"{path.relative_to(ROOT)}: no {k}")
        cases.append(spec)
    return sorted(cases, key=lambda c: c["order"])


def needs(spec):
    return (["postgres"] if spec.get("store") == "postgres" else []) + spec.get("needs", [])


# ---------------------------------------------------------------------------
# PostgreSQL server CPU, from /proc


def pg_postmaster(url):
    r = subprocess.run(["psql", "-X", "-A", "-t", "-q", url, "-c", "SHOW data_directory"],
                       capture_output=True, text=True, env=ENV)
    try:
        pid = int((Path(r.stdout.strip()) / "postmaster.pid").read_text().split()[0])
        return pid if Path(f"/proc/{pid}/comm").read_text().strip() == "postgres" else None
    except (OSError, ValueError, IndexError):
        return None


def pg_server_cpu(pm):
    """CPU seconds the server has used: its live processes (the postmaster's
    children, read first, so a backend exiting in between is still counted) and
    those that have exited (the postmaster's cutime and cstime)."""
    ticks = 0
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                f = (d / "stat").read_text().rsplit(") ", 1)[1].split()
            except (OSError, IndexError):
                continue
            if int(f[1]) == pm:
                ticks += int(f[11]) + int(f[12])
    f = Path(f"/proc/{pm}/stat").read_text().rsplit(") ", 1)[1].split()
    return (ticks + sum(int(x) for x in f[11:15])) / os.sysconf("SC_CLK_TCK")


def parse_wrk(path):
    text = Path(path).read_text()
    unit = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}
    lat = {p: float(v) * unit[u] for p, v, u in
           re.findall(r"^\s+(50|90|99)%\s+([0-9.]+)(us|ms|s|m)\s*$", text, re.M)}
    rps = re.search(r"^Requests/sec:\s+([0-9.]+)", text, re.M)
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", text)
    if not rps or len(lat) < 3:
        raise BenchError(f"{path}: no wrk figures:\n{text[-1000:]}")
    return {"rps": round(float(rps.group(1))), "p50_ms": round(lat["50"], 2),
            "p90_ms": round(lat["90"], 2), "p99_ms": round(lat["99"], 2),
            "non2xx": int(bad.group(1)) if bad else 0}


# ---------------------------------------------------------------------------
# One case


class Case:
    def __init__(self, spec, base):
        self.spec, self.name = spec, spec["name"]
        self.ctx = Ctx(base)
        self.ctx.update({k: str(v) for k, v in spec["vars"].items()}, name=self.name)
        self.pm = None
        self.timings = {s["key"]: {"wall": [], "cpu": [], "kib": [], "srv": []}
                        for s in spec.get("sides", [])}
        self.metrics = {}

    # Steps -----------------------------------------------------------------

    def steps(self, steps, last=False):
        for st in steps or []:
            if "use" in st:
                self.steps(self.spec["steps"][st["use"]], last)
                continue
            if st.get("once") and self.ctx.get("run") != "1":
                continue
            if st.get("keep") and last and KEEP:
                continue
            for item in st.get("each", [None]):
                if item is not None:
                    self.ctx["item"] = self.ctx.sub(item)
                self.step(st)

    def fail(self, st, default, detail=""):
        msg = self.ctx.sub(st["message"]) if "message" in st else default
        raise BenchError(f"{self.name}: {msg}{detail}")

    def step(self, st):
        ctx = self.ctx
        if "fresh" in st:
            fresh(ctx.sub(st["fresh"]))
        elif "copy" in st:
            src, dst = ctx.argv(st["copy"])
            fresh(dst)
            shutil.copyfile(src, dst)
            if st.get("sync", True):  # the copy's write-back does not land in a timed command
                fd = os.open(dst, os.O_RDONLY)
                os.fsync(fd)
                os.close(fd)
        elif "checkpoint" in st:  # the WAL into the file: a copy of the file is the database
            db = ctx.sub(st["checkpoint"])
            sh(["sqlite3", db, "PRAGMA wal_checkpoint(TRUNCATE);"])
            wal = Path(db + "-wal")
            if wal.exists() and wal.stat().st_size > 0:
                raise BenchError(f"{self.name}: the WAL of {db} is not empty after a checkpoint")
            wal.unlink(missing_ok=True)
            Path(db + "-shm").unlink(missing_ok=True)
        elif "set" in st:
            for k, v in st["set"].items():
                ctx[k] = ctx.sub(v)
        elif "calc" in st or "metric" in st:
            for k, v in st.get("calc", st.get("metric")).items():
                value = calc(ctx.sub(v))
                ctx[k] = str(value)
                if "metric" in st:
                    self.metrics.setdefault(k, []).append(value)
        elif "wrk" in st:
            for prefix, path in st["wrk"].items():
                for k, v in parse_wrk(ctx.sub(path)).items():
                    ctx[f"{prefix}_{k}"] = str(v)
                    self.metrics.setdefault(f"{prefix}_{k}", []).append(v)
        elif "assert" in st:
            if not calc(ctx.sub(st["assert"])):
                self.fail(st, f"failed: {ctx.sub(st['assert'])}")
        elif "clock" in st:
            ctx[st["clock"]] = repr(time.monotonic())
        elif "log" in st:
            log(f"{self.name}: {ctx.sub(st['log'])}")
        elif "json" in st:
            self.check_json(st)
        else:
            self.command_step(st)

    def command_step(self, st):
        ctx = self.ctx
        sep = [ctx.sub(st["sep"])] if "sep" in st else []
        if "run" in st:
            argv = ctx.argv(st["run"])
        elif "sqlite" in st:
            db, *sql = ctx.argv(st["sqlite"])
            argv = ["sqlite3"] + (["-separator"] + sep if sep else []) + [db] + sql
        elif "psql" in st:
            url, *sql = ctx.argv(st["psql"])
            argv = ["psql", "-X", "-A", "-t", "-q", "-v", "ON_ERROR_STOP=1"]
            argv += (["-F"] + sep if sep else []) + [url] + [x for s in sql for x in ("-c", s)]
        else:
            raise BenchError(f"{self.name}: a step with no action: {st}")
        text = sh(argv, stdout=ctx.sub(st["stdout"]) if "stdout" in st else None).rstrip("\n")
        if "skip" in st or "lstrip" in st or "join" in st:
            lines = [ln.lstrip(st.get("lstrip", "")) for ln in text.split("\n")[st.get("skip", 0):]]
            text = st.get("join", "\n").join(lines)
        ctx["got"] = text
        if "match" in st and not re.fullmatch(st["match"], text):
            self.fail(st, f"unexpected output of {argv[0]}: {text!r}")
        if "expect" in st and text != ctx.sub(st["expect"]):
            self.fail(st, f"{argv[0]} gave {text!r}, expected {ctx.sub(st['expect'])!r}")
        names = st.get("capture")
        if isinstance(names, str):
            ctx[names] = text
        elif names:
            parts = text.split("\n") if st.get("lines") else text.split()
            if len(parts) != len(names):
                self.fail(st, f"{argv[0]} gave {text!r}, expected {len(names)} values")
            ctx.update(zip(names, parts))

    def check_json(self, st):
        ctx = self.ctx
        path = ctx.sub(st["json"])
        try:
            doc = json.loads(Path(path).read_text())
        except (OSError, ValueError) as e:
            raise BenchError(f"{self.name}: {path} is not a JSON report: {e}") from None
        want = {k: ctx.sub(v) for k, v in st.get("fields", {}).items()}
        got = {k: jtext(jfind(doc, k)) for k in want}
        bad = [f"{k} {got[k]} (expected {want[k]})" for k in want if got[k] != want[k]]
        bad += [f"no {k}" for k in st.get("present", []) if jfind(doc, k) in (MISSING, None)]
        bad += [f"a {k}" for k in st.get("absent", []) if jfind(doc, k) not in (MISSING, None)]
        if bad:
            head = Path(path).read_text()[:2000]
            default = f"{ctx.get('side', 'set-up')} run {ctx.get('run', '-')}: unexpected report"
            self.fail(st, default, f": {', '.join(bad)}\n{head}")
        for var, key in st.get("capture", {}).items():
            ctx[var] = jtext(jfind(doc, key))

    # Runs -------------------------------------------------------------------

    def data(self):
        for key, d in self.spec["data"].items():
            path = OUT / "data" / self.ctx.sub(d["dir"])
            self.ctx[key] = str(path)
            files = [path / f for f in d.get("files", [])]
            if files and all(f.exists() and f.stat().st_size > 0 for f in files):
                self.ctx[f"{key}_gen_s"] = GENERATED.get(str(path), "0")
                continue
            log(f"{self.name}: {self.ctx.sub(d.get('log', 'reftrack_datagen ' + ' '.join(d['args'])))}")
            t0 = time.monotonic()
            sh([self.ctx["datagen"]] + self.ctx.argv(d["args"]) + ["--out", str(path)],
               stdout=str(OUT / "runs" / f"{self.name}-datagen-{key}.out"))
            GENERATED[str(path)] = self.ctx[f"{key}_gen_s"] = f2(time.monotonic() - t0)

    def timed(self, side):
        ctx, key = self.ctx, side["key"]
        base = OUT / "runs" / f"{self.name}-{key}-{ctx['run']}"
        ctx["stdout"], ctx["stderr"] = f"{base}.out", f"{base}.err"
        argv = ctx.argv(side["command"])
        # Wall and CPU time come from os.wait4; the peak RSS from /usr/bin/time, which
        # forks the command itself: a process forked from this one inherits its peak
        # RSS (Linux keeps the larger of the parent's at fork and its own), so
        # ru_maxrss here would never go below Python's own 10-16 MB.
        rss = f"{base}.rss"
        s0 = pg_server_cpu(self.pm) if self.pm else None
        with open(ctx["stdout"], "w") as out, open(ctx["stderr"], "w") as err:
            t0 = time.monotonic()
            p = subprocess.Popen(["/usr/bin/time", "-f", "%M", "-o", rss] + argv,
                                 stdin=subprocess.DEVNULL, stdout=out, stderr=err, env=ENV)
            _, status, ru = os.wait4(p.pid, 0)
            wall = time.monotonic() - t0
            p.returncode = os.waitstatus_to_exitcode(status)
        if p.returncode != 0:
            raise BenchError(f"{base.name} failed: {shlex.join(argv)[:400]}\n{tail(ctx['stderr'])}")
        t = self.timings[key]
        t["wall"].append(round(wall, 2))
        t["cpu"].append(round(ru.ru_utime + ru.ru_stime, 2))
        t["kib"].append(int(Path(rss).read_text().split()[-1]))
        srv = ""
        if s0 is not None:
            time.sleep(0.5)  # the backend's exit
            t["srv"].append(round(pg_server_cpu(self.pm) - s0, 2))
            srv = f"  server cpu {t['srv'][-1]:.2f} s"
        ctx.update({f"{key}_s": f2(t["wall"][-1]), f"{key}_cpu": f2(t["cpu"][-1]),
                    f"{key}_kib": str(t["kib"][-1])})
        log(f"{self.name}: run {ctx['run']}/{ctx['runs']} {key:<12} {t['wall'][-1]:.2f} s  "
            f"cpu {t['cpu'][-1]:.2f} s{srv}  {mib(t['kib'][-1])} MB  (load {loadavg()})")

    def run(self):
        ctx, spec = self.ctx, self.spec
        self.data()
        if spec.get("store") == "postgres":
            self.pm = pg_postmaster(ctx["pg_url"])
            if self.pm is None:
                log(f"{self.name}: the server is not on this machine; its CPU time is not measured")
        ctx["server_cpu_measured"] = "true" if self.pm else "false"
        self.steps(spec.get("setup"))
        runs = int(ctx["runs"])
        for run in range(1, runs + 1):
            ctx["run"] = str(run)
            for side in spec.get("sides", []):
                ctx["side"] = side["key"]
                self.steps(side.get("prepare"))
                self.timed(side)
                try:
                    self.steps(side.get("checks"))
                except BenchError as e:
                    err = tail(ctx["stderr"])
                    raise BenchError(f"{e}\n{err}" if err else str(e)) from None
                self.steps(side.get("cleanup"), last=run == runs)
        ctx.pop("side", None)
        self.steps(spec.get("finish"), last=True)
        return self.report()

    # Report -----------------------------------------------------------------

    def report(self):
        ctx, spec = self.ctx, self.spec
        pg = spec.get("store") == "postgres"
        ctx.update(date=utc_now(), day=utc_now("%Y-%m-%d"))
        shown = [s for s in spec.get("sides", []) if "label" in s]
        stats = {}
        for side in spec.get("sides", []):
            t, key = self.timings[side["key"]], side["key"]
            st = stats[key] = {"med": median2(t["wall"]), "cpu_med": median2(t["cpu"]),
                               "peak": mib(max(t["kib"])),
                               "srv_med": median2(t["srv"]) if t["srv"] else "n/a",
                               "runs": " ".join(f2(x) for x in t["wall"])}
            ctx.update({f"{key}_{k}": v for k, v in st.items()})
        ratios, all_met = [], True
        for r in spec.get("ratios", []):
            num, den = stats[r["num"]], stats[r["den"]]
            row = {"r": ratio(num["med"], den["med"]), "cpu": ratio(num["cpu_med"], den["cpu_med"]),
                   "srv": ratio(num["srv_med"], den["srv_med"]) if self.pm else "n/a"}
            row["verdict"] = verdict(row["r"], r["target"]) if "target" in r else "no target"
            if "target" in r and r.get("overall", True):
                all_met &= row["verdict"] == "meets target"
            ratios.append((r, row))
            ctx[f"{r.get('key', 'main')}_ratio"], ctx[f"{r.get('key', 'main')}_verdict"] = \
                row["r"], row["verdict"]
        memory = spec.get("memory")
        if memory:
            ctx["peak_mb"] = mib(max(k for s in memory["sides"] for k in self.timings[s]["kib"]))
            if "target" in memory:
                ctx["memory_verdict"] = verdict(ctx["peak_mb"], memory["target"])
                all_met &= ctx["memory_verdict"] == "meets target"
        medians = {}
        for name, values in self.metrics.items():
            m = statistics.median(values)
            medians[name] = int(m) if all(isinstance(v, int) for v in values) and m == int(m) \
                else round(m, 2)
            ctx[name] = str(medians[name]) if isinstance(medians[name], int) else f2(m)
        for name, expr in spec.get("results", {}).items():
            ctx[name] = str(calc(ctx.sub(expr)))
        ctx["table"] = self.table(shown, stats, ratios, pg) if shown else ""
        s = {k: int(ctx[v]) for k, v in (("rows", "rows"), ("runs", "runs"), ("members", "members"))}
        ctx["repro"] = f"BENCH_ROWS={s['rows']} BENCH_RUNS={s['runs']}" + \
            (f" BENCH_MEMBERS={s['members']}" if s["members"] != 10000 else "")
        defaults = (s["rows"], s["runs"], s["members"]) == (1000000, 3, 10000)
        ctx["repro_note"] = spec.get("repro_default_note", "") if defaults else ""
        title = ctx.sub(spec["title"])
        md = f"## {title}\n\n{ctx.sub(spec['report']['text'])}"

        def extras(table):
            return {k: extras(v) if isinstance(v, dict) else jvalue(ctx.sub(v) if isinstance(v, str)
                    else v) for k, v in table.items()}
        res = {"title": title, "date": ctx["date"], "commit": ctx["commit"],
               "produced_by": ctx["command"], **s, **extras(spec.get("json", {}))}
        for side in shown:
            t, st = self.timings[side["key"]], stats[side["key"]]
            j = {"command": " ".join(ctx.sub(side.get("shown", "")).split()),
                 **extras(side.get("json", {})), "wall_s": t["wall"], "peak_rss_kib": t["kib"],
                 "median_s": float(st["med"]), "cpu_s": t["cpu"], "median_cpu_s": float(st["cpu_med"])}
            if pg:
                j.update(server_cpu_s=t["srv"] or None, median_server_cpu_s=jvalue(st["srv_med"]))
            res[side["key"]] = dict(j, peak_mb=float(st["peak"]))
        for r, row in ratios:
            p = f"{r['key']}_" if "key" in r else ""
            res[f"{p}ratio"], res[f"{p}cpu_ratio"] = jvalue(row["r"]), jvalue(row["cpu"])
            if pg:
                res[f"{p}server_cpu_ratio"] = jvalue(row["srv"])
            if "target" in r:
                res[f"target_{p}ratio"] = r["target"]
                if not r.get("overall", True):
                    res[f"meets_{r['key']}_target"] = row["verdict"] == "meets target"
        if memory:
            if "target" in memory:
                res["target_peak_mb"] = memory["target"]
            res["peak_mb"] = float(ctx["peak_mb"])
        if any("target" in r for r in spec.get("ratios", [])) or "target" in (memory or {}):
            res["meets_target"] = all_met
        res.update({k: v for k, v in self.metrics.items()})
        if medians:
            res["median"] = medians
        res.update(nproc=int(ctx["nproc"]), ram_gib=float(ctx["ram_gib"]))
        self.console(title, shown, stats, ratios, pg)
        return res, md

    def table(self, shown, stats, ratios, pg):
        def row(cells):
            return "|" + "|".join(f" {c} " if c else " " for c in cells) + "|"
        srv = self.pm is not None
        if pg:
            lines = ["| | median wall time | runs (wall s) | median client CPU | median server CPU "
                     "| client peak memory |", "|---|---:|---|---:|---:|---:|"]
        else:
            lines = ["| | median wall time | runs (wall s) | median CPU time | peak memory |",
                     "|---|---:|---|---:|---:|"]
        for side in shown:
            st = stats[side["key"]]
            cells = [self.ctx.sub(side["label"]), f"{st['med']} s", st["runs"], f"{st['cpu_med']} s"]
            cells += [st["srv_med"] + (" s" if srv else "")] if pg else []
            lines.append(row(cells + [f"{st['peak']} MB"]))
        for r, fig in ratios:
            target = "no target"
            if "target" in r:
                v = fig["verdict"]
                target = f"target ≤ {r['target']}x: {mark(v == 'meets target', v, v)}"
            cells = [f"**{r['label']}**", f"**{fig['r']}x**", target]
            cells += ["", f"{fig['srv']}x" if srv else ""] if pg else [f"{fig['cpu']}x"]
            lines.append(row(cells + [""]))
        memory = self.spec.get("memory", {})
        if "target" in memory:
            v = self.ctx["memory_verdict"]
            cells = ["**reftrack peak memory**", "", f"target ≤ {memory['target']} MB: "
                     f"{mark(v == 'meets target', v, v)}", ""] + ([""] if pg else [])
            lines.append(row(cells + [f"**{self.ctx['peak_mb']} MB**"]))
        return "\n".join(lines)

    def console(self, title, shown, stats, ratios, pg):
        out = [f"\n{title}, {self.ctx['runs']} runs, {self.ctx['date']}",
               f"  {'':40} {'median s':>9} {'cpu s':>9}" + (f" {'server s':>9}" if pg else "")
               + f" {'peak MB':>9}  runs (wall s)"]
        for side in shown:
            st = stats[side["key"]]
            out.append(f"  {self.ctx.sub(side['label'])[:40]:40} {st['med']:>9} {st['cpu_med']:>9}"
                       + (f" {st['srv_med']:>9}" if pg else "") + f" {st['peak']:>9}  {st['runs']}")
        for r, row in ratios:
            t = f"target <= {r['target']}x: {row['verdict']}" if "target" in r else "no target"
            out.append(f"  {r['label'][:40]:40} {row['r'] + 'x':>9} {row['cpu'] + 'x':>9}"
                       + (f" {row['srv'] + 'x':>9}" if pg else "") + f"  ({t})")
        if "peak_mb" in self.ctx and "memory_verdict" in self.ctx:
            out.append(f"  {'reftrack peak memory':40} {self.ctx['peak_mb'] + ' MB':>9}  "
                       f"(target <= {self.spec['memory']['target']} MB: {self.ctx['memory_verdict']})")
        for name in self.metrics:
            out.append(f"  {name:40} {self.ctx[name]:>9}")
        print("\n".join(out) + "\n", file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------
# Assembly: results.json and docs/BENCHMARKS.md from every fragment present, so a
# case left out by BENCH_ONLY keeps the section of its last run.


def assemble(base, load_start):
    frags = sorted((OUT / "fragments").glob("*.json"))
    results = {
        "date": base["start"],
        "command": base["command"],
        "machine": {"nproc": int(base["nproc"]), "ram_gib": float(base["ram_gib"]),
                    "cpu": base["cpu_model"], "os": base["os"], "kernel": base["kernel"],
                    "loadavg_start": load_start, "loadavg_end": loadavg()},
        "sqlite3_version": base["sqlite_version"], "build_type": base["build_type"],
        "commit": base["commit"],
        "benchmarks": {f.stem.split("-", 1)[1]: json.loads(f.read_text()) for f in frags},
    }
    tmp = OUT / "results.json.new"
    tmp.write_text(dumps(results))
    tmp.replace(OUT / "results.json")
    md = [
        "# Benchmarks", "",
        "<!-- Generated by bench/run.py (make bench) from the cases of bench/cases/; edit those,",
        "not this file. -->", "",
        "Each benchmark times reftrack against a baseline doing the same job with no",
        "rules: the sqlite3 shell on SQLite, psql on PostgreSQL. Machines are shared",
        "and noisy, so compare the **ratio** (reftrack time / baseline time; the target",
        "is in each section), not absolute times. Raw figures of the last run:",
        "`bench/out/results.json`.", "",
        f"Last run: `{base['command']}`",
        f"at {base['start']} on {base['nproc']} CPUs ({base['cpu_model']}), {base['ram_gib']} GiB RAM,",
        f"{base['os']}, kernel {base['kernel']}, sqlite3 {base['sqlite_version']},",
        f"load average at start {load_start}, at end {loadavg()}.",
        "Each section says when and at which commit it was measured; a section the last",
        "run did not select (BENCH_ONLY) keeps the figures of the run before.",
    ]
    for f in sorted((OUT / "fragments").glob("*.md")):
        md += ["", f.read_text().rstrip("\n")]
    doc = ROOT / "docs" / "BENCHMARKS.md"
    doc.parent.mkdir(exist_ok=True)
    tmp = doc.with_suffix(".md.new")
    tmp.write_text("\n".join(md) + "\n")
    tmp.replace(doc)
    log(f"wrote {OUT / 'results.json'} and {doc}")


def main(argv):
    only_needs = argv[1:2] == ["--needs"]
    args = argv[2:] if only_needs else argv[1:]
    if len(args) != 1:
        raise BenchError("usage: bench/run.py [--needs] BUILD_DIR")
    build_dir = Path(args[0]).resolve()
    s = settings()
    cases = load_cases()
    known = [c["name"] for c in cases]
    only = os.environ.get("BENCH_ONLY", " ".join(known)).split()
    for b in only:
        if b not in known:
            raise BenchError(f'unknown benchmark "{b}" (known: {" ".join(known)})')
    cases = [c for c in cases if c["name"] in only]
    if only_needs:
        print(" ".join(sorted({n for c in cases for n in needs(c)})))
        return
    for d in ("data", "db", "runs", "fragments", "bin"):
        (OUT / d).mkdir(parents=True, exist_ok=True)
    try:
        # Run copies, so a rebuild of BUILD_DIR during the benchmark changes nothing.
        for exe in ("reftrack", "reftrack_datagen"):
            shutil.copy2(build_dir / exe, OUT / "bin" / exe)
        base = Ctx(machine(build_dir))
        url = os.environ.get("REFTRACK_TEST_POSTGRES_URL", "")
        base.update(rows=str(s["BENCH_ROWS"]), runs=str(s["BENCH_RUNS"]),
                    members=str(s["BENCH_MEMBERS"]), http_s=str(s["BENCH_HTTP_S"]),
                    rows_h=human(s["BENCH_ROWS"]), root=str(ROOT), out_dir=str(OUT),
                    db_dir=str(OUT / "db"), runs_dir=str(OUT / "runs"),
                    reftrack=str(OUT / "bin" / "reftrack"),
                    datagen=str(OUT / "bin" / "reftrack_datagen"), pg_url=url,
                    pg_server=url.rsplit("/", 1)[0], command=command_line(build_dir),
                    start=utc_now())
        load_start = loadavg()
        log(f"rows={base['rows']} runs={base['runs']} nproc={base['nproc']} "
            f"ram={base['ram_gib']}GiB sqlite3={base['sqlite_version']} commit={base['commit']} "
            f"load={load_start}")
        for spec in cases:
            res, md = Case(spec, base).run()
            for old in (OUT / "fragments").glob(f"*-{spec['name']}.*"):
                old.unlink()
            stem = OUT / "fragments" / f"{spec['order']}-{spec['name']}"
            Path(f"{stem}.json").write_text(dumps(res))
            Path(f"{stem}.md").write_text(md)
        assemble(base, load_start)
    finally:
        if not KEEP:
            for d in ("db", "data", "bin"):
                shutil.rmtree(OUT / d, ignore_errors=True)


if __name__ == "__main__":
    try:
        main(sys.argv)
    except BenchError as e:
        print(f"bench: error: {e}", file=sys.stderr)
        sys.exit(1)
    except KeyboardInterrupt:
        sys.exit(130)
