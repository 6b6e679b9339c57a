"""The export benchmark of issue [3/7]: prints figures, asserts nothing.

    .venv/bin/python -m benchmarks.export_bench [--sizes 10000 100000] [--rounds 5 3] [--raw-sample 1000]
        [--segment 4 8] [--no-plugin] [--no-codecs] [--also-page-keys 1000] [--no-pin] [--json FILE]

Against one local moto_server (a child process, pinned to a CPU of its own), for each size N of small s3db.js
records:
  - raw GET rate of the same server at the same concurrency, with boto3 threads and obstore threads, and
    the server's CPU per GET; the server CPU of one listing pass, and so the best ratio any backup can reach;
  - backup records/s, the ratio to the fastest raw rate (each round's faster client, and the client faster
    over all rounds of the size), client CPU ms per record, peak RSS of the exporting process (and its
    growth from the first size to the last), the split's share of the time;
    the raw GETs are interleaved with the backup: every `--segment` seconds the exporter is stopped, the
    server finishes what was in flight, `--raw-sample` raw GETs run (the two clients in turn), and the backup
    goes on. This machine's speed drifts by 10% in minutes, more than the margins measured here; baselines
    taken minutes before and after a backup decided its ratio as much as the backup did. `--rounds` backups
    per size, and the round of the median ratio is reported (with every round's figures);
    the backup once more with 1,000-key LIST pages (what AWS gives; moto gives the 10,000 asked for);
then, on the first size, compression ratio and throughput per codec, and the s3db.js 21.6.2 BackupPlugin
on the same data and server (records/s, peak RSS, records its archive really holds, records it restores).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import boto3

from benchmarks.dataset import RESOURCE, make_dataset, record_id
from s3db_backup.config import Settings
from s3db_backup.format.layout import data_dir, record_key
from s3db_backup.local import s3dbjs
from s3db_backup.local.moto_server import DEFAULT_ACCESS_KEY, DEFAULT_SECRET_KEY, MotoServer
from s3db_backup.s3client import make_s3_client

CONCURRENCY = 16
CODECS = ("gzip", "zstd", "brotli", "deflate", "none")
CLIENTS = ("boto3", "obstore")
#: Untimed GETs before each interleaved raw sample (RawClients.sample).
WARM_UP = 4 * CONCURRENCY


def engine_client(server: MotoServer) -> Any:
    """The S3 client the engine builds (botocore, adaptive retries), on the server's credentials."""
    session = boto3.session.Session(aws_access_key_id=DEFAULT_ACCESS_KEY, aws_secret_access_key=DEFAULT_SECRET_KEY,
                                    region_name="us-east-1")
    return make_s3_client(endpoint_url=server.endpoint_url, session=session)


def pin_server_apart(server: MotoServer) -> dict[str, Any]:
    """moto_server on CPU 0, this process and every client it starts (exporter, s3db.js) on the others.

    moto_server stands in for S3, which never shares a CPU with the client. Unpinned on a small machine, a
    busy client thread takes CPU from the server, and the raw GET rate and the backup both become measures
    of the client's CPU as much as of the server's. Pinned, the server's CPU is its own for both."""
    cpus = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
    if len(cpus) < 2 or server.pid is None:
        return {"pinned": False}
    for task in os.listdir(f"/proc/{server.pid}/task"):  # every thread; new ones inherit it
        os.sched_setaffinity(int(task), {cpus[0]})
    os.sched_setaffinity(0, set(cpus[1:]))
    return {"pinned": True, "serverCpus": [cpus[0]], "clientCpus": cpus[1:]}


