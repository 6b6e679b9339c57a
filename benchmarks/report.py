"""Markdown tables from one export_bench result file, for docs/performance.md (no figure typed by hand).

    .venv/bin/python -m benchmarks.report benchmarks/results/export-YYYY-MM-DD.json
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

#: Client CPU of one boto3 GET (threads, 16 in flight) on the machine issue [3/7] set its targets on.
REFERENCE_BOTO3_MS_PER_GET = 1.63
#: ... and of one obstore GET (async, 16 in flight) on that machine.
REFERENCE_OBSTORE_ASYNC_MS_PER_GET = 0.60


def _fastest_client(entry: dict[str, Any]) -> str:
    """The median ratio to the client faster over every round, and which client that was (runs before the
    figure existed: a dash)."""
    if "ratioToFastestClient" not in entry:
        return "-"
    return f"{entry['ratioToFastestClient']:.3f} ({entry['fastestClient']})"


def render(results: dict[str, Any]) -> str:
    m = results["machine"]
    out = [
        f"Machine: {m['cpus']} CPUs, Python {m['python']}, {m['platform']}; load average "
        f"{m['loadAverageAtStart'][0]:.2f} at start, {m['loadAverageAtEnd'][0]:.2f} at end. "
        f"{results['concurrency']} GETs in flight. "
        + ("moto_server pinned to CPU(s) {}, the clients to {}.".format(m["pinning"]["serverCpus"],
                                                                        m["pinning"]["clientCpus"])
           if m.get("pinning", {}).get("pinned") else "moto_server and the clients share the CPUs."),
        "",
        "| N | raw GET/s boto3 (ms CPU/GET) | raw GET/s obstore (ms CPU/GET) | one listing pass | backup records/s "
        "| ratio to fastest raw GET | ratio to the run's fastest client (median) | ratio to GETs + 1 listing "
        "| of it, SplitUnit | client ms CPU/record | peak RSS MiB |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for n, e in results["sizes"].items():
        out.append(
            f"| {int(n):,} | {e['boto3PerSecond']:.0f} ({e['boto3CpuMsPerGet']:.2f}) "
            f"| {e['obstorePerSecond']:.0f} ({e['obstoreCpuMsPerGet']:.2f}) | {e.get('listPassSeconds', 0):.1f} s "
            f"| {e['backupRecordsPerSecond']:.0f} | {e['ratioToFastestRawGet']:.2f} "
            f"| {_fastest_client(e)} "
            f"| {e.get('ratioToGetsPlusListing', 0):.2f} | {e.get('splitSeconds', 0):.1f} s "
            f"| {e['clientCpuMsPerRecord']:.2f} | {e['peakRssMiB']:.1f} |"
        )
    rounds = {n: e["rounds"] for n, e in results["sizes"].items() if len(e.get("rounds", [])) > 1}
    if rounds:
        interleaved = any("rawSamples" in r for rs in rounds.values() for r in rs)
        out += ["", "Every round (the table above shows the round of the median ratio). " + (
                    "Each backup's raw rates come from the raw samples interleaved with it:" if interleaved else
                    "Each backup's raw rates are the mean of those measured just before and just after it:"), "",
                "| N | round | raw GET/s boto3 | raw GET/s obstore | backup records/s | ratio | ratio to the run's "
                "fastest client | server ms CPU per GET | server ms CPU per backed-up record | client ms CPU/record "
                "| SplitUnit | peak RSS MiB |",
                "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
        out += [f"| {int(n):,} | {k + 1} | {r['boto3PerSecond']:.0f} | {r['obstorePerSecond']:.0f} "
                f"| {r['backupRecordsPerSecond']:.0f} | {r['ratioToFastestRawGet']:.3f} "
                + (f"| {r['ratioToFastestClient']:.3f} " if "ratioToFastestClient" in r else "| - ")
                + f"| {r.get('obstoreServerCpuMsPerGet', 0):.2f} | {r.get('backupServerCpuMsPerRecord', 0):.2f} "
                f"| {r.get('clientCpuMsPerRecord', 0):.2f} | {r['splitSeconds']:.1f} s | {r['peakRssMiB']:.1f} |"
                for n, rs in rounds.items() for k, r in enumerate(rs)]
    out += _reference_machine(results["sizes"])
    server = {n: e for n, e in results["sizes"].items() if "serverBoundCeiling" in e}
    if server:
        out += ["", "Where moto_server's CPU goes (it serves one request at a time, so its CPU is the budget):", "",
                "| N | server ms CPU per raw GET | server CPU of one listing pass | best ratio any backup can reach "
                "| server ms CPU per backed-up record | backup's ratio |",
                "|---:|---:|---:|---:|---:|---:|"]
        out += [f"| {int(n):,} | {e['obstoreServerCpuMsPerGet']:.2f} | {e['listPassServerCpuSeconds']:.1f} s "
                f"| {e['serverBoundCeiling']:.3f} | {e['backupServerCpuMsPerRecord']:.2f} "
                f"| {e['ratioToFastestRawGet']:.3f} |" for n, e in server.items()]
    small = {n: e["smallPages"] for n, e in results["sizes"].items() if "smallPages" in e}
    if small:
        keys = next(iter(small.values()))["listPageKeys"]
        out += ["", f"The same backups with `listPageKeys` {keys:,} (the page AWS gives):", "",
                "| N | backup records/s | ratio to fastest raw GET | of it, SplitUnit | peak RSS MiB |",
                "|---:|---:|---:|---:|---:|"]
        out += [f"| {int(n):,} | {e['backupRecordsPerSecond']:.0f} | {e['ratioToFastestRawGet']:.2f} "
                f"| {e['splitSeconds']:.1f} s | {e['peakRssMiB']:.1f} |" for n, e in small.items()]
    if "rssGrowthMiB" in results:
        out += ["", f"Peak RSS growth from the first size to the last: {results['rssGrowthMiB']:+.1f} MiB."]
    if "codecs" in results:
        out += ["", "| codec | compression ratio | records/s | client ms CPU/record | bytes |",
                "|---|---:|---:|---:|---:|"]
        for name, c in results["codecs"].items():
            out.append(f"| {name} | {c['ratio'] or 0:.2f}x | {c['recordsPerSecond']:.0f} | {c['cpuMsPerRecord']:.2f} "
                       f"| {c['bytes']:,} |")
    if "backupPlugin" in results:
        p = results["backupPlugin"]
        r = p["restore"]
        out += ["", "| s3db.js 21.6.2 BackupPlugin | figure |", "|---|---:|",
                f"| records in the source | {p['recordsInSource']:,} |",
                f"| reported success | {p['reportedSuccess']} |",
                f"| seconds | {p['seconds']:.1f} |",
                f"| peak RSS MiB | {p['peakRssMiB']:.0f} |",
                f"| archive files / bytes | {p['archiveFiles']} / {p['archiveBytes']:,} |",
                f"| records readable in its archive | {p['recordsReadableInArchive']:,} |",
                f"| its restore reported success | {r.get('reportedSuccess')} |",
                f"| records after its restore | {r.get('recordsAfterRestore')} |"]
    return "\n".join(out) + "\n"


def _reference_machine(sizes: dict[str, Any]) -> list[str]:
    """Client CPU per record carried to the machine issue [3/7] set its 1 ms on, by the two clients it measured
    there, each measured here in the same run (older result files: boto3 from the raw samples alone)."""
    if all("referenceBoto3CpuMsPerGet" in e for e in sizes.values()):
        out = ["", "Client CPU against the machine: issue [3/7] sets its 1 ms target on a machine where a GET "
                   f"costs {REFERENCE_BOTO3_MS_PER_GET} ms of client CPU with boto3 threads and "
                   f"{REFERENCE_OBSTORE_ASYNC_MS_PER_GET:.2f} ms with obstore async (16 in flight). The run measures "
                   "both clients here after each size's rounds (3 x the raw sample each, in turn), so the machine's "
                   "speed is measured twice and a record's CPU carried to that machine by each:", "",
               "| N | client ms CPU/record (highest round) | boto3 threads ms CPU/GET | obstore async ms CPU/GET "
               "| this machine slower by (boto3 / obstore async) | on the reference machine (by boto3 / by obstore "
               "async) |",
               "|---:|---:|---:|---:|---:|---:|"]
        for n, e in sizes.items():
            cpu, boto3, aio = (e["clientCpuMsPerRecord"], e["referenceBoto3CpuMsPerGet"],
                               e["referenceObstoreAsyncCpuMsPerGet"])
            slower = (boto3 / REFERENCE_BOTO3_MS_PER_GET, aio / REFERENCE_OBSTORE_ASYNC_MS_PER_GET)
            out.append(f"| {int(n):,} | {cpu:.2f} | {boto3:.2f} | {aio:.2f} | {slower[0]:.2f}x / {slower[1]:.2f}x "
                       f"| {cpu / slower[0]:.2f} / {cpu / slower[1]:.2f} ms |")
        return out
    out = ["", "Client CPU against the machine: issue [3/7] sets its 1 ms target on a machine where a boto3 GET "
               f"costs {REFERENCE_BOTO3_MS_PER_GET} ms of client CPU (16 threads); the same raw runs measure that "
               "cost here, so a record's CPU can be read in boto3 GETs and carried to that machine:", "",
           "| N | client ms CPU/record (highest round) | boto3 ms CPU per raw GET | obstore ms CPU per raw GET "
           "| a record's CPU in boto3 GETs | on the reference machine |",
           "|---:|---:|---:|---:|---:|---:|"]
    return out + [f"| {int(n):,} | {e['clientCpuMsPerRecord']:.2f} | {e['boto3CpuMsPerGet']:.2f} "
                  f"| {e['obstoreCpuMsPerGet']:.2f} | {e['clientCpuMsPerRecord'] / e['boto3CpuMsPerGet']:.2f} "
                  f"| {e['clientCpuMsPerRecord'] / e['boto3CpuMsPerGet'] * REFERENCE_BOTO3_MS_PER_GET:.2f} ms |"
                  for n, e in sizes.items()]


if __name__ == "__main__":
    sys.stdout.write(render(json.loads(Path(sys.argv[1]).read_text())))
