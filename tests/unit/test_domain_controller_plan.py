"""roles/domain_controller: provisioning and client settings, without a host."""

from __future__ import annotations

import ast
import shlex
import subprocess
from pathlib import Path

from bimkit.directory import desired_directory
from bimkit.model.load import load_estate
from roles.domain_controller.facts import DIRECTORY_HELPER_SOURCE
from roles.domain_controller.plan import (
    DC_CHECK,
    HANDOVER_FILE,
    HELPER,
    NTP_SIGND_SOCKET,
    PASSWORD_FILE,
    PASSWORD_SETTINGS,
    SAM_LDB,
    SAMBA_STOP_DROP_IN,
    SMB_CONF,
    SYSVOL,
    SYSVOL_SYNC,
    SYSVOL_SYNC_MINUTES,
    chrony_dc_conf,
    dns_forwarder_line,
    forwarders_command,
    idmap_import_commands,
    join_command,
    krb5_conf,
    password_settings_command,
    password_settings_options,
    primary_check_command,
    provision_command,
    realm_mismatch_command,
    rsyncd_conf,
    samba_stop_drop_in,
    sysvol_sync_units,
    zone_create_command,
)
from roles.domain_controller.windows import unsupported_command
from tests.conftest import REPO, example_host_data

DATA = example_host_data()


def test_provisioning_takes_the_password_from_a_root_only_file_not_argv() -> None:
    command = provision_command(DATA["dc1"])
    words = shlex.split(command.split("&& ", 3)[-1])
    assert words[:3] == [HELPER, PASSWORD_FILE, "--adminpass"]
    assert not [w for w in words if w.startswith("--adminpass=")]
    assert "--realm=AD.KAYAPINAR.BEL.TR" in words and "--domain=KAYAPINAR" in words
    assert "--host-ip=10.21.17.10" in words
    assert "--option=dns forwarder = 195.175.39.39 195.175.39.40" in words


def test_provisioning_refuses_when_a_domain_database_exists() -> None:
    assert provision_command(DATA["dc1"]).startswith(f"test ! -e {SAM_LDB} && ")


def test_kerberos_realm_is_the_upper_case_dns_realm() -> None:
    conf = krb5_conf(DATA["dc1"])
    assert "default_realm = AD.KAYAPINAR.BEL.TR" in conf
    assert ".ad.kayapinar.bel.tr = AD.KAYAPINAR.BEL.TR" in conf


def test_joining_waits_for_the_primary_and_passes_the_password_in_the_environment() -> None:
    check = shlex.split(primary_check_command(DATA["dc2"]))
    assert check == [DC_CHECK, PASSWORD_FILE, "10.21.17.10", "dc1", "ad.kayapinar.bel.tr", "120"]
    command = join_command(DATA["dc2"])
    join = shlex.split(command.split("&& { ", 1)[1].split(" ||", 1)[0])
    assert join[:3] == [HELPER, PASSWORD_FILE, "PASSWD"]
    assert join[3:7] == ["domain", "join", "ad.kayapinar.bel.tr", "DC"]
    assert "--server=10.21.17.10" in join
    assert not [word for word in join if word.startswith(("--password", "--adminpass", "-U="))]
    assert "%" not in join[join.index("-U") + 1]  # no user%password


def test_a_failed_join_is_rolled_back_so_the_next_run_retries() -> None:
    command = join_command(DATA["dc2"])
    assert command.startswith(f"test ! -e {SAM_LDB} && ")
    assert (
        "|| { status=$?; rm -rf /var/lib/samba/private/* /etc/samba/smb.conf; exit $status; }"
        in command
    )


def helper_constant(name: str) -> object:
    """A constant of the DC's directory helper, which runs there without bimkit installed."""
    source = DIRECTORY_HELPER_SOURCE.read_text()
    for node in ast.parse(source).body:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", None) == name:
            return ast.literal_eval(node.value)
    raise AssertionError(f"{name} not in the helper")


def test_the_directory_helper_agrees_with_the_role() -> None:
    assert helper_constant("HANDOVER") == HANDOVER_FILE
    every_attribute = {
        key
        for user in desired_directory(load_estate(REPO)).users.values()
        for key in user.attributes
    }
    assert set(helper_constant("OWNED_ATTRIBUTES")) == every_attribute  # type: ignore[arg-type]


SHOWN_DEFAULTS = {
    # `samba-tool domain passwordsettings show` right after a provision (Samba 4.22)
    "Password complexity": "on",
    "Store plaintext passwords": "off",
    "Password history length": "24",
    "Minimum password length": "7",
    "Minimum password age (days)": "1",
    "Maximum password age (days)": "42",
    "Account lockout duration (mins)": "30",
    "Account lockout threshold (attempts)": "0",
    "Reset account lockout after (mins)": "30",
}


def test_password_policy_sets_only_what_differs_from_the_domain() -> None:
    policy = DATA["dc1"]["account_policy"]
    assert password_settings_options(policy, SHOWN_DEFAULTS) == [
        "--min-pwd-length=12",
        "--max-pwd-age=180",
        "--account-lockout-threshold=5",
    ]
    converged = {
        **SHOWN_DEFAULTS,
        "Minimum password length": "12",
        "Maximum password age (days)": "180",
        "Account lockout threshold (attempts)": "5",
    }
    assert password_settings_options(policy, converged) == []
    off = password_settings_options({**policy, "complexity": False}, converged)
    assert off == ["--complexity=off"]


def test_password_policy_sets_everything_on_a_domain_not_provisioned_yet() -> None:
    options = password_settings_options(DATA["dc1"]["account_policy"], None)
    assert len(options) == len(PASSWORD_SETTINGS)
    assert password_settings_command(options).startswith(
        "samba-tool domain passwordsettings set --complexity=on "
    )