def server_cpu_seconds(server: MotoServer) -> float:
    """CPU time moto_server has used so far (all its threads); 0 where /proc is not there."""
    try:
        with open(f"/proc/{server.pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except (OSError, TypeError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def sample_totals() -> dict[str, float]:
    """What RawClients.sample adds up for one client."""
    return dict.fromkeys(("keys", "seconds", "cpu", "server", "warmUpServer"), 0.0)


class RawClients:
    """The raw GET baseline: boto3 threads and obstore threads, `CONCURRENCY` in flight, on the dataset's keys
    (taken in turn, so the samples spread over the whole key space); obstore async for the reference block."""

    def __init__(self, server: MotoServer, bucket: str, prefix: str, n: int) -> None:
        import obstore
        from obstore.store import S3Store

        self.server = server
        self.keys = [f"{prefix}/{record_key(RESOURCE, record_id(i))}" for i in range(1, n + 1)]
        self.next = 0
        s3 = engine_client(server)
        store = S3Store(bucket, endpoint=server.endpoint_url, access_key_id=DEFAULT_ACCESS_KEY,
                        secret_access_key=DEFAULT_SECRET_KEY, region="us-east-1", client_options={"allow_http": True})
        pool = ThreadPoolExecutor(CONCURRENCY)

        def boto3_get(key: str) -> bytes:
            return s3.get_object(Bucket=bucket, Key=key)["Body"].read()

        def obstore_get(key: str) -> Any:
            return obstore.get(store, key).bytes()

        async def get_async(keys: list[str]) -> None:
            gate = asyncio.Semaphore(CONCURRENCY)

            async def get(key: str) -> None:
                async with gate:
                    await (await obstore.get_async(store, key)).bytes_async()

            await asyncio.gather(*(get(k) for k in keys))

        #: Each client GETs a list of keys, `CONCURRENCY` in flight, and returns when all are read.
        self.runs: dict[str, Callable[[list[str]], Any]] = {
            "boto3": lambda keys: list(pool.map(boto3_get, keys)),
            "obstore": lambda keys: list(pool.map(obstore_get, keys)),
            "obstoreAsync": lambda keys: asyncio.run(get_async(keys)),
        }

    def sample(self, client: str, count: int, totals: dict[str, float]) -> None:
        """GET the next `count` keys with `client`; add keys, seconds, client CPU and server CPU to `totals`.
        The server has just been idle (drained): WARM_UP GETs run first, untimed, so the sample does not pay
        for waking it up while the backup it is compared with runs warm."""
        server0 = server_cpu_seconds(self.server)
        self.runs[client](self._take(WARM_UP))
        totals["warmUpServer"] += server_cpu_seconds(self.server) - server0
        keys = self._take(count)
        started, cpu0, server0 = time.monotonic(), time.process_time(), server_cpu_seconds(self.server)
        self.runs[client](keys)
        totals["keys"] += count
        totals["seconds"] += time.monotonic() - started
        totals["cpu"] += time.process_time() - cpu0
        totals["server"] += server_cpu_seconds(self.server) - server0

    def reference(self, count: int, turns: int = 3) -> dict[str, float]:
        """Client CPU per GET of the two clients issue [3/7] measured its 1 ms target against (boto3 threads,
        obstore async; both 16 in flight), `turns` x `count` GETs each, in turn: how much slower this machine
        is than that one, measured twice. obstore threads, the backup's getter, is cheaper than either here."""
        totals = {c: sample_totals() for c in ("boto3", "obstoreAsync")}
        for _ in range(turns):
            for client, t in totals.items():
                self.sample(client, count, t)
        return {f"reference{c[0].upper()}{c[1:]}CpuMsPerGet": t["cpu"] / t["keys"] * 1000 for c, t in totals.items()}

    def _take(self, count: int) -> list[str]:
        """The next `count` keys, from the first again after the last."""
        keys = [self.keys[(self.next + i) % len(self.keys)] for i in range(count)]
        self.next += count
        return keys


def drain(server: MotoServer) -> float:
    """Wait until the server is idle (under 5% of a CPU for 0.2 s); the server CPU it used meanwhile."""
    used = 0.0
    while True:
        before = server_cpu_seconds(server)
        time.sleep(0.2)
        spent = server_cpu_seconds(server) - before
        if spent < 0.01:
            return used
        used += spent


def list_pass(server: MotoServer, bucket: str, prefix: str) -> tuple[float, float]:
    """Seconds and server CPU seconds of one listing of the records folder, in pages of the engine's default
    `listPageKeys` (10,000), as SplitUnit lists it. moto_server scans and sorts the whole folder for every
    page, so smaller pages cost more than in proportion."""
    s3 = engine_client(server)
    started, server0 = time.monotonic(), server_cpu_seconds(server)
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=f"{prefix}/{data_dir(RESOURCE)}",
                                                         PaginationConfig={"PageSize": Settings().listPageKeys})
    for _ in pages:
        pass
    return time.monotonic() - started, server_cpu_seconds(server) - server0


