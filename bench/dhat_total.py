#!/usr/bin/env python3
"""Prints `blocks bytes` allocated in total over a run, from valgrind's DHAT output (JSON).

    dhat_total.py dhat.out.json
"""
import json
import sys

with open(sys.argv[1], encoding="utf-8") as f:
    data = json.load(f)
blocks = sum(pp["tbk"] for pp in data["pps"])
total_bytes = sum(pp["tb"] for pp in data["pps"])
print(blocks, total_bytes)
