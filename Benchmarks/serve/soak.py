#!/usr/bin/env python3
"""A bounded soak test of `detr serve` on loopback.

N clients (at most 64) run for T seconds (at most 600). Each client loops over a mix of request
kinds drawn by its own seeded RNG (--seed, one stream per client):

  normal          POST /v1/detect, a normal PNG (raw body, image/png)             expect 200
  large_4000      a 4000x4000 PNG (16 Mpx, under the default 50 Mpx limit)        expect 200
  huge_20000      a 20000x20000 PNG of zeros, about 390 KB compressed             expect 400 (pixel limit)
  narrow_1x300    a 1x300 PNG                                                     expect 200
  narrow_300x1    a 300x1 PNG                                                     expect 200
  random_bytes    1-4096 random bytes as image/png                                expect 400
  truncated_png   the normal PNG cut short                                        expect 400
  bad_chunked     raw socket, Transfer-Encoding: chunked, chunk size line "zz"    expect 400
  unknown_method  raw socket, "FROB /v1/detect HTTP/1.1"                          expect 400
  expect_100      raw socket, Expect: 100-continue, the body sent once "100 Continue"
                  arrives (or after 2 s without it)                               expect "100+200"
  stalled         raw socket, the request line and part of a header, then nothing; watched (by one
                  thread, not the client) until the server closes it or --stall-seconds pass; at
                  most 4 per client (64 in all) are open at once, more are skipped and counted
                                                                                  expect "closed" (or 408)
  aborted         raw socket, Content-Length: 100000, 1000 body bytes, then closed  expect "sent"

Outcomes are HTTP statuses, or "closed" (the server closed without answering), "timeout" (no answer
within the socket timeout; for stalled: still open after --stall-seconds), "sent", or
"error:<ExceptionType>". A failure is an outcome other than the expected one; a 503 carrying
Retry-After (queue full) is counted apart as "503 by design". Latency percentiles are over the
requests that got an HTTP answer (any status); the headline normal p50/p99 is over the normal
requests answered 200.

Server resident memory (VmRSS from /proc/PID/status, KiB), open descriptors and threads are read
after a warm-up of a few concurrent normal requests, at the end of the soak and 30 s later; GET
/healthz is asked at the end and 30 s later; /metrics (requests by status, cancelled requests,
batches) is read before and after; the client's own CPU time is reported. Every socket has a timeout
and the whole run is bounded: making the images (a few seconds), the warm-up, T, at most 40 s more
for requests in flight, then 30 s (--stall-seconds + 5 while stalled connections are still watched).
Only loopback addresses are accepted. Standard library only.

Exit status: 0 when the soak ran and the server answered /healthz 200 at the end, 3 when it did not.
"""
import argparse
import http.client
import ipaddress
import json
import os
import random
import resource
import selectors
import socket
import struct
import sys
import threading
import time
import urllib.parse
import zlib

HTTP_TIMEOUT = 30.0  # seconds for one HTTP request (connect, send, answer)
RAW_TIMEOUT = 10.0  # seconds a raw-socket request waits for its answer
EXPECT_WAIT = 2.0  # seconds an Expect: 100-continue request waits for "100 Continue"
MAX_RESPONSE = 4 << 20  # bytes of a response read at most
POST_SOAK_WAIT = 30.0  # seconds between the end reading and the after reading

# name: (group, expected outcomes, weight in the mix)
KINDS = {
    "normal": ("normal", (200,), 50),
    "large_4000": ("huge", (200,), 1),
    "huge_20000": ("huge", (400,), 4),
    "narrow_1x300": ("narrow", (200,), 3),
    "narrow_300x1": ("narrow", (200,), 3),
    "random_bytes": ("malformed", (400,), 4),
    "truncated_png": ("malformed", (400,), 4),
    "bad_chunked": ("malformed", (400,), 4),
    "unknown_method": ("malformed", (400,), 4),
    "expect_100": ("protocol", ("100+200",), 2),
    "stalled": ("stalled", ("closed", 408), 3),
    "aborted": ("aborted", ("sent",), 4),
}


