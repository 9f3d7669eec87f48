"""Sandbox machines: Debian images booted with systemd-nspawn in their own namespaces.

Used by the lab (the whole estate on one box) and by restore drills (an
isolated machine with no route to production).
"""
