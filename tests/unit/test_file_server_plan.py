"""roles/file_server and bimkit.file_shares: the shares, their ACLs and the join, planned
without a host."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from bimkit.file_shares import (
    COMMON_SHARE,
    HOMES_FOLDER,
    SHARES_ROOT,
    Access,
    access_table,
    desired_folders,
    renamed_homes,
)
from bimkit.model.load import load_estate
from bimkit.model.rules import RESERVED_FOLDERS
from roles.file_server.plan import (
    SAMBA_JOIN_HELPER,
    SMB_CONF,
    before_join,
    folder_access,
    home_moves,
    join_argv,
)
from roles.managed import ManagedFile
from tests.conftest import REPO, EstateData, example_host_data
from tests.unit.test_cli import bimkit
from tests.unit.test_validation import assert_reported, problems_of

DATA: dict[str, Any] = example_host_data()["fs1"]
ESTATE = load_estate(REPO)


def folders() -> dict[str, Any]:
    return {folder.path: folder for folder in desired_folders(ESTATE)}


def test_a_mudurluk_has_a_share_and_its_units_folders_inside_it() -> None:
    found = folders()
    assert found["fen-isleri"].share == "fen-isleri"  # no units: all its staff change it
    assert found["fen-isleri"].change == ("fen-isleri",) and found["fen-isleri"].read == ()
    top = found["bilgi-islem"]  # its managers change it, its units only read it
    assert (top.change, top.read) == (("bilgi-islem-yonetim",), ("bilgi-islem",))
    unit = found["bilgi-islem/yazilim"]  # a unit: its folder, read by the managers alone
    assert (unit.share, unit.change, unit.read) == (None, ("yazilim",), ("bilgi-islem-yonetim",))
    assert found["ortak"].change == ("Domain Users",)
    # Parents before children: a unit's folder is made inside its share.
    paths = list(found)
    assert paths.index("bilgi-islem") < paths.index("bilgi-islem/yazilim")


def test_a_unit_with_its_own_share_is_not_inside_its_mudurluk() -> None:
    departments = ESTATE.departments.copy()
    unit = departments["cagri-merkezi"]
    departments["cagri-merkezi"] = unit.model_copy(update={"own_share": True})
    estate = dataclasses.replace(ESTATE, departments=departments)
    found = {folder.path: folder for folder in desired_folders(estate)}
    assert found["cagri-merkezi"].share == "cagri-merkezi"
    assert "yazi-isleri/cagri-merkezi" not in found


def test_the_folder_acl_gives_its_groups_and_the_admins_and_nobody_else() -> None:
    folder = {"path": "bilgi-islem/yazilim", "change": ["yazilim"], "read": ["bilgi-islem"]}
    acl = folder_access(folder, SHARES_ROOT, 201000, {"yazilim": 201105, "bilgi-islem": 201101})
    access = ["user::rwx", "group::---", "group:201000:rwx", "group:201101:r-x",
              "group:201105:rwx", "mask::rwx", "other::---"]  # fmt: skip
    assert acl.path == "/srv/shares/bilgi-islem/yazilim"
    assert list(acl.entries) == access + [f"default:{entry}" for entry in access]
    assert acl.setfacl()[:2] == ["setfacl", "--set"]


def test_samba_is_a_member_server_with_rid_ids_and_the_shares() -> None:
    smb = next(
        s for s in before_join("fs1", DATA) if isinstance(s, ManagedFile) and s.path == SMB_CONF
    )
    text = smb.content
    assert "netbios name = FS1\n" in text
    assert "security = ADS" in text and "realm = AD.KAYAPINAR.BEL.TR" in text
    assert "idmap config KAYAPINAR : backend = rid" in text
    assert "idmap config KAYAPINAR : range = 200000-399999" in text
    assert "vfs objects = acl_xattr recycle" in text
    assert "[fen-isleri]\n   comment = Fen İşleri Müdürlüğü\n   path = /srv/shares/fen-isleri" in (
        text
    )
    assert "[yazilim]" not in text  # a unit's folder is inside its müdürlük's share
    assert "[homes]" in text and "[ortak]" in text
    assert smb.then[0].startswith("testparm")


def test_workstations_compute_the_same_ids_as_the_file_server() -> None:
    from roles.workstation.plan import SSSD_CONF, wanted

    workstation = example_host_data()["fen-ws01"]
    sssd = next(s for s in wanted(workstation) if getattr(s, "path", "") == SSSD_CONF)
    assert "ldap_idmap_autorid_compat = True" in sssd.content  # type: ignore[union-attr]
    assert "ldap_idmap_range_min = 200000" in sssd.content  # type: ignore[union-attr]
    assert "ldap_idmap_range_size = 200000" in sssd.content  # type: ignore[union-attr]


def test_the_file_server_joins_on_the_primary_dc_as_its_own_computer_account() -> None:
    """Samba's offline join with the one-time password (the helper reads it on stdin), the
    helper installed before the join."""
    assert join_argv("fs1", DATA) == [SAMBA_JOIN_HELPER, "dc1.ad.kayapinar.bel.tr",
                                      "10.21.17.10", "ad.kayapinar.bel.tr", "FS1"]  # fmt: skip
    helper = {state.path: state for state in before_join("fs1", DATA)}[SAMBA_JOIN_HELPER]
    assert helper.mode == "755"  # type: ignore[union-attr]
    script = helper.content  # type: ignore[union-attr]
    assert "requestodj" in script and "PASSWD_FD" in script


def test_no_unit_reads_another_and_the_table_says_who_may_do_what() -> None:
    """Bilgi İşlem's Kalem cannot read Bilgi Güvenliği's folder, nor write the müdürlük's top
    folder (both could, through the müdürlük's group, before the managers' group)."""
    table = access_table(ESTATE)
    kalem = table["isil.dogan"]  # Kalem
    assert kalem["bilgi-islem/guvenlik"] is Access.none
    assert kalem["bilgi-islem/bim-kalem"] is Access.write
    assert kalem["bilgi-islem"] is Access.read
    assert kalem["zabita"] is Access.none and kalem["ortak"] is Access.write
    manager = table["ahmet.guler"]  # Yazı İşleri's müdür, its manager
    assert manager["yazi-isleri"] is Access.write
    assert manager["yazi-isleri/cagri-merkezi"] is Access.read
    agent = table["rojda.baran"]  # Beyaz Masa, a unit of Yazı İşleri
    assert agent["yazi-isleri"] is Access.read
    assert agent["yazi-isleri/cagri-merkezi"] is Access.write
    admin = table["gulsen.yildirim"]  # bim-admins: full control everywhere
    assert set(admin.values()) == {Access.write}
    assert table["bilgi-islem-yonetim"]["bilgi-islem/sistem"] is Access.read
    zabita = table["huseyin.aslan"]
    assert (zabita["zabita"], zabita["bilgi-islem"]) == (Access.write, Access.none)


HOMES = f"{SHARES_ROOT}/home"


def test_a_renamed_persons_home_folder_moves_to_the_new_name(estate_data: EstateData) -> None:
    """`bimkit usernames rename`: the file server gets old -> new, and moves the folder
    (its files, owner and ACL go with it); a rename back and forth keeps one folder."""
    renamed = bimkit("usernames", "rename", "1004", "mehmet.yilmaz-kaya",
                     "--data", str(estate_data.root))  # fmt: skip
    assert renamed.returncode == 0, renamed.stderr
    moves = renamed_homes(load_estate(estate_data.root))
    assert moves == [{"from": "mehmet.yilmaz", "to": "mehmet.yilmaz-kaya"}]
    old, new = f"{HOMES}/mehmet.yilmaz", f"{HOMES}/mehmet.yilmaz-kaya"
    assert home_moves(moves, HOMES, {old: "full", new: "missing"}) == [["mv", "-T", old, new]]
    # A sign-in under the new name before the deploy made an empty folder: it gives way.
    assert home_moves(moves, HOMES, {old: "full", new: "empty"}) == [
        ["rmdir", new], ["mv", "-T", old, new]]  # fmt: skip
    assert home_moves(moves, HOMES, {old: "missing", new: "full"}) == [], "moved already"
    assert renamed_homes(ESTATE) == [], "the example estate has no rename"


def test_two_home_folders_with_files_stop_the_deploy_and_neither_is_touched() -> None:
    moves = [{"from": "ayse.kaya", "to": "ayse.demir"}]
    found = {f"{HOMES}/ayse.kaya": "full", f"{HOMES}/ayse.demir": "full"}
    with pytest.raises(ValueError, match="both hold files; merge them by hand"):
        home_moves(moves, HOMES, found)


def test_no_department_takes_the_name_of_the_homes_folder_or_the_common_share(
    estate_data: EstateData,
) -> None:
    """A müdürlük called `home` would get its group's ACL on every person's home folder."""
    assert set(RESERVED_FOLDERS) == {HOMES_FOLDER, COMMON_SHARE}
    estate_data.edit("directory/departments.yaml", lambda d: d["departments"][0].update(id="home"))
    assert_reported(problems_of(estate_data.root), "directory/departments.yaml",
                    "departments[0].id", "`home` is the file server.s folder of home")  # fmt: skip