# MARK: Images

def png_chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def png(width, height, color_type, rows, level=6):
    """A PNG from an iterable of filtered rows (each: filter byte 0 + pixels)."""
    z = zlib.compressobj(level)
    idat = b"".join(z.compress(r) for r in rows) + z.flush()
    return (b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, color_type, 0, 0, 0))
            + png_chunk(b"IDAT", idat) + png_chunk(b"IEND", b""))


def pattern_png(width, height):
    """An RGB PNG of bands and blocks, built from a few distinct rows (cheap at any size)."""
    def row(k):
        tile = bytes((40 * k % 256, 120, 200)) * 150 + bytes((90, 90 + 30 * k % 160, 60)) * 150
        return b"\x00" + (tile * (width // 300 + 1))[: 3 * width]
    distinct = [row(k) for k in range(4)]
    return png(width, height, 2, (distinct[(y // 120) % 4] for y in range(height)))


def zeros_png(width, height):
    """A grayscale PNG of zeros: a large header with a small, valid body (level 9)."""
    zero_row = bytes(width + 1)
    block = zero_row * max(1, (1 << 20) // len(zero_row))
    rows_per_block = len(block) // len(zero_row)
    full, rest = divmod(height, rows_per_block)
    return png(width, height, 0, [block] * full + [zero_row * rest], level=9)


# MARK: The server

def rss_kib(pid):
    return proc_status(pid, "VmRSS:")


def proc_status(pid, field):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(field):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def open_fds(pid):
    try:
        return len(os.listdir(f"/proc/{pid}/fd"))
    except OSError:
        return None


def alive(pid):
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False
    except PermissionError:
        return True


def percentile(sorted_values, p):
    if not sorted_values:
        return None
    return sorted_values[min(len(sorted_values) - 1, int(p / 100 * len(sorted_values)))]


def ms(seconds):
    return None if seconds is None else round(seconds * 1000, 1)


def parse_metrics(text):
    """name{labels} -> value for every sample line."""
    samples = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        key, _, value = line.rpartition(" ")
        try:
            samples[key] = float(value)
        except ValueError:
            pass
    return samples


def metrics_delta(before, after):
    if before is None or after is None:
        return None
    statuses = {}
    for key, value in after.items():
        if key.startswith("detr_http_requests_total{"):
            status = key.split('status="')[1].split('"')[0] if 'status="' in key else key
            d = value - before.get(key, 0)
            if d:
                statuses[status] = int(d)
    batches = after.get("detr_batch_size_count", 0) - before.get("detr_batch_size_count", 0)
    images = after.get("detr_batch_size_sum", 0) - before.get("detr_batch_size_sum", 0)
    return {
        "http_requests_by_status": dict(sorted(statuses.items())),
        "cancelled_requests": int(after.get("detr_cancelled_requests_total", 0)
                                  - before.get("detr_cancelled_requests_total", 0)),
        "batches": int(batches), "mean_batch": round(images / batches, 2) if batches else None,
        "queue_depth": after.get("detr_queue_depth"),
    }


class Soak:
    def __init__(self, args):
        url = urllib.parse.urlparse(args.url)
        self.host, self.port = url.hostname or "127.0.0.1", url.port or 80
        try:
            infos = socket.getaddrinfo(self.host, self.port, type=socket.SOCK_STREAM)
        except OSError as e:
            raise SystemExit(f"cannot resolve {self.host}: {e}")
        if not infos or not all(ipaddress.ip_address(i[4][0].split("%")[0]).is_loopback for i in infos):
            raise SystemExit(f"refusing {self.host}: the soak test only targets loopback")
        self.host_header = f"{self.host}:{self.port}" if ":" not in self.host else f"[{self.host}]:{self.port}"
        self.auth = {"Authorization": f"Bearer {args.api_key}"} if args.api_key else {}
        self.auth_line = "".join(f"{k}: {v}\r\n" for k, v in self.auth.items())
        self.args = args
        self.lock = threading.Lock()
        self.stats = {name: self.new_stats() for name in KINDS}
        self.stalled_pending = []  # (socket, start) handed to the watcher
        self.stalled_open = 0
        self.stalled_skipped = 0
        self.stall_cap = min(64, 4 * args.clients)
        self.watch_stop = threading.Event()

    @staticmethod
    def new_stats():
        return {"count": 0, "outcomes": {}, "latencies": [], "ok_latencies": [], "by_design_503": 0,
                "failures": 0, "empty_error_bodies": 0, "examples": {}, "close_after": []}

    # MARK: Recording

    def record(self, kind, outcome, seconds, http_answered=False, retry_after=False, body=None):
        expected = KINDS[kind][1]
        key = str(outcome)
        with self.lock:
            s = self.stats[kind]
            s["count"] += 1
            s["outcomes"][key] = s["outcomes"].get(key, 0) + 1
            if http_answered:
                s["latencies"].append(seconds)
            status = outcome if isinstance(outcome, int) else None
            if status is None and isinstance(outcome, str) and "+" in outcome:
                tail = outcome.rsplit("+", 1)[1]
                status = int(tail) if tail.isdigit() else None
            if outcome in expected:
                if http_answered:
                    s["ok_latencies"].append(seconds)
            elif status == 503 and retry_after:
                s["by_design_503"] += 1
            else:
                s["failures"] += 1
            if status is not None and status >= 400 and body is not None and not body.strip():
                s["empty_error_bodies"] += 1
            if key not in s["examples"] and body is not None:
                s["examples"][key] = body[:160].decode("utf-8", "replace")

    # MARK: Requests

    def http(self, method, path, body=None, content_type=None, timeout=HTTP_TIMEOUT):
        conn = http.client.HTTPConnection(self.host, self.port, timeout=timeout)
        try:
            headers = dict(self.auth)
            if content_type:
                headers["Content-Type"] = content_type
            conn.request(method, path, body=body, headers=headers)
            r = conn.getresponse()
            data = r.read(MAX_RESPONSE)
            return r.status, r.getheader("Retry-After") is not None, data
        finally:
            conn.close()

    def post_image(self, data):
        status, retry, body = self.http("POST", "/v1/detect", data, "image/png")
        return status, {"http_answered": True, "retry_after": retry, "body": body}

    def connect(self, timeout=RAW_TIMEOUT):
        return socket.create_connection((self.host, self.port), timeout=timeout)

    @staticmethod
    def read_response(sock, deadline, buf=b""):
        """(status, headers, body, leftover) of one response, "closed" when the server closed
        before a byte of it; raises TimeoutError past the deadline."""
        while b"\r\n\r\n" not in buf:
            if time.monotonic() > deadline:
                raise TimeoutError("response head")
            sock.settimeout(max(0.01, deadline - time.monotonic()))
            chunk = sock.recv(65536)
            if not chunk:
                if buf:
                    raise ConnectionError("partial response head")
                return "closed", {}, b"", b""
            buf += chunk
            if len(buf) > 65536:
                raise ValueError("response head over 64 KiB")
        head, _, rest = buf.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        parts = lines[0].split(" ", 2)
        status = int(parts[1])
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        if 100 <= status < 200:
            return status, headers, b"", rest
        length = headers.get("content-length")
        chunked = "chunked" in headers.get("transfer-encoding", "").lower()
        body = rest
        while len(body) < MAX_RESPONSE:
            if length is not None and len(body) >= int(length):
                break
            if chunked and body.endswith(b"0\r\n\r\n"):
                break
            if time.monotonic() > deadline:
                if length is None and not chunked:
                    break
                raise TimeoutError("response body")
            sock.settimeout(max(0.01, deadline - time.monotonic()))
            try:
                chunk = sock.recv(65536)
            except TimeoutError:
                if length is None and not chunked:
                    break
                raise
            if not chunk:
                break
            body += chunk
        if length is not None:
            body = body[: int(length)]
        elif chunked and body == b"0\r\n\r\n":
            body = b""
        return status, headers, body, b""

    def raw(self, payload, timeout=RAW_TIMEOUT):
        sock = self.connect()
        try:
            sock.sendall(payload)
            status, headers, body, _ = self.read_response(sock, time.monotonic() + timeout)
        finally:
            sock.close()
        if status == "closed":
            return "closed", {}
        return status, {"http_answered": True, "retry_after": "retry-after" in headers, "body": body}

    def run_kind(self, kind, rng, images):
        if kind in ("normal", "large_4000", "huge_20000", "narrow_1x300", "narrow_300x1"):
            return self.post_image(images[kind])
        if kind == "random_bytes":
            return self.post_image(rng.randbytes(rng.randint(1, 4096)))
        if kind == "truncated_png":
            data = images["normal"]
            return self.post_image(data[: rng.randint(33, max(34, len(data) - 13))])
        if kind == "bad_chunked":
            return self.raw((f"POST /v1/detect HTTP/1.1\r\nHost: {self.host_header}\r\n{self.auth_line}"
                             "Content-Type: image/png\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n").encode())
        if kind == "unknown_method":
            return self.raw(f"FROB /v1/detect HTTP/1.1\r\nHost: {self.host_header}\r\n{self.auth_line}\r\n".encode())
        if kind == "expect_100":
            return self.expect_100(images["normal"])
        if kind == "stalled":
            return self.stall()
        if kind == "aborted":
            sock = self.connect()
            try:
                sock.sendall((f"POST /v1/detect HTTP/1.1\r\nHost: {self.host_header}\r\n{self.auth_line}"
                              "Content-Type: image/png\r\nContent-Length: 100000\r\n\r\n").encode()
                             + images["normal"][:1000])
            finally:
                sock.close()
            return "sent", {}
        raise ValueError(kind)

    def expect_100(self, data):
        sock = self.connect()
        try:
            sock.sendall((f"POST /v1/detect HTTP/1.1\r\nHost: {self.host_header}\r\n{self.auth_line}"
                          f"Content-Type: image/png\r\nContent-Length: {len(data)}\r\nExpect: 100-continue\r\n\r\n"
                          ).encode())
            prefix, leftover = "no100", b""
            try:
                status, headers, body, leftover = self.read_response(sock, time.monotonic() + EXPECT_WAIT)
                if status == "closed":
                    return "closed", {}
                if status == 100:
                    prefix = "100"
                else:  # a final answer before the body (e.g. 417)
                    return f"early+{status}", {"http_answered": True, "retry_after": "retry-after" in headers,
                                                "body": body}
            except TimeoutError:
                pass
            sock.sendall(data)
            status, headers, body, _ = self.read_response(sock, time.monotonic() + HTTP_TIMEOUT, leftover)
            if status == "closed":
                return f"{prefix}+closed", {}
            return f"{prefix}+{status}", {"http_answered": True, "retry_after": "retry-after" in headers,
                                          "body": body}
        finally:
            sock.close()

    def stall(self):
        with self.lock:
            if self.stalled_open >= self.stall_cap:
                self.stalled_skipped += 1
                return None, {}
            self.stalled_open += 1
        try:
            sock = self.connect()
            sock.sendall(f"POST /v1/detect HTTP/1.1\r\nHost: {self.host_header}\r\nContent-Ty".encode())
            sock.setblocking(False)
        except BaseException:
            with self.lock:
                self.stalled_open -= 1
            raise
        with self.lock:
            self.stalled_pending.append((sock, time.monotonic()))
        return None, {}  # recorded by the watcher

    def watch_stalled(self):
        """Watches the stalled sockets until the server closes each or --stall-seconds pass."""
        sel = selectors.DefaultSelector()
        limit = self.args.stall_seconds
        while True:
            with self.lock:
                pending, self.stalled_pending = self.stalled_pending, []
            for sock, start in pending:
                sel.register(sock, selectors.EVENT_READ, start)
            if not sel.get_map() and self.watch_stop.is_set():
                break
            for key, _ in (sel.select(timeout=0.2) if sel.get_map() else []):
                sock, start = key.fileobj, key.data
                try:
                    data = sock.recv(4096)
                    if not data:
                        outcome = "closed"
                    else:
                        line = data.split(b"\r\n", 1)[0].split(b" ")
                        outcome = int(line[1]) if len(line) > 1 and line[1].isdigit() else "data"
                except ConnectionResetError:
                    outcome = "reset"
                except BlockingIOError:
                    continue
                except OSError as e:
                    outcome = f"error:{type(e).__name__}"
                self.finish_stall(sel, sock, start, outcome, closed_by_server=True)
            if not sel.get_map():
                time.sleep(0.2)
            now = time.monotonic()
            for key in list(sel.get_map().values()):
                if now - key.data >= limit:
                    self.finish_stall(sel, key.fileobj, key.data, "timeout", closed_by_server=False)
        sel.close()

    def finish_stall(self, sel, sock, start, outcome, closed_by_server):
        elapsed = time.monotonic() - start
        sel.unregister(sock)
        sock.close()
        with self.lock:
            self.stalled_open -= 1
            if closed_by_server:
                self.stats["stalled"]["close_after"].append(elapsed)
        self.record("stalled", outcome, elapsed)

    # MARK: Running

    def health(self):
        try:
            return self.http("GET", "/healthz", timeout=10)[0]
        except Exception as e:  # noqa: BLE001 - reported as the answer
            return f"error:{type(e).__name__}"

    def metrics(self):
        try:
            status, _, body = self.http("GET", "/metrics", timeout=15)
            return parse_metrics(body.decode("utf-8", "replace")) if status == 200 else None
        except Exception:  # noqa: BLE001 - metrics are optional in the report
            return None

    def server_reading(self):
        pid = self.args.pid
        if not pid:
            return {}
        return {"rss_kib": rss_kib(pid), "fds": open_fds(pid), "threads": proc_status(pid, "Threads:"),
                "alive": alive(pid)}

    def run(self):
        a = self.args
        first = self.health()
        if first != 200:
            raise SystemExit(f"soak: GET /healthz answered {first}; is the server running on {a.url}?")
        t0 = time.monotonic()
        images = {
            "normal": open(a.image, "rb").read() if a.image else pattern_png(320, 240),
            "large_4000": pattern_png(4000, 4000),
            "huge_20000": zeros_png(20000, 20000),
            "narrow_1x300": pattern_png(1, 300),
            "narrow_300x1": pattern_png(300, 1),
        }
        print(f"soak: images ready in {time.monotonic() - t0:.1f} s ("
              + ", ".join(f"{k} {len(v) // 1024} KiB" for k, v in images.items()) + ")", flush=True)

        warm_errors = []

        def warm():
            for _ in range(a.warmup):
                try:
                    self.post_image(images["normal"])
                except Exception as e:  # noqa: BLE001 - reported
                    warm_errors.append(type(e).__name__)
        warmers = [threading.Thread(target=warm, daemon=True) for _ in range(a.clients)]
        for t in warmers:
            t.start()
        for t in warmers:
            t.join(HTTP_TIMEOUT * max(1, a.warmup) + 5)
        names = list(KINDS)
        weights = [KINDS[n][2] for n in names]
        stuck = []

        def client(index, until=None, warming=False):
            rng = random.Random(f"{a.seed}:{index}:{'warm' if warming else 'soak'}")
            while time.monotonic() < (until if until is not None else stop_at):
                kind = rng.choices(names, weights)[0]
                if warming and kind == "stalled":
                    continue  # the watcher is not running yet
                start = time.monotonic()
                try:
                    outcome, info = self.run_kind(kind, rng, images)
                except TimeoutError:
                    outcome, info = "timeout", {}
                except Exception as e:  # noqa: BLE001 - every failure is counted
                    outcome, info = f"error:{type(e).__name__}", {}
                if outcome is None:  # stalled: the watcher records it (or it was skipped at the cap)
                    continue
                self.record(kind, outcome, time.monotonic() - start, **info)
                if outcome == "timeout" or str(outcome).startswith("error:"):
                    time.sleep(0.1)  # do not spin when the server is gone
                elif outcome == 503:
                    time.sleep(0.05)

        # The warm level: the same mix (but stalls) for --warmup-seconds, so that every kind's buffers
        # and kernels exist before the first reading; what it recorded is dropped.
        if a.warmup_seconds > 0:
            warm_until = time.monotonic() + a.warmup_seconds
            mixers = [threading.Thread(target=client, args=(i, warm_until, True), daemon=True)
                      for i in range(a.clients)]
            for t in mixers:
                t.start()
            for t in mixers:
                t.join(a.warmup_seconds + HTTP_TIMEOUT + 10)
            with self.lock:
                self.stats = {name: self.new_stats() for name in KINDS}
        metrics_before = self.metrics()
        before = self.server_reading()

        watcher = threading.Thread(target=self.watch_stalled, daemon=True)
        watcher.start()
        wall_start = time.strftime("%Y-%m-%dT%H:%M:%S%z")
        cpu_start = resource.getrusage(resource.RUSAGE_SELF)
        started = time.monotonic()
        stop_at = started + a.seconds
        threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(a.clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(max(0.0, stop_at + HTTP_TIMEOUT + 10 - time.monotonic()))
            if t.is_alive():
                stuck.append(t.name)
        elapsed = time.monotonic() - started
        cpu_end = resource.getrusage(resource.RUSAGE_SELF)
        client_cpu = (cpu_end.ru_utime - cpu_start.ru_utime) + (cpu_end.ru_stime - cpu_start.ru_stime)
        with self.lock:
            stalled_open_at_end = self.stalled_open
        end = self.server_reading()
        health_end = self.health()
        metrics_end = self.metrics()

        # Stalled connections still open go on being watched (each up to --stall-seconds from its start).
        self.watch_stop.set()
        time.sleep(max(0.0, started + elapsed + POST_SOAK_WAIT - time.monotonic()))
        after = self.server_reading()
        health_after = self.health()
        metrics_after = self.metrics()
        watcher.join(max(0.0, started + elapsed + a.stall_seconds + 5 - time.monotonic()))
        resolved = self.server_reading()
        return self.report(dict(
            wall_start=wall_start, elapsed=elapsed, client_cpu=client_cpu, before=before, end=end, after=after,
            resolved=resolved, health_end=health_end, health_after=health_after, metrics_before=metrics_before,
            metrics_end=metrics_end, metrics_after=metrics_after, stuck=stuck,
            stalled_open_at_end=stalled_open_at_end, warm_errors=warm_errors, watcher_stuck=watcher.is_alive()))

    def report(self, m):
        a = self.args
        elapsed, before, end, after = m["elapsed"], m["before"], m["end"], m["after"]
        with self.lock:
            stats = {k: dict(v, latencies=sorted(v["latencies"]), ok_latencies=sorted(v["ok_latencies"]),
                             close_after=sorted(v["close_after"])) for k, v in self.stats.items()}
        kinds = {}
        for name, s in stats.items():
            group, expected, weight = KINDS[name]
            lat = s["latencies"]
            entry = {
                "group": group, "expected": [str(e) for e in expected], "weight": weight, "count": s["count"],
                "outcomes": dict(sorted(s["outcomes"].items())), "failures": s["failures"],
                "by_design_503": s["by_design_503"], "empty_error_bodies": s["empty_error_bodies"],
                "p50_ms": ms(percentile(lat, 50)), "p99_ms": ms(percentile(lat, 99)),
                "examples": s["examples"],
            }
            if name == "stalled":
                c = s["close_after"]
                entry.update({"closed_by_server": len(c),
                              "close_after_p50_s": round(percentile(c, 50), 2) if c else None,
                              "close_after_max_s": round(c[-1], 2) if c else None,
                              "skipped_at_cap": self.stalled_skipped, "cap": self.stall_cap,
                              "open_at_soak_end": m["stalled_open_at_end"], "stall_seconds": a.stall_seconds})
            kinds[name] = entry
        total = sum(s["count"] for s in stats.values())
        ok_count = stats["normal"]["outcomes"].get("200", 0)
        normal_p50 = percentile(stats["normal"]["ok_latencies"], 50)
        normal_p99 = percentile(stats["normal"]["ok_latencies"], 99)
        rss = {"before": before.get("rss_kib"), "end": end.get("rss_kib"), "after_30s": after.get("rss_kib")}
        result = {
            "label": a.label, "time": m["wall_start"], "url": f"{self.host}:{self.port}",
            "clients": a.clients, "seconds": round(elapsed, 1), "seed": a.seed, "stall_seconds": a.stall_seconds,
            "requests": total, "requests_per_s": round(total / elapsed, 2) if elapsed else None,
            "normal_ok": ok_count, "normal_ok_per_s": round(ok_count / elapsed, 2) if elapsed else None,
            "normal_p50_ms": ms(normal_p50), "normal_p99_ms": ms(normal_p99),
            "failures_by_kind": {k: v["failures"] for k, v in kinds.items() if v["failures"]},
            "failures": sum(v["failures"] for v in kinds.values()),
            "by_design_503": {k: v["by_design_503"] for k, v in kinds.items() if v["by_design_503"]},
            "rss_kib": rss,
            "rss_growth_pct": round(100 * (rss["after_30s"] - rss["before"]) / rss["before"], 1)
            if rss["before"] and rss["after_30s"] else None,
            "fds": {"before": before.get("fds"), "end": end.get("fds"), "after_30s": after.get("fds"),
                    "after_stalls_resolved": m["resolved"].get("fds")},
            "threads": {"before": before.get("threads"), "end": end.get("threads"),
                        "after_30s": after.get("threads")},
            "healthz": {"end": m["health_end"], "after_30s": m["health_after"]},
            "server_alive": m["health_after"] == 200 and after.get("alive", True),
            "server_metrics": {"soak": metrics_delta(m["metrics_before"], m["metrics_end"]),
                               "after_30s": metrics_delta(m["metrics_end"], m["metrics_after"])},
            "client_cpu_s": round(m["client_cpu"], 1),
            "client_cpu_pct_of_core": round(100 * m["client_cpu"] / elapsed, 1) if elapsed else None,
            "stuck_clients": len(m["stuck"]), "stall_watcher_stuck": m["watcher_stuck"],
            "warmup_errors": m["warm_errors"][:5],
            "kinds": kinds,
        }
        return result


def print_summary(r):
    print(f"\nsoak {r['label']!r}: {r['clients']} clients, {r['seconds']} s, seed {r['seed']}: "
          f"{r['requests']} requests ({r['requests_per_s']}/s), normal 200: {r['normal_ok']} "
          f"({r['normal_ok_per_s']}/s, p50 {r['normal_p50_ms']} ms, p99 {r['normal_p99_ms']} ms)")
    print(f"{'kind':15} {'expect':12} {'count':>6} {'fail':>5} {'503ok':>5} {'p50ms':>8} {'p99ms':>8}  outcomes")
    for name, k in r["kinds"].items():
        print(f"{name:15} {'/'.join(k['expected']):12} {k['count']:6} {k['failures']:5} {k['by_design_503']:5} "
              f"{k['p50_ms'] if k['p50_ms'] is not None else '-':>8} "
              f"{k['p99_ms'] if k['p99_ms'] is not None else '-':>8}  "
              + ", ".join(f"{o}: {n}" for o, n in k["outcomes"].items())
              + (f"  [{k['empty_error_bodies']} empty error bodies]" if k["empty_error_bodies"] else ""))
    s = r["kinds"]["stalled"]
    print(f"stalled: {s['closed_by_server']} closed by the server (p50 {s['close_after_p50_s']} s, max "
          f"{s['close_after_max_s']} s), {s['outcomes'].get('timeout', 0)} still open after {s['stall_seconds']} s, "
          f"{s['open_at_soak_end']} open at the end of the soak, {s['skipped_at_cap']} skipped at the cap of "
          f"{s['cap']}")
    print(f"failures: {r['failures']} {r['failures_by_kind']}; 503 by design: {r['by_design_503']}")
    growth = f" ({r['rss_growth_pct']:+}% from before)" if r["rss_growth_pct"] is not None else ""
    print(f"server RSS KiB: before {r['rss_kib']['before']}, end {r['rss_kib']['end']}, 30 s after "
          f"{r['rss_kib']['after_30s']}{growth}")
    print(f"server fds {r['fds']}; threads {r['threads']}; client CPU {r['client_cpu_s']} s "
          f"({r['client_cpu_pct_of_core']}% of a core)")
    m = r["server_metrics"]["soak"]
    if m:
        print(f"server /metrics during the soak: statuses {m['http_requests_by_status']}, cancelled "
              f"{m['cancelled_requests']}, batches {m['batches']} (mean {m['mean_batch']})")
    print(f"healthz: end {r['healthz']['end']}, 30 s after {r['healthz']['after_30s']}; server alive: "
          f"{r['server_alive']}" + (f"; STUCK clients: {r['stuck_clients']}" if r["stuck_clients"] else ""))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--url", default="http://127.0.0.1:8080")
    ap.add_argument("--clients", type=int, default=16, help="concurrent clients (1-64)")
    ap.add_argument("--seconds", type=float, default=60, help="soak duration (1-600)")
    ap.add_argument("--seed", type=int, default=1, help="seeds each client's choice of request kinds")
    ap.add_argument("--pid", type=int, help="the server's process id, for memory, descriptors and threads")
    ap.add_argument("--json", help="append the result as one JSON line to this file")
    ap.add_argument("--label", default="")
    ap.add_argument("--api-key", help="sent as Authorization: Bearer KEY")
    ap.add_argument("--image", help="the normal PNG (default: a generated 320x240 one)")
    ap.add_argument("--warmup", type=int, default=3, help="normal requests per client before the first reading")
    ap.add_argument("--warmup-seconds", type=float, default=20,
                    help="then the soak's mix (without stalls) for this long before the first reading (0-600)")
    ap.add_argument("--stall-seconds", type=float, default=40,
                    help="how long a stalled connection is watched for the server to close it (1-120)")
    args = ap.parse_args()
    args.clients = max(1, min(args.clients, 64))
    args.seconds = max(1.0, min(args.seconds, 600.0))
    args.warmup = max(0, min(args.warmup, 20))
    args.warmup_seconds = max(0.0, min(args.warmup_seconds, 600.0))
    args.stall_seconds = max(1.0, min(args.stall_seconds, 120.0))
    soak = Soak(args)
    result = soak.run()
    print_summary(result)
    if args.json:
        with open(args.json, "a") as f:
            f.write(json.dumps(result) + "\n")
        print(f"appended to {args.json}")
    sys.exit(0 if result["server_alive"] else 3)


if __name__ == "__main__":
    main()
