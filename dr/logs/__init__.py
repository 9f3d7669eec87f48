"""The log archive on the log server (law 5651): sealed by day, verified, searched, pruned.

    <root>/<YYYY-MM-DD>/<source>.log        written by rsyslog only, by day of reception
    <root>/<YYYY-MM-DD>/SHA256SUMS          the day's manifest (`sha256sum -c` reads it)
    <root>/<YYYY-MM-DD>/SHA256SUMS.tsr      RFC 3161 time stamp token on the manifest

`bimkit-logs` (dr.logs.cli) runs on the log server from a timer and from
`bimkit logs` over SSH; the restore drill runs the same verification on a
restored copy.
"""
