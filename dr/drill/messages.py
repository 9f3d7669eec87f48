"""Everything a drill says, in Turkish and English: one catalogue for the report and the checks.

Checks and errors carry a message id and its arguments, besides their
English `detail`, so the report can say them in the auditor's language.
A tool's own output (Samba's error line, restic's) is quoted as it is.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

LANGUAGES = ("tr", "en")

LABELS: Mapping[str, Mapping[str, str]] = {
    "tr": {
        "title": "Felaket Kurtarma Tatbikatı Raporu",
        "drill": "Tatbikat",
        "time_zone": "Saat dilimi",
        "host": "Sunucu",
        "service": "Hizmet",
        "snapshot": "Yedek (anlık görüntü)",
        "status": "Sonuç",
        "rpo": "RPO (veri kaybı penceresi)",
        "rto": "RTO (geri dönüş süresi)",
        "achieved": "gerçekleşen",
        "target": "hedef",
        "scale": "logaritmik ölçek; dikey çizgi hedefi gösterir",
        "restored": "Geri yüklenen",
        "files": "dosya",
        "checks": "Doğrulamalar",
        "trend": "Geçmiş tatbikatlarda RTO",
        "highest": "en yüksek",
        "summary_ok": "Tüm hizmetler geri yüklendi, doğrulandı ve hedefleri karşıladı.",
        "summary_bad": "Başarısız ya da hedefi kaçıran hizmet var: ayrıntılar aşağıda.",
        "OK": "BAŞARILI",
        "FAILED": "BAŞARISIZ",
        "BREACH": "HEDEF AŞILDI",
        "error": "Hata",
        "cleaned": "Önceki tatbikattan kalan temizlendi",
        "d": "gün",
        "h": "sa",
        "min": "dk",
        "s": "sn",
    },
    "en": {
        "title": "Disaster Recovery Drill Report",
        "drill": "Drill",
        "time_zone": "Time zone",
        "host": "Host",
        "service": "Service",
        "snapshot": "Snapshot",
        "status": "Result",
        "rpo": "RPO (data-loss window)",
        "rto": "RTO (time to recover)",
        "achieved": "achieved",
        "target": "target",
        "scale": "logarithmic scale; the vertical line marks the target",
        "restored": "Restored",
        "files": "files",
        "checks": "Checks",
        "trend": "RTO over past drills",
        "highest": "highest",
        "summary_ok": "Every service was restored, verified and met its targets.",
        "summary_bad": "A service failed or missed a target: details below.",
        "OK": "PASSED",
        "FAILED": "FAILED",
        "BREACH": "TARGET MISSED",
        "error": "Error",
        "cleaned": "Cleaned up after an earlier drill",
        "d": "d",
        "h": "h",
        "min": "min",
        "s": "s",
    },
}
"""The report's own words."""

CHECKS: Mapping[str, Mapping[str, str]] = {
    "backup_file": {
        "tr": "Yedek dosyası (boyut ve SHA-256)",
        "en": "Backup file (size and SHA-256)",
    },
    "isolation": {
        "tr": "Yalıtım (üretim ağına erişim yok)",
        "en": "Isolation (no way to production)",
    },
    "ldap_bind": {"tr": "LDAP oturumu", "en": "LDAP bind"},
    "object_counts": {
        "tr": "Nesne sayıları (kullanıcı, grup, OU, DNS bölgesi)",
        "en": "Object counts (users, groups, OUs, DNS zones)",
    },
    "kerberos": {"tr": "Kerberos bileti", "en": "Kerberos ticket"},
    "dns_srv": {"tr": "DNS SRV kayıtları", "en": "DNS SRV records"},
    "dbcheck": {"tr": "Veritabanı denetimi (dbcheck)", "en": "Database check (dbcheck)"},
    "checksums": {"tr": "Dosya sağlamaları (SHA-256)", "en": "File checksums (SHA-256)"},
    "acls": {
        "tr": "Sahip ve erişim izinleri (ACL)",
        "en": "Owners and permissions (ACLs)",
    },
    "log_seals": {
        "tr": "Günlük mühürleri (RFC 3161 zaman damgası)",
        "en": "Log seals (RFC 3161 time stamps)",
    },
    "asterisk_starts": {
        "tr": "Asterisk geri yüklenen yapılandırmayla açılıyor",
        "en": "Asterisk starts from the restored configuration",
    },
    "endpoint_counts": {
        "tr": "Dahili ve sesli mesaj kutusu sayıları (yedek anındakiyle aynı)",
        "en": "Extensions and voicemail boxes (as at backup time)",
    },
    "voicemail_call": {
        "tr": "Yalıtılmış ortamda bir SIP araması sesli mesaja düşüp kayıt bırakıyor",
        "en": "A SIP call in the sandbox reaches voicemail and leaves a recording",
    },
    "queue_counts": {
        "tr": "Çağrı merkezi kuyrukları ve temsilcileri (yedek anındakiyle aynı)",
        "en": "Call-centre queues and agents (as at backup time)",
    },
}
"""Check names as readers see them; an unknown check shows its own name."""

