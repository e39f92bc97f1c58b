#!/usr/bin/env python3
"""Load benchmark: the webhook against a no-op baseline server, over HTTPS keep-alive, with oha.

Builds the release webhook and the baseline bench target (benches/baseline.rs: the same TLS
configuration, accept loop and HTTP stack, answering a fixed allowed AdmissionReview without
decoding the body), starts both with a fresh development certificate on loopback ports, measures
the time from process start to the first `/readyz` 200, then drives each with oha at 1, 16 and 64
connections with an allowed and a denied UPDATE review of OSM v1.2.4's preset MeshConfig. Per case
it prints requests/s, p50, p99, p99.9, errors (responses that are not HTTP 200, and connection
errors, read from oha's report rather than its exit code), the ratios to the baseline, the
server's CPU time per request, and its peak RSS (VmHWM, reset to the current RSS before each case,
so it never drops below what earlier cases left resident); then checks the targets of issue 6.

Usage: python3 bench/load.py [--duration 10s] [--connections 1,16,64] [--skip-build]
Installs oha (`cargo install oha --locked`) when it is not on PATH. Needs python3 and cargo.
"""

import argparse
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import http.client
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PRESET = ROOT / "tests/fixtures/objects/meshconfig-v1.2.4.json"
MIB = 1024 * 1024

# Issue 6's targets (2 cores, load generator on the same machine).
TARGET_THROUGHPUT_RATIO = 0.9  # at 16 connections, webhook / baseline
TARGET_P99_RATIO = 1.2  # at 16 connections, webhook / baseline
TARGET_P99_C1_MS = 1.0
TARGET_RSS_C64_MIB = 20.0
TARGET_READY_MS = 100.0


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def run(cmd, **kw):
    log("$ " + " ".join(str(c) for c in cmd))
    return subprocess.run(cmd, check=True, cwd=ROOT, **kw)


def ensure_oha():
    oha = shutil.which("oha") or shutil.which(str(Path.home() / ".cargo/bin/oha"))
    if oha:
        return oha
    log("oha not found: installing it with cargo (takes several minutes)")
    run(["cargo", "install", "oha", "--locked"])
    oha = shutil.which("oha") or str(Path.home() / ".cargo/bin/oha")
    if not Path(oha).exists():
        sys.exit("oha is still missing after cargo install")
    return oha


def build(skip):
    webhook = ROOT / "target/release/meshconfig-webhook"
    if not skip:
        run(["cargo", "build", "--release", "--bin", "meshconfig-webhook"])
    out = subprocess.run(
        ["cargo", "bench", "--bench", "baseline", "--no-run", "--message-format=json"],
        check=True,
        cwd=ROOT,
        stdout=subprocess.PIPE,
    ).stdout
    baseline = None
    for line in out.splitlines():
        msg = json.loads(line)
        if msg.get("reason") == "compiler-artifact" and msg.get("target", {}).get("name") == "baseline":
            baseline = msg.get("executable") or baseline
    if not baseline or not webhook.exists():
        sys.exit("could not find the built webhook or baseline executables")
    return str(webhook), baseline


def review(obj, old):
    return {
        "apiVersion": "admission.k8s.io/v1",
        "kind": "AdmissionReview",
        "request": {
            "uid": "b8f0c7e4-3a1d-4c55-9a0e-0c2f1d7e6a03",
            "kind": {"group": "config.openservicemesh.io", "version": "v1alpha2", "kind": "MeshConfig"},
            "resource": {"group": "config.openservicemesh.io", "version": "v1alpha2", "resource": "meshconfigs"},
            "requestKind": {"group": "config.openservicemesh.io", "version": "v1alpha2", "kind": "MeshConfig"},
            "requestResource": {"group": "config.openservicemesh.io", "version": "v1alpha2", "resource": "meshconfigs"},
            "name": "osm-mesh-config",
            "namespace": "arc-osm-system",
            "operation": "UPDATE",
            "userInfo": {"username": "kubernetes-admin", "groups": ["system:masters", "system:authenticated"]},
            "object": obj,
            "oldObject": old,
            "dryRun": False,
            "options": {"kind": "UpdateOptions", "apiVersion": "meta.k8s.io/v1"},
        },
    }


