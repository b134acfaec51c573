#!/usr/bin/env python3
"""Resident memory of a running `detr serve` before, during and 30 s after a burst of large images.

Posts WAVES waves of CONCURRENT copies of one generated SIDExSIDE PNG to /v1/detect on loopback
(after one small warm-up request), samples the server's VmRSS every 50 ms while a wave runs, and
prints one JSON line: the statuses and the RSS (MiB) before, at the peak, at the end and 30 s later.
Start the server with a --max-megapixels that admits the image. Standard library only.
"""
import argparse, http.client, json, os, sys, threading, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from soak import pattern_png  # noqa: E402


def rss_mib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) // 1024


def post(port, body, out, i):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    try:
        c.request("POST", "/v1/detect", body=body, headers={"Content-Type": "image/png"})
        r = c.getresponse()
        r.read()
        out[i] = r.status
    except OSError as e:
        out[i] = type(e).__name__
    finally:
        c.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pid", type=int, required=True, help="the server's process id")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--side", type=int, default=6000, help="image width and height (16-20000)")
    ap.add_argument("--concurrent", type=int, default=8, help="requests per wave (1-64)")
    ap.add_argument("--waves", type=int, default=2, help="(1-20)")
    ap.add_argument("--label", default="")
    a = ap.parse_args()
    side = max(16, min(a.side, 20000))
    concurrent = max(1, min(a.concurrent, 64))
    waves = max(1, min(a.waves, 20))
    image = pattern_png(side, side)
    small = {}
    post(a.port, pattern_png(640, 480), small, 0)
    before = rss_mib(a.pid)
    peak = before
    statuses = {}
    for _ in range(waves):
        out = {}
        threads = [threading.Thread(target=post, args=(a.port, image, out, i)) for i in range(concurrent)]
        for t in threads:
            t.start()
        while any(t.is_alive() for t in threads):
            peak = max(peak, rss_mib(a.pid))
            time.sleep(0.05)
        for s in out.values():
            statuses[str(s)] = statuses.get(str(s), 0) + 1
    end = rss_mib(a.pid)
    time.sleep(30)
    after = rss_mib(a.pid)
    print(json.dumps({"label": a.label, "image": f"{side}x{side}", "png_bytes": len(image),
                      "concurrent": concurrent, "waves": waves, "statuses": statuses,
                      "rss_mib": {"before": before, "peak": peak, "end": end, "after_30s": after}}))


if __name__ == "__main__":
    main()
