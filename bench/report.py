"""Summarise one bench/run: read the wrk outputs of its phases, print the figures, write the JSON."""
from __future__ import annotations

import argparse
import json
import statistics
from pathlib import Path

TARGET_RATIO = 0.4
PHASES = ("minimal-1", "survey", "minimal-2")


def read_phase(path: Path, app: str) -> dict:
    figures: dict = {}
    cpu: dict = {}
    for line in path.read_text().splitlines():
        if line.startswith("BENCH_JSON "):
            figures = json.loads(line[len("BENCH_JSON "):])
        elif line.startswith("ROWS "):
            figures["rows_written"] = int(line.split()[1])
        elif line.startswith(("CPU_BEFORE ", "CPU_AFTER ")):
            label, snapshot = line.split(" ", 1)
            cpu[label] = json.loads(snapshot)
    if not figures:
        raise SystemExit(f"{path}: wrk printed no BENCH_JSON line")
    if len(cpu) == 2:
        figures["cpu"] = cpu_use(cpu["CPU_BEFORE"], cpu["CPU_AFTER"], app, figures["requests"])
    counters = figures["counters"]
    figures["failures"] = (
        figures["non_2xx_3xx"] + figures["socket_errors"] + counters.get("walk_failures", 0) + counters.get("not_201", 0)
    )
    return figures


def cpu_use(before: dict, after: dict, app: str, requests: int) -> dict:
    """How busy the machine was, and the CPU this app's workers and database backends spent per request."""
    delta = {key: after[key] - before[key] for key in before}
    per_request = 1000 / before["ticks_per_second"] / max(requests, 1)
    return {
        "machine_busy_percent": 100 * delta["machine_busy"] / max(delta["machine_total"], 1),
        "app_ms_per_request": delta[f"app_{app}"] * per_request,
        "database_ms_per_request": delta[f"db_{app}"] * per_request,
    }


def server_errors(log: Path) -> int:
    """Tracebacks and gunicorn errors the server logged (a failure the client may not see)."""
    if not log.exists():
        return 0
    return sum(1 for line in log.read_text(errors="replace").splitlines() if "Traceback" in line or "[ERROR]" in line or "[CRITICAL]" in line)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--work", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--setting", action="append", default=[])
    args = parser.parse_args()

    phases = {name: read_phase(args.work / f"{name}.txt", name.split("-")[0].replace("survey", "loopdesk")) for name in PHASES}
    minimal_rates = [phases[name]["requests_per_second"] for name in ("minimal-1", "minimal-2")]
    minimal = statistics.mean(minimal_rates)
    survey = phases["survey"]["requests_per_second"]
    ratio = survey / minimal
    errors = {"loopdesk": server_errors(args.work / "loopdesk.log"), "minimal": server_errors(args.work / "minimal.log")}
    failures = sum(p["failures"] for p in phases.values()) + sum(errors.values())

    print()
    print(
        f"{'phase':<10} {'req/s':>9} {'requests':>9} {'failed':>7} {'p50 ms':>8} {'p99 ms':>8} {'rows':>6}"
        f" {'app CPU ms/req':>15} {'db CPU ms/req':>14} {'machine busy':>13}"
    )
    for name, p in phases.items():
        latency = p["latency_ms"]
        cpu = p.get("cpu") or {"app_ms_per_request": 0, "database_ms_per_request": 0, "machine_busy_percent": 0}
        print(
            f"{name:<10} {p['requests_per_second']:>9.1f} {p['requests']:>9} {p['failures']:>7}"
            f" {latency['p50']:>8.1f} {latency['p99']:>8.1f} {p.get('rows_written', 0):>6}"
            f" {cpu['app_ms_per_request']:>15.2f} {cpu['database_ms_per_request']:>14.2f} {cpu['machine_busy_percent']:>12.0f}%"
        )
    walk = phases["survey"]["counters"]
    print(
        f"survey walks completed: {walk['walks']} ({phases['survey']['requests'] / max(walk['walks'], 1):.1f} requests per walk,"
        f" follow-up question shown {walk['follow_up_shown']}, contact left {walk['contact_left']}),"
        f" walk failures: {walk['walk_failures']}"
    )
    if phases["survey"]["notes"]:
        print(f"first walk failure: {phases['survey']['notes']}")
    spread = abs(minimal_rates[1] - minimal_rates[0]) / minimal * 100
    print(f"minimal inserts: {minimal:.1f} req/s (mean of both phases, they differ by {spread:.1f} %)")
    print(f"server errors logged: loopdesk {errors['loopdesk']}, minimal {errors['minimal']}")
    if all("cpu" in p for p in phases.values()):
        def cost(p: dict) -> float:
            return p["cpu"]["app_ms_per_request"] + p["cpu"]["database_ms_per_request"]

        minimal_cost = statistics.mean(cost(phases[name]) for name in ("minimal-1", "minimal-2"))
        print(
            f"server CPU per request (app + database): survey {cost(phases['survey']):.2f} ms, minimal {minimal_cost:.2f} ms"
            f" -> CPU ratio {minimal_cost / cost(phases['survey']):.3f} (what req/s would give if only CPU counted)"
        )
    verdict = "PASS" if ratio >= TARGET_RATIO and failures == 0 else "FAIL"
    print(f"ratio survey/minimal: {survey:.1f} / {minimal:.1f} = {ratio:.3f} (target ≥ {TARGET_RATIO}, failures {failures}) {verdict}")

    result = {
        "survey_requests_per_second": survey,
        "minimal_requests_per_second": minimal,
        "ratio": ratio,
        "target_ratio": TARGET_RATIO,
        "failures": failures,
        "server_errors": errors,
        "verdict": verdict,
        "phases": phases,
        "settings": dict(s.split("=", 1) for s in args.setting),
    }
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"written: {args.out}")


if __name__ == "__main__":
    main()
