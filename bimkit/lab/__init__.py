"""The lab: the estate's Linux hosts as real Debian machines on one box.

plan      pure: machines, bridges and names from the estate
guard     routing that keeps every lab packet on the box
aptproxy  apt-cacher-ng on the lab bridges, so packages are fetched once
state     where the lab lives on disk and what `up` recorded
lab       up, down, status
"""
