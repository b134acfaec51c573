#!/usr/bin/env python3
"""A bounded flood of stalled connections against `detr serve` on loopback.

Opens N connections (at most 20000) that each send a partial request head and then nothing, as
fast as the client can, while a probe asks GET /healthz every 0.2 s on fresh connections. Reports
the probe's answers and latencies during the flood, the server's open connections, shed and
timed-out counts (/metrics), resident memory and descriptors, and whether everything was closed
afterwards. Loopback only; standard library only.
"""
import argparse, http.client, json, resource, socket, threading, time


def status(pid, field):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])


def fds(pid):
    import os
    return len(os.listdir(f"/proc/{pid}/fd"))


def metrics(port):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    c.request("GET", "/metrics")
    text = c.getresponse().read().decode()
    c.close()
    return {l.split(" ")[0]: float(l.split(" ")[1]) for l in text.splitlines()
            if l.startswith(("detr_open_connections", "detr_shed", "detr_timed_out"))}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--pid", type=int, required=True)
    ap.add_argument("--connections", type=int, default=20000)
    ap.add_argument("--json")
    ap.add_argument("--label", default="")
    a = ap.parse_args()
    n = max(1, min(a.connections, 20000))
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    n = min(n, hard - 512)  # the probe and /proc reads need descriptors too
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    before = {"rss_kib": status(a.pid, "VmRSS"), "fds": fds(a.pid)}
    socks, errors = [], {}
    done = threading.Event()

    def flood():
        for _ in range(n):
            try:
                s = socket.create_connection(("127.0.0.1", a.port), timeout=5)
                s.sendall(b"POST /v1/detect HTTP/1.1\r\nHost: x\r\nContent-Le")
                socks.append(s)
            except OSError as e:
                errors[type(e).__name__] = errors.get(type(e).__name__, 0) + 1
        done.set()

    probes, peak = [], dict(before)
    t = threading.Thread(target=flood, daemon=True)
    start = time.monotonic()
    t.start()
    while not done.is_set() or time.monotonic() - start < 5:
        t0 = time.monotonic()
        try:
            c = http.client.HTTPConnection("127.0.0.1", a.port, timeout=10)
            c.request("GET", "/healthz")
            code = c.getresponse().status
            c.close()
        except OSError as e:
            code = type(e).__name__
        probes.append((code, time.monotonic() - t0))
        peak["rss_kib"] = max(peak["rss_kib"], status(a.pid, "VmRSS"))
        peak["fds"] = max(peak["fds"], fds(a.pid))
        time.sleep(0.2)
        if time.monotonic() - start > 120:
            break
    flood_seconds = time.monotonic() - start
    m_during = metrics(a.port)
    time.sleep(12)  # past the header timeout: every stalled connection must be closed
    closed = 0
    for s in socks:
        s.settimeout(0.01)
        try:
            if s.recv(1) == b"":
                closed += 1
        except OSError:
            closed += 1
        s.close()
    m_after = metrics(a.port)
    ok = [p for p in probes if p[0] == 200]
    lat = sorted(p[1] for p in ok)
    result = {
        "label": a.label, "connections_opened": len(socks), "connect_errors": errors,
        "flood_seconds": round(flood_seconds, 1),
        "healthz": {"probes": len(probes), "ok": len(ok),
                    "failures": {str(k): sum(1 for p in probes if p[0] == k) for k in {p[0] for p in probes if p[0] != 200}},
                    "p50_ms": round(1000 * lat[len(lat) // 2], 1) if lat else None,
                    "max_ms": round(1000 * lat[-1], 1) if lat else None},
        "closed_by_server_after_12s": closed, "metrics_during": m_during, "metrics_after": m_after,
        "server": {"before": before, "peak": peak, "after": {"rss_kib": status(a.pid, "VmRSS"), "fds": fds(a.pid)}},
    }
    print(json.dumps(result, indent=1))
    if a.json:
        with open(a.json, "a") as f:
            f.write(json.dumps(result) + "\n")


if __name__ == "__main__":
    main()
