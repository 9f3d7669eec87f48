"""Baseline for benchmarks/switches.py: the cheapest pyinfra deploy on a switch, one CLI command."""

from pyinfra.operations import server

server.shell(name="show clock", commands=["show clock"])