def write_bodies(tmp):
    """The same reviews as benches/request_path.rs (preset): one allowed, one denied."""
    old = json.loads(PRESET.read_text())
    allowed = json.loads(json.dumps(old))
    allowed["spec"]["observability"]["osmLogLevel"] = "debug"
    denied = json.loads(json.dumps(old))
    denied["spec"]["certificate"]["serviceCertValidityDuration"] = "24x"
    bodies = {}
    for name, obj in (("allowed", allowed), ("denied", denied)):
        path = Path(tmp) / f"{name}.json"
        path.write_text(json.dumps(review(obj, old), separators=(",", ":")))
        bodies[name] = path
    return bodies


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, name, argv, port, admin_port):
        self.name, self.argv, self.port, self.admin_port = name, argv, port, admin_port
        self.proc = None
        self.ready_ms = None

    def start(self):
        t0 = time.monotonic()
        self.proc = subprocess.Popen(self.argv, cwd=ROOT, stdin=subprocess.DEVNULL)
        deadline = t0 + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                sys.exit(f"{self.name} exited with {self.proc.returncode} before it was ready")
            try:
                c = http.client.HTTPConnection("127.0.0.1", self.admin_port, timeout=1)
                c.request("GET", "/readyz")
                status = c.getresponse().status
                c.close()
                if status == 200:
                    self.ready_ms = (time.monotonic() - t0) * 1000
                    return
            except OSError:
                pass
            time.sleep(0.001)
        sys.exit(f"{self.name} was not ready within 30s")

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=25)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def status_kib(self, key):
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
        return None

    def cpu_seconds(self):
        """User plus system CPU time the server has used so far."""
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def reset_peak(self):
        """Resets VmHWM to the current RSS (Linux ≥ 4.0); False when not permitted."""
        try:
            Path(f"/proc/{self.proc.pid}/clear_refs").write_text("5")
            return True
        except OSError:
            return False

    def answer(self, body):
        """One request through Python's TLS client: (HTTP status, response.allowed)."""
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        c = http.client.HTTPSConnection("127.0.0.1", self.port, context=ctx, timeout=10)
        c.request("POST", "/validate", body=body.read_bytes(), headers={"Content-Type": "application/json"})
        r = c.getresponse()
        data = r.read()
        c.close()
        allowed = json.loads(data).get("response", {}).get("allowed") if r.status == 200 else None
        return r.status, allowed


