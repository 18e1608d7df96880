#!/usr/bin/env python3
"""Sends N identical requests over one keep-alive connection, one after another (scripts/bench-alloc.sh).

    alloc.py HOST:PORT PATH N [TOKEN]

Sequential on purpose: the allocation count per request is what is measured, not throughput, and
one connection keeps the connection's own set-up out of the per-request difference.
"""
import http.client
import sys


def main() -> int:
    host, path, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
    token = sys.argv[4] if len(sys.argv) > 4 else ""
    # No body, as bench/wrk.lua sends these routes (an unread body may close the connection).
    headers = {"content-length": "0"}
    if token:
        headers["authorization"] = f"Bearer {token}"
    conn = http.client.HTTPConnection(host, timeout=60)
    for _ in range(count):
        conn.request("POST", path, headers=headers)
        response = conn.getresponse()
        response.read()
        if response.status != 200:
            print(f"{path}: HTTP {response.status}", file=sys.stderr)
            return 1
    conn.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