def exporter(server: MotoServer, source: str, store: str, compression: str = "gzip",
             list_page_keys: int | None = None) -> subprocess.Popen[str]:
    """The backup in a child process of its own (benchmarks/exporter.py), started."""
    extra = ["--list-page-keys", str(list_page_keys)] if list_page_keys else []
    return subprocess.Popen(
        [sys.executable, "-m", "benchmarks.exporter", "--endpoint", server.endpoint_url, "--source", source,
         "--store", store, "--compression", compression, "--concurrency", str(CONCURRENCY), *extra],
        stdout=subprocess.PIPE, text=True, cwd=Path(__file__).resolve().parents[1],
    )


def exporter_figures(proc: subprocess.Popen[str]) -> dict[str, Any]:
    out, _ = proc.communicate()
    if proc.returncode:
        raise RuntimeError(f"the exporter failed with code {proc.returncode}")
    return json.loads(out.strip().splitlines()[-1])


def export(server: MotoServer, source: str, store: str, compression: str = "gzip",
           list_page_keys: int | None = None) -> dict[str, Any]:
    """One backup, nothing interleaved: its figures."""
    return exporter_figures(exporter(server, source, store, compression, list_page_keys))


def backup_plugin(server: MotoServer, dataset: dict[str, Any]) -> dict[str, Any]:
    """Back up with the plugin, lose every record, restore with the plugin: what comes back?"""
    with tempfile.TemporaryDirectory() as folder:
        base = ["--connection", dataset["connection"], "--dir", folder]
        backup = json.loads(s3dbjs.run_script("bench_backupplugin.mjs", [*base, "--mode", "backup"],
                                              timeout=3600).strip().splitlines()[-1])
        s3 = server.client("s3")
        prefix = f"{dataset['prefix']}/{data_dir(RESOURCE)}"
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=dataset["bucket"], Prefix=prefix):
            keys = [{"Key": o["Key"]} for o in page.get("Contents", [])]
            if keys:
                s3.delete_objects(Bucket=dataset["bucket"], Delete={"Objects": keys, "Quiet": True})
        restore: dict[str, Any] = {"error": "no backup id"}
        if backup["backupId"]:
            restore = json.loads(s3dbjs.run_script("bench_backupplugin.mjs", [*base, "--mode", "restore", "--id",
                                                                             backup["backupId"]],
                                                   timeout=3600).strip().splitlines()[-1])
    return {**backup, "restore": restore}


