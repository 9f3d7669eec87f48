"""Restore drills: every protected service restored from its latest snapshot and proved to work.

Runs on the DR host (installed there by roles/dr_drill, started by its
quarterly timer or by `bimkit dr drill`): `plan` decides what to drill and
judges the figures, `sandbox` gives an isolated machine and `in_sandbox` runs
steps and testinfra checks in it, `active_directory`, `pbx` and `files` are
the services' recovery procedures, `runner` measures RPO and RTO around
them, `report` writes JSON, the history and the HTML report.
"""
