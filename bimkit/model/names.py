"""Folding Turkish text into the ASCII names that accounts and hosts need.

Pure functions, no I/O. Active Directory's sAMAccountName, Linux user names,
DNS labels and file names all want plain ASCII, while people's names and
building titles are Turkish. One folding serves all of them so that the
same word always becomes the same name.
"""

from __future__ import annotations

import re
import unicodedata

SAM_ACCOUNT_NAME_MAX = 20
"""sAMAccountName limit for user objects (pre-Windows 2000 logon name)."""

HOSTNAME_LABEL_MAX = 63

# Mapped before any lower-casing: Python lower-cases "İ" to "i" + U+0307
# (combining dot), and "I" to "i" where Turkish wants "ı"; both fold to "i".
_TURKISH_TO_ASCII = str.maketrans(
    {
        "ç": "c", "Ç": "c",
        "ğ": "g", "Ğ": "g",
        "ı": "i", "I": "i", "İ": "i",
        "ö": "o", "Ö": "o",
        "ş": "s", "Ş": "s",
        "ü": "u", "Ü": "u",
        "â": "a", "Â": "a",
        "î": "i", "Î": "i",
        "û": "u", "Û": "u",
    }
)  # fmt: skip


def fold_ascii(text: str) -> str:
    """Lower-case ASCII rendering of Turkish (or other Latin) text.

    + text: any string, e.g. a person's name or a building's title

    Letters outside the Turkish alphabet lose their accents (é -> e); anything
    that is not a letter or digit is kept as is for the caller to handle.

        >>> fold_ascii("Şükrü Çağlayan")
        'sukru caglayan'
    """
    folded = text.translate(_TURKISH_TO_ASCII)
    decomposed = unicodedata.normalize("NFKD", folded)
    without_marks = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return without_marks.lower()


def _alnum(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", fold_ascii(text))


def username_base(given_name: str, family_name: str) -> str:
    """The username a person gets when nobody else holds it: `given.family`.

    + given_name: all given names ("Mehmet Ali" -> "mehmetali")
    + family_name: the family name, possibly with spaces or hyphens

    Cut to the 20 characters of a sAMAccountName.

        >>> username_base("İbrahim Halil", "Öztürk")
        'ibrahimhalil.ozturk'
    """
    given = _alnum(given_name)
    family = _alnum(family_name)
    if not given or not family:
        raise ValueError(
            f"cannot make a username from `{given_name} {family_name}`: "
            "a name has no letters once folded to ASCII"
        )
    return f"{given}.{family}"[:SAM_ACCOUNT_NAME_MAX].rstrip(".")


def with_suffix(base: str, number: int) -> str:
    """`base` with a numeric suffix, shortened so the result still fits 20 characters."""
    suffix = str(number)
    return base[: SAM_ACCOUNT_NAME_MAX - len(suffix)].rstrip(".") + suffix


def hostname_label(text: str) -> str:
    """A DNS label from Turkish text: `Fen İşleri` -> `fen-isleri`.

    Raises ValueError when nothing usable is left.
    """
    label = re.sub(r"[^a-z0-9]+", "-", fold_ascii(text)).strip("-")[:HOSTNAME_LABEL_MAX]
    label = label.rstrip("-")
    if not label:
        raise ValueError(f"`{text}` has no letters or digits to make a host name from")
    return label


USERNAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._-]{0,19}$")
HOSTNAME_PATTERN = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")


MANAGERS_SUFFIX = "-yonetim"


def managers_group(department_id: str) -> str:
    """The AD group of a müdürlük's managers (`departments.yaml` `managers:`)."""
    return f"{department_id}{MANAGERS_SUFFIX}"