def measure_round(server: MotoServer, dataset: dict[str, Any], store: str, raw: RawClients, listing: float,
                  listing_cpu: float, segment: float, sample: int) -> dict[str, Any]:
    """One backup with the raw GETs interleaved: every `segment` seconds the exporter is stopped (SIGSTOP),
    the server finishes what was in flight, `sample` raw GETs run (boto3 and obstore in turn), and the
    exporter goes on (SIGCONT). The backup's time is its own wall time less the stops, plus the server time
    its in-flight requests took during them. The server's speed drifts by 10% in minutes on this machine;
    interleaved, the baseline and the backup see the same server within seconds of each other."""
    totals = {c: sample_totals() for c in CLIENTS}
    stops: list[tuple[float, float, float]] = []  # (stopped at, went on at, server time of what was in flight)
    server0 = server_cpu_seconds(server)
    proc = exporter(server, f"s3://{dataset['bucket']}/db", store)
    try:
        while True:
            try:
                proc.wait(timeout=segment)
                break
            except subprocess.TimeoutExpired:
                pass
            paused = time.monotonic()
            proc.send_signal(signal.SIGSTOP)
            if proc.poll() is not None:  # it ended just before the stop
                break
            drained = drain(server)
            client = CLIENTS[len(stops) % len(CLIENTS)]
            raw.sample(client, sample, totals[client])
            proc.send_signal(signal.SIGCONT)
            stops.append((paused, time.monotonic(), drained))
        fig = exporter_figures(proc)
        for client in CLIENTS:  # a backup shorter than a segment or two: its baseline right after it
            if not totals[client]["keys"]:
                raw.sample(client, sample, totals[client])
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGCONT)
            proc.kill()
    raw_server = sum(t["server"] + t["warmUpServer"] for t in totals.values())
    backup_server_cpu = server_cpu_seconds(server) - server0 - raw_server
    seconds = fig["seconds"] - _stopped(stops, *fig["span"])
    split = max((end - start - _stopped(stops, start, end) for start, end in fig["splitSpans"]), default=0.0)
    rates: dict[str, float] = {}
    for client, t in totals.items():
        if t["keys"]:
            rates[f"{client}PerSecond"] = t["keys"] / t["seconds"]
            rates[f"{client}CpuMsPerGet"] = t["cpu"] / t["keys"] * 1000
            rates[f"{client}ServerCpuMsPerGet"] = t["server"] / t["keys"] * 1000
            rates[f"{client}Gets"] = t["keys"]
    best = max(rates.get(f"{c}PerSecond", 0.0) for c in CLIENTS)
    n = fig["records"]
    # What the server must do at least for this backup: every GET at the raw rate, plus one listing pass. A
    # diagnostic beside the ratio, not a replacement for it.
    floor = n / best + listing if best else None
    # The server is one busy CPU, so no backup can beat the GETs' server CPU plus the listing's: the ratio it
    # would reach if that were all the server did and it never waited.
    gets_cpu = n * rates.get("obstoreServerCpuMsPerGet", 0.0) / 1000
    ceiling = gets_cpu / (gets_cpu + listing_cpu) if gets_cpu else None
    return {**rates, "rawSamples": len(stops), "stoppedSeconds": sum(b - a for a, b, _ in stops),
            "drainedServerSeconds": sum(d for _, _, d in stops),
            "listPassSeconds": listing, "listPassServerCpuSeconds": listing_cpu,
            "serverBoundCeiling": ceiling,
            "backupServerCpuMsPerRecord": backup_server_cpu / n * 1000,
            "backupSeconds": seconds,
            "splitSeconds": split,
            "backupRecordsPerSecond": n / seconds,
            "ratioToFastestRawGet": n / seconds / best if best else None,
            "ratioToGetsPlusListing": floor / seconds if floor else None,
            "clientCpuMsPerRecord": fig["cpuSeconds"] / n * 1000,
            "peakRssMiB": fig["peakRssMiB"], "records": n}


def _stopped(stops: list[tuple[float, float, float]], start: float, end: float) -> float:
    """Seconds of the stops within (start, end), less the server time the backup's requests in flight took
    during them: that time was the backup's."""
    total = 0.0
    for stopped, went_on, drained in stops:
        if stopped < end and went_on > start:
            total += min(went_on, end) - max(stopped, start) - drained
    return total


def fastest_client(rounds: list[dict[str, Any]]) -> str:
    """The raw client with the higher mean rate over all rounds of a size: "the fastest client you can find",
    chosen once. Both clients saturate the same server, so a round's faster of the two is mostly the noisier
    sample: the larger of two noisy measures of one rate sits above the rate itself."""
    return max(CLIENTS, key=lambda c: statistics.fmean(r[f"{c}PerSecond"] for r in rounds))


