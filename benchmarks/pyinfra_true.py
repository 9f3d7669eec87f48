"""Baseline for benchmarks/lab.py: the cheapest pyinfra deploy, one `true` per host."""

from pyinfra.operations import server

server.shell(name="true", commands=["true"])
