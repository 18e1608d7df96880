"""Open N keep-alive connections to the service, one health request on each, hold them idle, close
them all; used by scripts/bench-flood.sh to see what the flood leaves behind in the service's RSS.

    python3 bench/flood.py HOST PORT N HOLD_SECONDS
"""

import socket
import sys
import time

host, port, count, hold = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
request = (
    f"POST /api/system/health HTTP/1.1\r\nHost: {host}\r\ncontent-length: 0\r\n\r\n".encode()
)
conns = []
failed = 0
for _ in range(count):
    try:
        s = socket.create_connection((host, port), timeout=5)
        s.sendall(request)
        conns.append(s)
    except OSError:
        failed += 1
answered = 0
for s in conns:
    try:
        if s.recv(4096):
            answered += 1
    except OSError:
        pass
time.sleep(hold)
for s in conns:
    s.close()
print(f"opened {len(conns)} answered {answered} failed {failed}")