def median_round(rounds: list[dict[str, Any]]) -> dict[str, Any]:
    """The round of the median ratio, with every round's ratio beside it. Peak RSS and client CPU are the
    highest of all rounds: a bound, not a lucky run. The ratio to the fastest client over the run is kept
    beside the ratio to each round's faster client, with its own median."""
    client = fastest_client(rounds)
    for r in rounds:
        r["ratioToFastestClient"] = r["backupRecordsPerSecond"] / r[f"{client}PerSecond"]
    ordered = sorted(rounds, key=lambda r: r["ratioToFastestRawGet"])
    entry = dict(ordered[(len(ordered) - 1) // 2])
    entry["rounds"] = [{k: r[k] for k in ("boto3PerSecond", "obstorePerSecond", "backupRecordsPerSecond",
                                          "ratioToFastestRawGet", "ratioToFastestClient", "splitSeconds",
                                          "peakRssMiB", "obstoreServerCpuMsPerGet", "backupServerCpuMsPerRecord",
                                          "serverBoundCeiling", "clientCpuMsPerRecord", "rawSamples",
                                          "boto3Gets", "obstoreGets", "stoppedSeconds")} for r in rounds]
    entry["fastestClient"] = client
    entry["ratioToFastestClient"] = statistics.median(r["ratioToFastestClient"] for r in rounds)
    entry["peakRssMiB"] = max(r["peakRssMiB"] for r in rounds)
    entry["clientCpuMsPerRecord"] = max(r["clientCpuMsPerRecord"] for r in rounds)
    return entry


def per_size(sizes: list[int], values: list[Any]) -> dict[int, Any]:
    """An option given per size: one value for every size, or one per size."""
    return dict(zip(sizes, values if len(values) > 1 else values * len(sizes), strict=True))


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    p.add_argument("--raw-sample", type=int, default=1000, help="keys read by each interleaved raw GET sample")
    p.add_argument("--segment", type=float, nargs="+", default=[4.0, 8.0],
                   help="seconds the backup runs between two raw GET samples, per size (one value: every size); "
                        "shorter at 10,000 so its shorter backup still gets a dozen samples")
    p.add_argument("--no-plugin", action="store_true")
    p.add_argument("--no-codecs", action="store_true")
    p.add_argument("--rounds", type=int, nargs="+", default=[5, 3],
                   help="backups per size (one value: every size), each with raw GET samples interleaved; the "
                        "figures are the median round's")
    p.add_argument("--no-pin", action="store_true", help="leave moto_server and the clients on shared CPUs")
    p.add_argument("--json", type=Path, help="also write every figure to this file")
    p.add_argument("--also-page-keys", type=int, default=1000,
                   help="export each size once more with this listPageKeys (AWS's page size); 0: skip")
    args = p.parse_args()
    results: dict[str, Any] = {
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform(),
                    "loadAverageAtStart": os.getloadavg()},
        "concurrency": CONCURRENCY, "sizes": {},
    }
    say = lambda text: print(text, flush=True)  # noqa: E731
    with MotoServer(log_path=Path(tempfile.gettempdir()) / "bench-moto_server.log") as server:
        results["machine"]["pinning"] = pin_server_apart(server) if not args.no_pin else {"pinned": False}
        store_bucket = server.create_bucket("bench-store")
        rounds_of = per_size(args.sizes, args.rounds)
        segment_of = per_size(args.sizes, args.segment)
        for n in args.sizes:
            say(f"== {n:,} records")
            started = time.monotonic()
            dataset = make_dataset(server, f"bench-{n}", "db", n)
            say(f"   dataset written in {time.monotonic() - started:.0f} s")
            listing, listing_cpu = list_pass(server, dataset["bucket"], "db")
            rounds = []
            raw = RawClients(server, dataset["bucket"], "db", n)
            for k in range(rounds_of[n]):
                r = measure_round(server, dataset, f"s3://{store_bucket}/n{n}-r{k}", raw, listing, listing_cpu,
                                  segment_of[n], args.raw_sample)
                rounds.append(r)
                say(f"   round {k + 1}: {r['rawSamples']} raw samples; raw GET/s boto3 {r['boto3PerSecond']:.0f}, "
                    f"obstore {r['obstorePerSecond']:.0f}; backup {r['backupRecordsPerSecond']:.0f} records/s, "
                    f"ratio {r['ratioToFastestRawGet']:.3f}; server ms CPU per GET "
                    f"{r['obstoreServerCpuMsPerGet']:.2f}, per backed-up record "
                    f"{r['backupServerCpuMsPerRecord']:.2f}; client ms CPU/record {r['clientCpuMsPerRecord']:.2f}")
            entry = median_round(rounds)
            entry.update(raw.reference(args.raw_sample))
            say(f"   reference clients: boto3 threads {entry['referenceBoto3CpuMsPerGet']:.2f} ms CPU/GET, obstore "
                f"async {entry['referenceObstoreAsyncCpuMsPerGet']:.2f}")
            if args.also_page_keys:
                small = export(server, f"s3://{dataset['bucket']}/db", f"s3://{store_bucket}/n{n}-pages",
                               list_page_keys=args.also_page_keys)
                best = max(entry["boto3PerSecond"], entry["obstorePerSecond"])
                entry["smallPages"] = {"listPageKeys": args.also_page_keys, "backupSeconds": small["seconds"],
                                       "splitSeconds": small["splitSeconds"],
                                       "backupRecordsPerSecond": small["records"] / small["seconds"],
                                       "ratioToFastestRawGet": small["records"] / small["seconds"] / best,
                                       "peakRssMiB": small["peakRssMiB"]}
            results["sizes"][str(n)] = entry
            say(f"   median round: raw GET/s boto3 {entry['boto3PerSecond']:.0f} ({entry['boto3CpuMsPerGet']:.2f} ms "
                f"CPU), obstore {entry['obstorePerSecond']:.0f} ({entry['obstoreCpuMsPerGet']:.2f} ms CPU)")
            say(f"   one listing pass of the {n:,} keys, page by page under the folder: {listing:.1f} s "
                f"({listing_cpu:.1f} s server CPU); server CPU per GET {entry['obstoreServerCpuMsPerGet']:.2f} ms: "
                f"a backup can reach at most ratio {entry['serverBoundCeiling'] or 0:.2f} on this server")
            say(f"   backup: {entry['backupRecordsPerSecond']:.0f} records/s, "
                f"ratio {entry['ratioToFastestRawGet']:.2f} (median over rounds to the fastest client of the run, "
                f"{entry['fastestClient']}: {entry['ratioToFastestClient']:.3f}; to GETs + 1 listing: "
                f"{entry['ratioToGetsPlusListing']:.2f}), split {entry['splitSeconds']:.1f} s, "
                f"{entry['clientCpuMsPerRecord']:.2f} ms CPU/record, peak RSS {entry['peakRssMiB']:.1f} MiB, "
                f"server {entry['backupServerCpuMsPerRecord']:.2f} ms CPU/record")
            if "smallPages" in entry:
                sp = entry["smallPages"]
                say(f"   with listPageKeys {sp['listPageKeys']}: {sp['backupRecordsPerSecond']:.0f} records/s, "
                    f"ratio {sp['ratioToFastestRawGet']:.2f}, split {sp['splitSeconds']:.1f} s, "
                    f"peak RSS {sp['peakRssMiB']:.1f} MiB")
            if n == args.sizes[0]:
                first = dataset
        sizes = [results["sizes"][str(n)] for n in args.sizes]
        if len(sizes) > 1:
            results["rssGrowthMiB"] = sizes[-1]["peakRssMiB"] - sizes[0]["peakRssMiB"]
            say(f"peak RSS growth {args.sizes[0]:,} -> {args.sizes[-1]:,}: {results['rssGrowthMiB']:.1f} MiB")
        if not args.no_codecs:
            results["codecs"] = {}
            for codec in CODECS:
                fig = export(server, f"s3://{first['bucket']}/db", f"s3://{store_bucket}/codec-{codec}", codec)
                results["codecs"][codec] = {"ratio": fig["rawBytes"] / fig["bytes"] if fig["bytes"] else None,
                                            "recordsPerSecond": fig["records"] / fig["seconds"],
                                            "cpuMsPerRecord": fig["cpuSeconds"] / fig["records"] * 1000,
                                            "bytes": fig["bytes"], "rawBytes": fig["rawBytes"]}
                c = results["codecs"][codec]
                say(f"codec {codec:8} ratio {c['ratio'] or 0:5.2f}x  {c['recordsPerSecond']:6.0f} records/s  "
                    f"{c['cpuMsPerRecord']:.2f} ms CPU/record")
        if not args.no_plugin:
            plugin = backup_plugin(server, first)
            plugin["readableRecordsPerSecond"] = plugin["recordsReadableInArchive"] / plugin["seconds"]
            results["backupPlugin"] = plugin
            restore = plugin["restore"]
            say(f"s3db.js BackupPlugin on {first['records']:,} records: reported success={plugin['reportedSuccess']}, "
                f"{plugin['seconds']:.1f} s, peak RSS {plugin['peakRssMiB']:.0f} MiB, records readable in its archive "
                f"{plugin['recordsReadableInArchive']:,}; after losing the records, its restore reported "
                f"success={restore.get('reportedSuccess')} and left {restore.get('recordsAfterRestore')} records"
                + (f" (error: {restore['error']})" if restore.get("error") else ""))
    results["machine"]["loadAverageAtEnd"] = os.getloadavg()
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
