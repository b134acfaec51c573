#!/usr/bin/env python3
"""A bounded load test of `detr serve` on loopback.

N clients (at most 64) post one image to POST /v1/detect in a loop for T seconds (at most 600),
each on its own keep-alive connection. Reports throughput, p50/p99 latency, statuses, the batch
sizes the server ran (from /metrics) and the server's resident memory after warm-up and at the end.
Only loopback addresses are accepted. Standard library only.
"""
import argparse
import http.client
import ipaddress
import json
import socket
import threading
import time
import urllib.parse


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return None


def metric_lines(host, port, prefix):
    conn = http.client.HTTPConnection(host, port, timeout=30)
    conn.request("GET", "/metrics")
    text = conn.getresponse().read().decode()
    conn.close()
    return {l.split(" ")[0]: float(l.split(" ")[1]) for l in text.splitlines() if l.startswith(prefix)}


def post(conn, path, body):
    conn.request("POST", path, body=body, headers={"Content-Type": "application/octet-stream"})
    response = conn.getresponse()
    response.read()
    return response.status


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", default="http://127.0.0.1:8080")
    ap.add_argument("--image", required=True)
    ap.add_argument("--clients", type=int, default=16)
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--warmup", type=float, default=15,
                    help="seconds of the same concurrent load before measuring (fills batches and the allocator)")
    ap.add_argument("--pid", type=int, help="the server's process id, for resident memory")
    ap.add_argument("--label", default="")
    ap.add_argument("--json", help="append the result as one JSON line to this file")
    args = ap.parse_args()
    clients = max(1, min(args.clients, 64))
    seconds = max(1.0, min(args.seconds, 600.0))
    url = urllib.parse.urlparse(args.url)
    host, port = url.hostname, url.port or 80
    address = ipaddress.ip_address(socket.gethostbyname(host))
    if not address.is_loopback:
        raise SystemExit(f"refusing {host}: the load test only targets loopback")
    body = open(args.image, "rb").read()

    def load(until):
        conn = http.client.HTTPConnection(host, port, timeout=600)
        while time.monotonic() < until:
            try:
                post(conn, "/v1/detect", body)
            except Exception:  # noqa: BLE001 - warm-up failures show up again in the measured run
                conn.close()
                conn = http.client.HTTPConnection(host, port, timeout=600)
        conn.close()

    warm_until = time.monotonic() + max(0.0, args.warmup)
    warmers = [threading.Thread(target=load, args=(warm_until,)) for _ in range(clients)]
    for t in warmers:
        t.start()
    for t in warmers:
        t.join()
    before = metric_lines(host, port, "detr_batch_size")
    rss_start = rss_kib(args.pid) if args.pid else None

    latencies, statuses, errors = [], {}, []
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds

    def client():
        conn = http.client.HTTPConnection(host, port, timeout=600)
        while time.monotonic() < stop_at:
            t0 = time.monotonic()
            try:
                status = post(conn, "/v1/detect", body)
            except Exception as e:  # noqa: BLE001 - every failure is counted and reported
                with lock:
                    errors.append(repr(e))
                conn.close()
                conn = http.client.HTTPConnection(host, port, timeout=600)
                continue
            dt = time.monotonic() - t0
            with lock:
                statuses[status] = statuses.get(status, 0) + 1
                if status == 200:
                    latencies.append(dt)
            if status == 503:
                time.sleep(0.05)
        conn.close()

    started = time.monotonic()
    threads = [threading.Thread(target=client) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - started
    rss_end = rss_kib(args.pid) if args.pid else None
    after = metric_lines(host, port, "detr_batch_size")

    latencies.sort()

    def pct(p):
        return latencies[min(len(latencies) - 1, int(p / 100 * len(latencies)))] if latencies else float("nan")

    batches = after.get("detr_batch_size_count", 0) - before.get("detr_batch_size_count", 0)
    images = after.get("detr_batch_size_sum", 0) - before.get("detr_batch_size_sum", 0)
    histogram = {}
    previous = 0.0
    for key in sorted((k for k in after if k.startswith("detr_batch_size_bucket")), key=lambda k: float(
            k.split('le="')[1].rstrip('"}').replace("+Inf", "inf"))):
        cumulative = after[key] - before.get(key, 0)
        size = key.split('le="')[1].rstrip('"}')
        if size != "+Inf" and cumulative - previous > 0:
            histogram[size.replace(".0", "")] = int(cumulative - previous)
        previous = cumulative
    result = {
        "label": args.label, "clients": clients, "seconds": round(elapsed, 1),
        "ok": len(latencies), "statuses": statuses, "errors": len(errors), "first_errors": errors[:3],
        "throughput_rps": round(len(latencies) / elapsed, 2),
        "p50_ms": round(pct(50) * 1000, 1), "p99_ms": round(pct(99) * 1000, 1),
        "batches": int(batches), "mean_batch": round(images / batches, 2) if batches else None,
        "batch_histogram": histogram,
        "rss_start_mib": round(rss_start / 1024, 1) if rss_start else None,
        "rss_end_mib": round(rss_end / 1024, 1) if rss_end else None,
    }
    print(json.dumps(result))
    if args.json:
        with open(args.json, "a") as f:
            f.write(json.dumps(result) + "\n")


if __name__ == "__main__":
    main()
