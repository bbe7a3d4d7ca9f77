"""Benchmark: the web process's memory while people hash large pictures on request (`POST /h/hash`).

Serves a throwaway SQLite instance with `tipline serve` in a subprocess, then sends N concurrent
`POST /h/hash` requests, each with a small PNG of many pixels (default 9,400 x 9,400 in about
86 KB: a flat picture compresses well, and it is under Pillow's own 89-megapixel limit, so before
the decode budget each request decoded 265 MB of pixels). Prints the server's resident memory
before, its peak (VmHWM) and after, and the answers' status codes.

    .venv/bin/python benchmarks/decode_memory.py [--requests 6] [--side 9400] [--rounds 2]
"""

from __future__ import annotations

import argparse
import concurrent.futures
import io
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import httpx
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]


def memory(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM of a process, in MB."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            fields[name] = int(value.split()[0]) // 1024
    return fields


def big_png(side: int) -> bytes:
    image = Image.new("L", (side, side), 200)
    image.paste(60, (side // 4, side // 4, side // 2, side // 2))  # some structure for PDQ
    out = io.BytesIO()
    image.save(out, "PNG", optimize=True)
    return out.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=6)
    parser.add_argument("--side", type=int, default=9400)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    picture = big_png(args.side)
    print(f"picture: PNG {args.side} x {args.side} pixels, {len(picture) / 1024:.0f} KB")
    with tempfile.TemporaryDirectory() as data:
        # TIPLINE_DECODE_* from the caller's environment are kept, to compare budgets
        env = {k: v for k, v in os.environ.items() if not k.startswith("TIPLINE_") or k.startswith("TIPLINE_DECODE_")}
        env.update(TIPLINE_DATA_DIR=data, TIPLINE_ARGON2_TIME_COST="1", TIPLINE_ARGON2_MEMORY_KIB="8")
        tipline = [sys.executable, "-m", "tipline.cli"]
        subprocess.run([*tipline, "db", "upgrade"], env=env, check=True, capture_output=True)
        created = subprocess.run([*tipline, "esp", "add", "bench", "--json"], env=env, check=True,
                                 capture_output=True, text=True).stdout
        import json

        credentials = json.loads(created)
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        server = subprocess.Popen([*tipline, "serve", "--port", str(port), "--no-pipeline"], env=env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        url = f"http://127.0.0.1:{port}"
        try:
            for _ in range(300):
                try:
                    if httpx.get(f"{url}/healthz").status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.1)
            auth = (credentials["username"], credentials["password"])
            print(f"server before: {memory(server.pid)['VmRSS']} MB resident")

            def one(_: int) -> int:
                answer = httpx.post(f"{url}/h/hash", files={"photo": ("flat.png", picture, "image/png")}, auth=auth,
                                    timeout=300)
                return answer.status_code

            for round_number in range(1, args.rounds + 1):
                started = time.perf_counter()
                with concurrent.futures.ThreadPoolExecutor(args.requests) as pool:
                    statuses = Counter(pool.map(one, range(args.requests)))
                elapsed = time.perf_counter() - started
                time.sleep(1)
                figures = memory(server.pid)
                print(f"round {round_number}: {args.requests} concurrent requests in {elapsed:.1f} s, answers "
                      f"{dict(statuses)}; server peak {figures['VmHWM']} MB, after {figures['VmRSS']} MB resident")
        finally:
            server.terminate()
            server.wait(timeout=30)


if __name__ == "__main__":
    main()
