"""Disaster recovery: the DR repository's TLS and credentials, backup status, drills."""
