#!/usr/bin/python3
"""samba-tool with a password read from a root-only file instead of argv.

    bimkit-samba-tool PASSWORD_FILE --adminpass domain provision ...
    bimkit-samba-tool PASSWORD_FILE PASSWD domain join REALM DC -U Administrator ...

Runs samba-tool in this process, handing it the password as `OPTION=<password>`
(an option name starting with `--`) or in the environment variable of that
name (`PASSWD`, Samba's variable for `-U` credentials). Either way the
password appears in no process's command line (ps, /proc). Installed as
/usr/local/sbin/bimkit-samba-tool by the domain_controller role.
"""

import os
import stat
import sys

from samba.netcmd.main import samba_tool


def main() -> int:
    if len(sys.argv) < 4:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    password_file, option, *arguments = sys.argv[1:]
    mode = os.stat(password_file).st_mode
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        print(
            f"bimkit-samba-tool: {password_file} is readable by others; refusing", file=sys.stderr
        )
        return 2
    with open(password_file, encoding="utf-8") as handle:
        password = handle.read().strip()
    if option.startswith("--"):
        return int(samba_tool(*arguments, f"{option}={password}") or 0)
    os.environ[option] = password
    return int(samba_tool(*arguments) or 0)


if __name__ == "__main__":
    sys.exit(main())
