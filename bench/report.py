"""Prints the HTTP benchmark figures with their ratios to the machine's HTTP limit (nginx), to
the reference FHIR server figures and to the national load (DESIGN.md §7, DOMAIN.md §4)."""

import platform
import re
import sys

REFERENCE_READ = 2400          # reference TypeScript FHIR server, Patient read /s, same machine kind
NATIONAL_ELIGIBILITY = 178_308_340 / (31 * 10 * 3600)  # Dec 2025, spread over 10 daytime hours/day
NATIONAL_CHECK_PEAK = 250     # checks/s at the national peak (issue "Electronic prescriptions")
TARGETS = {"patient_read": 20000, "eligibility": 20000, "summary": 10000, "check": 10000}
# Targets without a latency bound.
THROUGHPUT_TARGETS = {"register": 2000, "prescribe": 2000}


def parse(line):
    fields = dict(re.findall(r"(\w+)=([\d.]+)", line))
    return line.split()[0], {k: float(v) for k, v in fields.items()}


def main():
    patients, connections, rss_kib = sys.argv[1], sys.argv[2], int(sys.argv[3] or 0)
    results = dict(parse(l) for l in sys.argv[4:] if l.strip())
    nginx = results.get("nginx_static", {}).get("rps", 0)
    cpu = "unknown"
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(l.split(":", 1)[1].strip() for l in f if l.startswith("model name"))
    except (OSError, StopIteration):
        pass
    print(f"machine: {cpu}, {platform.machine()}, cores={__import__('os').cpu_count()}")
    print(f"dataset: {patients} patients (SQLite), {connections} connections, audit on")
    print(f"{'benchmark':<14}{'req/s':>10}{'p50 ms':>9}{'p99 ms':>9}{'non2xx':>8}  ratios")
    for name, r in results.items():
        ratios = []
        if nginx and name != "nginx_static":
            ratios.append(f"{r['rps'] / nginx:.2f} of nginx")
        if name == "patient_read":
            ratios.append(f"{r['rps'] / REFERENCE_READ:.1f}x reference server")
        if name == "eligibility":
            ratios.append(f"{r['rps'] / NATIONAL_ELIGIBILITY:.0f}x national daytime rate")
        if name == "check":
            ratios.append(f"{r['rps'] / NATIONAL_CHECK_PEAK:.0f}x national peak")
        if name in TARGETS:
            ok = r["rps"] >= TARGETS[name] and r["p99_ms"] < 20
            ratios.append(f"target {TARGETS[name]}/s p99<20ms: {'met' if ok else 'NOT met'}")
        if name in THROUGHPUT_TARGETS:
            ok = r["rps"] >= THROUGHPUT_TARGETS[name]
            ratios.append(f"target {THROUGHPUT_TARGETS[name]}/s: {'met' if ok else 'NOT met'}")
        print(f"{name:<14}{r['rps']:>10.0f}{r['p50_ms']:>9.2f}{r['p99_ms']:>9.2f}{r['non2xx']:>8.0f}  " + "; ".join(ratios))
    print(f"server peak RSS: {rss_kib / 1024:.0f} MiB")


if __name__ == "__main__":
    main()