MESSAGES: Mapping[str, Mapping[str, str]] = {
    "files_checked": {
        "en": "{checked} of {listed} files checked{sample}, {damaged} damaged, {missing} missing, "
        "{changed} changed during the backup",
        "tr": "{listed} dosyanın {checked} tanesi denetlendi{sample}; {damaged} bozuk, "
        "{missing} eksik, {changed} tanesi yedekleme sırasında değişmiş",
    },
    "access_kept": {
        "en": "{checked} restored files keep their owner, mode and ACL",
        "tr": "geri yüklenen {checked} dosyanın sahibi, kipi ve ACL'si aynı",
    },
    "access_differs": {
        "en": "{differs} of {checked} restored files lost their owner, mode or ACL: {names}",
        "tr": "geri yüklenen {checked} dosyanın {differs} tanesinin sahibi, kipi ya da ACL'si "
        "değişmiş: {names}",
    },
    "nothing_verified": {
        "en": "nothing verified: 0 of {listed} files checked",
        "tr": "hiçbir şey doğrulanmadı: {listed} dosyanın hiçbiri denetlenmedi",
    },
    "days_verified": {
        "en": "{days} days of logs ({files} files) checked against their time-stamped "
        "manifests and the chain of {records} seals kept on this DR host: all intact",
        "tr": "{days} günlük kayıt ({files} dosya) zaman damgalı listelerine ve bu DR "
        "sunucusunda saklanan {records} mühürlük zincire göre denetlendi: hepsi sağlam",
    },
    "days_failed": {
        "en": "{failed} of {days} days of logs (or the chain of seals) fail verification: "
        "{problems}",
        "tr": "{days} günlük kaydın {failed} günü (ya da mühür zinciri) doğrulanamadı: "
        "{problems}",
    },
    "no_days_verified": {
        "en": "nothing verified: no closed day in the restored {archive}",
        "tr": "hiçbir şey doğrulanmadı: geri yüklenen {archive} içinde kapanmış gün yok",
    },
    "no_chain_copy": {
        "en": "the DR host keeps no copy of the chain of {archive} ({copy}) to check it against",
        "tr": "DR sunucusunda {archive} mühür zincirinin kopyası yok ({copy}): denetlenemedi",
    },
    "no_manifest": {
        "en": "no readable manifest in the snapshot ({path}): {error}",
        "tr": "yedekte okunabilir dosya listesi yok ({path}): {error}",
    },
    "cases_passed": {
        "en": "{count} case(s) passed",
        "tr": "{count} denetim başarılı",
    },
    "case_failed": {"en": "{detail}", "tr": "başarısız; aracın çıktısı: {detail}"},
    "checks_did_not_run": {"en": "the checks did not run", "tr": "denetimler çalışmadı"},
    "no_test": {
        "en": "no test_{name} in the drill checks ({specs})",
        "tr": "tatbikat denetimlerinde ({specs}) test_{name} yok",
    },
    "no_procedure": {
        "en": "bimkit has no recovery procedure for the checks {checks} of {service} yet",
        "tr": "bimkit'te {service} hizmetinin {checks} denetimleri için kurtarma yordamı henüz yok",
    },
    "no_snapshot": {
        "en": "no snapshot of {service} in {host}'s repository",
        "tr": "{host} deposunda {service} hizmetinin yedeği yok",
    },
    "restore_failed": {
        "en": "restic restore of {host}'s snapshot {snapshot} failed: {detail}",
        "tr": "{host} sunucusunun {snapshot} yedeği restic ile geri yüklenemedi: {detail}",
    },
    "step_failed": {
        "en": "{step} failed in sandbox {sandbox}: {detail}",
        "tr": "{sandbox} yalıtılmış ortamında {step} başarısız: {detail}",
    },
    "ldap_silent": {
        "en": "Samba did not answer LDAP on {address} in sandbox {sandbox}: {detail}",
        "tr": "{sandbox} yalıtılmış ortamında Samba {address} adresinde LDAP'a yanıt vermedi: "
        "{detail}",
    },
    "failed": {"en": "{detail}", "tr": "hata: {detail}"},
}
"""What checks and errors say; `{detail}` is a tool's own words, quoted as they are."""

STEPS: Mapping[str, Mapping[str, str]] = {
    "restore_backup": {
        "en": "samba-tool domain backup restore",
        "tr": "samba-tool domain backup restore (AD yedeğinin açılması)",
    },
    "add_drill_user": {"en": "adding the drill account", "tr": "tatbikat hesabının eklenmesi"},
    "start_samba": {"en": "starting Samba", "tr": "Samba'nın başlatılması"},
    "wait_ldap": {"en": "waiting for LDAP", "tr": "LDAP'ın beklenmesi"},
    "resolver": {
        "en": "pointing the resolver at the restored DC",
        "tr": "çözümleyicinin geri yüklenen DC'ye yöneltilmesi",
    },
    "put_back": {
        "en": "putting the PBX's files back in place",
        "tr": "santral dosyalarının yerlerine konması",
    },
    "start_asterisk": {"en": "starting Asterisk", "tr": "Asterisk'in başlatılması"},
    "wait_asterisk": {
        "en": "waiting for Asterisk to finish booting",
        "tr": "Asterisk'in açılışını tamamlamasının beklenmesi",
    },
}
"""Steps of the recovery procedures, named in `step_failed`."""


def text(message: str, lang: str, args: Mapping[str, Any]) -> str:
    """`message` in `lang`, filled with `args` (a step id in `step` is named too)."""
    filled = dict(args)
    if "step" in filled and filled["step"] in STEPS:
        filled["step"] = STEPS[filled["step"]][lang]
    line = MESSAGES[message][lang].format(**filled)
    return line + (f": {args['names']}" if args.get("names") else "")


def said(message: str, **args: Any) -> dict[str, Any]:
    """What a check or error records: the English `detail`, the message id and its arguments."""
    return {"detail": text(message, "en", args), "message": message, "args": args}


class Failure(Exception):
    """A drill step failed; `str()` is English, `message`/`args` let the report translate."""

    def __init__(self, message: str, **args: Any) -> None:
        self.message = message
        self.args_ = args
        super().__init__(text(message, "en", args))