def oha_run(oha, server, body, conns, duration):
    cmd = [
        oha, "--no-tui", "--output-format", "json", "--insecure",
        "-z", duration, "-w", "-c", str(conns), "-m", "POST",
        "-H", "Content-Type: application/json", "-D", str(body),
        f"https://127.0.0.1:{server.port}/validate",
    ]
    cpu_before = server.cpu_seconds()
    out = subprocess.run(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    cpu = server.cpu_seconds() - cpu_before
    try:
        report = json.loads(out.stdout)
    except json.JSONDecodeError:
        sys.exit(f"oha gave no JSON report (exit {out.returncode}): {out.stderr.decode()[-2000:]}")
    codes = {int(k): v for k, v in (report.get("statusCodeDistribution") or {}).items()}
    conn_errors = sum((report.get("errorDistribution") or {}).values())
    pct = report.get("latencyPercentiles") or {}
    ms = lambda k: (pct.get(k) or 0) * 1000  # noqa: E731
    answered = sum(codes.values())
    return {
        # Server CPU per answered request: steadier than req/s when other work shares the cores.
        "cpu_us": cpu / answered * 1e6 if answered else 0.0,
        "rps": report["summary"].get("requestsPerSec") or 0.0,
        "ok": codes.get(200, 0),
        "errors": sum(v for k, v in codes.items() if k != 200) + conn_errors,
        "p50": ms("p50"),
        "p99": ms("p99"),
        "p999": ms("p99.9"),
    }


def loadavg():
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def cpu_model():
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return "unknown"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--duration", default="10s", help="oha -z per case (default 10s)")
    ap.add_argument("--connections", default="1,16,64", help="comma-separated (default 1,16,64)")
    ap.add_argument("--skip-build", action="store_true", help="use the existing release binary")
    args = ap.parse_args()
    conns = [int(c) for c in args.connections.split(",")]

    oha = ensure_oha()
    webhook_bin, baseline_bin = build(args.skip_build)
    tmp = tempfile.mkdtemp(prefix="meshconfig-load-")
    servers = []
    try:
        certs = Path(tmp) / "certs"
        run([webhook_bin, "certs", "--out", str(certs)], stdout=subprocess.DEVNULL)
        tls = ["--tls-cert-file", str(certs / "tls.crt"), "--tls-key-file", str(certs / "tls.key")]
        bodies = write_bodies(tmp)

        p, a = free_port(), free_port()
        webhook = Server(
            "webhook",
            [webhook_bin, "serve", *tls, "--addr", f"127.0.0.1:{p}", "--admin-addr", f"127.0.0.1:{a}", "--log-level", "warn"],
            p, a,
        )
        p, a = free_port(), free_port()
        baseline = Server(
            "baseline",
            [baseline_bin, "--serve", *tls, "--addr", f"127.0.0.1:{p}", "--admin-addr", f"127.0.0.1:{a}"],
            p, a,
        )
        servers = [baseline, webhook]
        for s in servers:
            s.start()
            log(f"{s.name}: ready after {s.ready_ms:.1f} ms (pid {s.proc.pid})")

        # The bodies must get the verdicts their names say, or the figures mean nothing.
        for name, body in bodies.items():
            status, allowed = webhook.answer(body)
            if status != 200 or allowed != (name == "allowed"):
                sys.exit(f"webhook answered the {name} review with HTTP {status}, allowed={allowed}")
            status, _ = baseline.answer(body)
            if status != 200:
                sys.exit(f"baseline answered HTTP {status}")

        load_before = loadavg()
        # Warm-up: connection pools, the schema tables, allocator arenas.
        for s in servers:
            oha_run(oha, s, bodies["allowed"], 16, "2s")

        results = []
        for body in ("allowed", "denied"):
            for c in conns:
                row = {"body": body, "conns": c}
                # Baseline and webhook back to back, so both see the same background load.
                for s in servers:
                    peak_reset = s.reset_peak()
                    log(f"{s.name}: {body}, {c} connection(s), {args.duration}")
                    r = oha_run(oha, s, bodies[body], c, args.duration)
                    r["rss_mib"] = (s.status_kib("VmHWM") or 0) / 1024
                    r["rss_note"] = "" if peak_reset else " (since start)"
                    row[s.name] = r
                results.append(row)
        load_after = loadavg()

        print()
        print(f"machine: {os.cpu_count()} CPUs, {cpu_model()}; load average before {load_before}, after {load_after}")
        print(f"oha: {subprocess.run([oha, '--version'], stdout=subprocess.PIPE, text=True).stdout.strip()}; "
              f"{args.duration} per case, HTTPS keep-alive, HTTP/1.1, body {bodies['allowed'].stat().st_size} B")
        print(f"ready (process start to first /readyz 200): webhook {webhook.ready_ms:.1f} ms, "
              f"baseline {baseline.ready_ms:.1f} ms")
        print()
        hdr = "| body | conns | server | req/s | p50 ms | p99 ms | p99.9 ms | errors | req/s vs baseline | p99 vs baseline | server CPU µs/req | peak RSS MiB |"
        print(hdr)
        print("|" + "---|" * (hdr.count("|") - 1))
        for row in results:
            b = row["baseline"]
            for s in servers:
                r = row[s.name]
                rt = f"{r['rps'] / b['rps']:.2f}×" if b["rps"] else "-"
                rp = f"{r['p99'] / b['p99']:.2f}×" if b["p99"] else "-"
                if s is baseline:
                    rt = rp = ""
                print(f"| {row['body']} | {row['conns']} | {s.name} | {r['rps']:,.0f} | {r['p50']:.3f} | "
                      f"{r['p99']:.3f} | {r['p999']:.3f} | {r['errors']} | {rt} | {rp} | {r['cpu_us']:.1f} | "
                      f"{r['rss_mib']:.1f}{r['rss_note']} |")

        print()
        checks = []
        for row in results:
            w, b = row["webhook"], row["baseline"]
            tag = f"{row['body']}, {row['conns']} conn"
            if row["conns"] == 16 and b["rps"] and b["p99"]:
                checks.append((f"throughput ≥ {TARGET_THROUGHPUT_RATIO}× baseline ({tag})",
                               w["rps"] / b["rps"] >= TARGET_THROUGHPUT_RATIO, f"{w['rps'] / b['rps']:.2f}×"))
                checks.append((f"p99 ≤ {TARGET_P99_RATIO}× baseline ({tag})",
                               w["p99"] / b["p99"] <= TARGET_P99_RATIO, f"{w['p99'] / b['p99']:.2f}×"))
            if row["conns"] == 1:
                checks.append((f"p99 < {TARGET_P99_C1_MS} ms ({tag})", w["p99"] < TARGET_P99_C1_MS, f"{w['p99']:.3f} ms"))
            if row["conns"] == 64:
                checks.append((f"peak RSS ≤ {TARGET_RSS_C64_MIB:.0f} MiB ({tag})",
                               w["rss_mib"] <= TARGET_RSS_C64_MIB, f"{w['rss_mib']:.1f} MiB"))
            checks.append((f"no errors ({tag})", w["errors"] == 0 and b["errors"] == 0,
                           f"{w['errors']} webhook, {b['errors']} baseline"))
        checks.append((f"ready ≤ {TARGET_READY_MS:.0f} ms", webhook.ready_ms <= TARGET_READY_MS, f"{webhook.ready_ms:.1f} ms"))
        failed = 0
        for what, ok, got in checks:
            failed += not ok
            print(f"{'PASS' if ok else 'MISS'}  {what}: {got}")
        return 1 if failed else 0
    finally:
        for s in servers:
            s.stop()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
