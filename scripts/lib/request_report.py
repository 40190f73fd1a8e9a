#!/usr/bin/env python3
"""Reads the request logs of scripts/fake-osaurus.py and prints, per client
and instance, the requests Osaurus would have logged (all but OPTIONS), the
OPTIONS it would have answered unlogged, and how many did not say who asked
(`User-Agent: osaurus-tray/<VERSION>`); then the user agents seen and what
was asked.

Usage: request_report.py VERSION SECONDS CLIENT:INSTANCE=LOG...
"""
import collections
import json
import sys


def read(path):
    lines = []
    try:
        with open(path) as f:
            for raw in f:
                try:
                    lines.append(json.loads(raw))
                except ValueError:
                    pass  # a line cut short by a kill
    except FileNotFoundError:
        pass
    return lines


def main():
    version, seconds, runs = sys.argv[1], float(sys.argv[2]), sys.argv[3:]
    ours = "osaurus-tray/" + version
    rows, agents, asked = [], collections.Counter(), {}
    for run in runs:
        label, path = run.split("=", 1)
        client, instance = label.split(":", 1)
        lines = read(path)
        logged = [x for x in lines if x.get("logged", True)]
        options = [x for x in lines if not x.get("logged", True)]
        unnamed = [x for x in lines if x.get("user_agent") != ours]
        rows.append((client, instance, len(logged), len(options), len(unnamed)))
        agents.update(x.get("user_agent") or "(none)" for x in lines)
        asked[label] = collections.Counter(
            "%s %s -> %s from %s" % (x["method"], x["path"], x["status"], x["peer"]) for x in lines)
    minutes = seconds / 60
    print("Requests in a quiet %d s after the client started (Osaurus logs all but OPTIONS):" % seconds)
    head = ("client", "instance", "logged", "per minute", "OPTIONS", "without " + ours)
    print("  %-7s %-9s %7s %11s %8s  %s" % head)
    for client, instance, logged, options, unnamed in rows:
        print("  %-7s %-9s %7d %11.1f %8d  %d" % (client, instance, logged, logged / minutes, options, unnamed))
    print("User agents seen: " + ", ".join("%s (%d)" % kv for kv in agents.most_common()) if agents
          else "User agents seen: none (no request at all)")
    for label, counts in asked.items():
        if counts:
            print("  %s: %s" % (label, "; ".join("%s x%d" % kv for kv in counts.most_common())))


if __name__ == "__main__":
    main()