def test_only_the_primary_carries_what_replicates() -> None:
    for key in ("directory", "account_policy", "reverse_zones"):
        assert key in DATA["dc1"] and key not in DATA["dc2"], key
    zones = DATA["dc1"]["reverse_zones"]
    assert "16.21.10.in-addr.arpa" in zones and "50.21.10.in-addr.arpa" in zones
    assert len(zones) == len(set(zones))


def test_zones_are_made_over_rpc_with_the_password_in_the_environment() -> None:
    words = shlex.split(zone_create_command("16.21.10.in-addr.arpa"))
    assert words[:3] == [HELPER, PASSWORD_FILE, "PASSWD"]
    assert words[3:] == [
        "dns", "zonecreate", "127.0.0.1", "16.21.10.in-addr.arpa", "-U", "Administrator"
    ]  # fmt: skip


def test_dcs_serve_signed_time_to_the_estate() -> None:
    conf = chrony_dc_conf(DATA["dc2"])
    assert "\nallow 10.21.0.0/16\n" in conf
    assert f"\nntpsigndsocket {NTP_SIGND_SOCKET}\n" in conf


SMB_CONF_TEXT = (
    "# Global parameters\n[global]\n\tdns forwarder = 195.175.39.39\n\tnetbios name = DC1\n"
    "\trealm = AD.KAYAPINAR.BEL.TR\n\n[sysvol]\n\tpath = /var/lib/samba/sysvol\n"
)


def run_forwarders_command(tmp_path: Path, line: str | None) -> str:
    """The command as the shell on a DC runs it, against a copy of smb.conf."""
    conf = tmp_path / "smb.conf"
    conf.write_text(SMB_CONF_TEXT)
    command = forwarders_command(line).replace(SMB_CONF, shlex.quote(str(conf)))
    subprocess.run(["sh", "-c", command], check=True)
    return conf.read_text()


def test_changed_forwarders_replace_the_old_line_under_global(tmp_path: Path) -> None:
    line = dns_forwarder_line({"dns_forwarders": ["9.9.9.9", "1.1.1.1"]})
    edited = run_forwarders_command(tmp_path, line)
    assert edited == SMB_CONF_TEXT.replace("195.175.39.39", "9.9.9.9 1.1.1.1")


def test_no_forwarders_removes_the_line(tmp_path: Path) -> None:
    edited = run_forwarders_command(tmp_path, None)
    assert edited == SMB_CONF_TEXT.replace("\tdns forwarder = 195.175.39.39\n", "")


def test_dns_forwarder_line_follows_the_data() -> None:
    assert dns_forwarder_line(DATA["dc1"]) == "\tdns forwarder = 195.175.39.39 195.175.39.40"
    assert dns_forwarder_line({**DATA["dc1"], "dns_forwarders": []}) is None


def test_a_realm_mismatch_fails_naming_host_file_and_both_realms() -> None:
    command = realm_mismatch_command("dc1", "AD.OLD.BEL.TR", "ad.kayapinar.bel.tr")
    assert command.endswith(" >&2; exit 1")
    message = shlex.split(command.split(" >&2;")[0])[1]
    assert message.startswith("dc1: Samba AD here serves realm ad.old.bel.tr (/etc/samba/smb.conf)")
    assert "estate.yaml says ad.kayapinar.bel.tr; bimkit never re-provisions" in message


def test_only_the_other_dcs_may_pull_sysvol_and_only_read() -> None:
    conf = rsyncd_conf(DATA["dc1"])
    assert "\nhosts allow = 10.21.33.10\nhosts deny = *\n" in conf
    assert "\nread only = yes\n" in conf
    assert f"[sysvol]\n    path = {SYSVOL}\n" in conf


def test_the_additional_dc_pulls_sysvol_from_the_primary_on_a_timer() -> None:
    units = sysvol_sync_units(DATA["dc2"])
    assert f"ExecStart={SYSVOL_SYNC} 10.21.17.10\n" in units["bimkit-sysvol-sync.service"]
    assert f"OnUnitActiveSec={SYSVOL_SYNC_MINUTES}min\n" in units["bimkit-sysvol-sync.timer"]


def test_the_idmap_is_swapped_with_samba_stopped_and_always_restarted() -> None:
    folder, fetch, swap, *rest = idmap_import_commands(DATA["dc2"])
    assert folder == "install -d -m 700 /var/lib/bimkit"
    assert fetch.startswith("rsync rsync://10.21.17.10/idmap/idmap.ldb ")
    script = shlex.split(swap)[2]
    assert script.startswith("trap 'systemctl start samba-ad-dc' EXIT; systemctl stop samba-ad-dc ")
    assert rest[-1] == "samba-tool ntacl sysvolreset"


def test_a_stopping_samba_is_killed_well_before_systemds_90_seconds() -> None:
    """A samba-ad-dc child can ignore SIGTERM; every restart would then take 90 s."""
    drop_in = samba_stop_drop_in()
    assert SAMBA_STOP_DROP_IN.startswith("/etc/systemd/system/samba-ad-dc.service.d/")
    assert "\n[Service]\nTimeoutStopSec=20\n" in drop_in


def test_a_windows_dc_is_refused_with_a_reason_not_skipped() -> None:
    result = subprocess.run(
        ["sh", "-c", unsupported_command("dc3")], capture_output=True, text=True, check=False
    )
    assert result.returncode == 1
    assert result.stderr.startswith("dc3: Windows domain controllers are not supported yet")
