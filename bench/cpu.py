"""CPU ticks of the machine, of each app's gunicorn processes and of each database's backends.

bench/run prints one snapshot before and one after each phase ("CPU {...}"); report.py turns the
difference into server CPU per request, which stays comparable when other processes share the
machine (throughput does not).

    python bench/cpu.py loopdesk=<gunicorn pid> minimal=<gunicorn pid> --database loopdesk=loopdesk_bench ...
    python bench/cpu.py --idle 2      # percent of the machine that was busy over 2 s
"""
from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path


def machine_ticks() -> tuple[int, int]:
    """(busy, total) jiffies of all CPUs since boot."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    total = sum(values[:8])  # guest time is counted inside user already
    return total - idle, total


def processes() -> dict[int, tuple[int, str, int]]:
    """pid -> (parent pid, command line, utime + stime)."""
    found = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(entry.path, "stat").read_text()
            cmdline = Path(entry.path, "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        found[int(entry.name)] = (int(fields[1]), cmdline, int(fields[11]) + int(fields[12]))
    return found


def snapshot(masters: dict[str, int], databases: dict[str, str]) -> dict:
    procs = processes()
    busy, total = machine_ticks()
    figures: dict = {"machine_busy": busy, "machine_total": total, "ticks_per_second": os.sysconf("SC_CLK_TCK")}
    for name, master in masters.items():
        figures[f"app_{name}"] = sum(t for pid, (ppid, _c, t) in procs.items() if pid == master or ppid == master)
    for name, database in databases.items():
        # A backend's title is "postgres: 15/main: <user> <database> <client> <state>".
        figures[f"db_{name}"] = sum(
            t for _p, (_pp, cmdline, t) in procs.items() if cmdline.startswith("postgres: ") and f" {database} " in cmdline
        )
    return figures


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("masters", nargs="*", help="name=gunicorn master pid")
    parser.add_argument("--database", action="append", default=[], help="name=database")
    parser.add_argument("--idle", type=float, help="print how busy the machine was over this many seconds")
    args = parser.parse_args()
    if args.idle:
        busy0, total0 = machine_ticks()
        time.sleep(args.idle)
        busy1, total1 = machine_ticks()
        print(round(100 * (busy1 - busy0) / max(total1 - total0, 1)))
        return
    masters = {k: int(v) for k, v in (m.split("=", 1) for m in args.masters)}
    databases = dict(d.split("=", 1) for d in args.database)
    print("CPU " + json.dumps(snapshot(masters, databases)))


if __name__ == "__main__":
    main()
