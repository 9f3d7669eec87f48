"""Folding Turkish names into ASCII usernames and host names."""

import pytest

from bimkit.model.names import fold_ascii, hostname_label, username_base, with_suffix

USERNAMES = [
    # given, family, username
    ("Ayşe", "Çiçek", "ayse.cicek"),
    ("Şükrü", "Çağlayan", "sukru.caglayan"),
    ("İbrahim", "Öztürk", "ibrahim.ozturk"),
    ("Işıl", "Doğan", "isil.dogan"),
    ("IŞIL", "DOĞAN", "isil.dogan"),
    ("Gülşen", "Yıldırım", "gulsen.yildirim"),
    ("Ümit", "Kurt", "umit.kurt"),
    ("Mücahit", "Öğüt", "mucahit.ogut"),
    ("Çağrı", "Koç", "cagri.koc"),
    ("Halil İbrahim", "Yücel", "halilibrahim.yucel"),
    ("Ömer Faruk", "Güneş", "omerfaruk.gunes"),
    ("Hâkim", "Âşık", "hakim.asik"),
    ("Nûr", "Îlhan", "nur.ilhan"),
    ("Ayşe", "Kaya-Şen", "ayse.kayasen"),
    ("Gül'şen", "O'Neil", "gulsen.oneil"),
    ("Abdulkadir", "Karakoçoğlu", "abdulkadir.karakocog"),
    ("René", "Müller", "rene.muller"),
]


@pytest.mark.parametrize(("given", "family", "expected"), USERNAMES)
def test_username_from_turkish_name(given: str, family: str, expected: str) -> None:
    assert username_base(given, family) == expected


def test_username_from_turkish_name_folds_dotted_capital_i_without_a_combining_dot() -> None:
    # str.lower() would give "i̇" (i + U+0307); the folding must give a plain "i".
    assert fold_ascii("İZMİR") == "izmir"
    assert username_base("İlknur", "İnce").isascii()


def test_username_is_cut_to_twenty_characters_without_a_trailing_dot() -> None:
    assert username_base("Abdurrahmangazi", "Yıldız") == "abdurrahmangazi.yild"
    assert username_base("Muhammedmustafakemal", "Ak") == "muhammedmustafakemal"
    assert all(len(username_base(g, f)) <= 20 for g, f, _ in USERNAMES)


def test_suffix_shortens_the_base_so_the_username_still_fits() -> None:
    assert with_suffix("mehmet.yilmaz", 2) == "mehmet.yilmaz2"
    assert with_suffix("abdulkadir.karakocog", 2) == "abdulkadir.karakoco2"
    assert with_suffix("abdulkadir.karakocog", 12) == "abdulkadir.karakoc12"


def test_a_name_without_letters_cannot_make_a_username() -> None:
    with pytest.raises(ValueError, match="no letters"):
        username_base("—", "Yılmaz")


@pytest.mark.parametrize(
    ("title", "label"),
    [
        ("Fen İşleri", "fen-isleri"),
        ("Kültür Merkezi", "kultur-merkezi"),
        ("  Zabıta / Şube 2 ", "zabita-sube-2"),
        ("ÇAĞRI MERKEZİ", "cagri-merkezi"),
    ],
)
def test_hostname_label_folds_turkish_titles(title: str, label: str) -> None:
    assert hostname_label(title) == label


def test_hostname_label_refuses_text_without_letters() -> None:
    with pytest.raises(ValueError, match="no letters or digits"):
        hostname_label("---")
