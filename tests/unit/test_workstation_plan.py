"""roles/workstation: a workstation's sign-in, planned without a host."""

from __future__ import annotations

from typing import Any

from roles.managed import ManagedFile
from roles.workstation.plan import ADMIN_KEYS, SSHD_CONF, SSSD_CONF, join_argv, wanted
from tests.conftest import example_host_data

DATA: dict[str, Any] = example_host_data()["zabita-ws01"]


def files() -> dict[str, str]:
    return {s.path: s.content for s in wanted(DATA) if isinstance(s, ManagedFile)}


def test_the_workstation_joins_into_its_sites_ou_named_after_itself() -> None:
    argv = join_argv("zabita-ws01", DATA)
    assert "--domain-ou=OU=zabita,OU=Bilgisayarlar,DC=ad,DC=kayapinar,DC=bel,DC=tr" in argv
    assert "--domain-controller=dc1.ad.kayapinar.bel.tr" in argv  # no replication wait
    assert "--computer-name=ZABITA-WS01" in argv and DATA["join_dc_host"] == "dc1"
    assert "--password" not in " ".join(argv)  # the one-time password comes on stdin


def test_sssd_signs_in_ad_accounts_by_short_name_at_the_workstations_site() -> None:
    sssd = files()[SSSD_CONF]
    assert "[domain/ad.kayapinar.bel.tr]\nid_provider = ad\naccess_provider = ad\n" in sssd
    assert "ad_site = zabita\n" in sssd and "use_fully_qualified_names = False\n" in sssd
    assert next(s for s in wanted(DATA) if getattr(s, "path", "") == SSSD_CONF).mode == "640"
    sshd = files()[SSHD_CONF]
    assert "PasswordAuthentication no\nKbdInteractiveAuthentication no\n" in sshd


def test_only_the_sites_staff_and_the_admins_sign_in_and_not_for_ever_offline() -> None:
    sssd = files()[SSSD_CONF]
    assert ("ad_access_filter = (|(memberOf=CN=bim-admins,OU=Gruplar,DC=ad,DC=kayapinar,DC=bel,"
            "DC=tr)(memberOf=CN=zabita,OU=zabita,OU=Birimler,DC=ad,DC=kayapinar,DC=bel,DC=tr))"
            ) in sssd  # fmt: skip
    assert "[pam]\noffline_credentials_expiration = 3\n" in sssd
    merkez = example_host_data()["merkez-ws01"]["workstation"]["sign_in_groups"]
    assert merkez == ["bilgi-islem", "bim-admins", "insan-kaynaklari", "kultur-sosyal",
                      "mali-hizmetler", "yazi-isleri"]  # fmt: skip


def test_no_offline_days_caches_no_password_rather_than_one_for_ever() -> None:
    policy = {**DATA["workstation"], "offline_days": 0}
    sssd = {s.path: s.content for s in wanted({**DATA, "workstation": policy})
            if isinstance(s, ManagedFile)}[SSSD_CONF]  # fmt: skip
    assert "cache_credentials = False\n" in sssd and "offline_credentials_expiration" not in sssd
    assert "cache_credentials = True\n" in files()[SSSD_CONF]


def test_admins_come_in_by_the_keys_the_data_gives_them() -> None:
    keys = files()[ADMIN_KEYS].splitlines()
    assert [line.split()[0] for line in keys] == ["gulsen.yildirim"]
    assert keys[0].split()[1] == "ssh-rsa"
    assert "AuthorizedKeysCommand /usr/local/sbin/bimkit-admin-keys %u" in files()[SSHD_CONF]


def test_the_banner_names_the_municipality_and_keeps_other_braces() -> None:
    text = "{municipality} — yetkisiz giriş yasaktır {x}"
    data = {**DATA, "workstation": {**DATA["workstation"], "banner": text}}
    issue = {s.path: s.content for s in wanted(data) if isinstance(s, ManagedFile)}["/etc/issue"]
    assert issue == "Kayapınar Belediyesi — yetkisiz giriş yasaktır {x}\n"
    lock = files()["/etc/dconf/db/local.d/00-bimkit-screensaver"]
    assert "idle-delay=uint32 600\n" in lock and "lock-enabled=true" in lock


def test_the_shares_are_mounted_at_sign_in_by_group_with_the_persons_ticket() -> None:
    from roles.workstation.plan import PAM_MOUNT_CONF

    volumes = [line for line in files()[PAM_MOUNT_CONF].splitlines() if "<volume" in line]
    fen = next(line for line in volumes if 'path="fen-isleri"' in line)
    assert 'sgrp="fen-isleri"' in fen and 'server="fs1.ad.kayapinar.bel.tr"' in fen
    assert "sec=krb5,cruid=%(USERUID)" in fen and "password" not in fen
    assert all('uid="200000-399999"' in line for line in volumes), "AD accounts only"
    common = next(line for line in volumes if 'path="ortak"' in line)
    assert "sgrp" not in common, "every person mounts the common share"
    assert any('path="%(USER)"' in line for line in volumes), "and their home folder"
    # A unit's folder is inside its müdürlük's share: no volume of its own.
    assert not any('path="yazilim"' in line for line in volumes)


def test_an_estate_without_a_file_server_mounts_nothing() -> None:
    from roles.managed import Absent
    from roles.workstation.plan import PAM_MOUNT_CONF

    data = {**DATA, "workstation": {k: v for k, v in DATA["workstation"].items() if k != "mounts"}}
    assert Absent(PAM_MOUNT_CONF) in wanted(data)


def test_long_hostnames_get_computer_names_of_their_own() -> None:
    from bimkit.directory import computer_name

    assert computer_name("fen-ws01") == "FEN-WS01"
    first, second = computer_name("kultur-merkezi-ws01"), computer_name("kultur-merkezi-ws02")
    assert first != second and len(first) == len(second) == 15
    assert first.startswith("KULTUR-MER-") and computer_name("kultur-merkezi-ws01") == first
