"""Roster order 花名册排序: "persons of an employer sorted by the pinyin of the name" (seed 001
§3.2), with the surname read as a surname (单田芳 is Shàn Tiánfāng, under S; 曾 zēng, 区 ōu,
compound 欧阳 ōuyáng, 万俟 mòqí: ``surnames``).

``roster_key(name)`` is a string that sorts right under plain binary comparison (Python ``<``,
SQLite BINARY, PostgreSQL ``COLLATE "C"``), so the import pipeline can store it in
``Person.sort_key`` and number the roster in SQL. Its three parts, compared in this order:

1. the syllables' letters, syllables separated by ``'`` (lower than every letter and digit:
   shan before shang, xi'an 西安 before xian 先); ü is compared as u (lü right after lu, as in
   the 现代汉语词典), Latin words lower-cased, as one "syllable" each;
2. after a space (lower than ``'``: a shorter name before a longer one with the same start),
   two digits per syllable: 1 for ü else 0, and the tone (1-4, 5 neutral; 0 for Latin words);
3. after a space, the name itself: the characters break the last ties.

Given names keep pypinyin's usual reading of each character (no phrase guessing: a name is not
a phrase, and a reading per character can be cached, which keeps 100,000 names at well under a
second).
"""
from __future__ import annotations

import unicodedata

from pypinyin import Style, pinyin

from app.procedures.batch.surnames import COMPOUND, SINGLE

#: Person.sort_key is String(200)
MAX_LENGTH = 200

_SYLLABLE_SEP = "'"
_PART_SEP = " "
# a middle dot separates the parts of a transliterated minority name (阿依古丽·买买提): such a
# name has no Chinese surname in front, so no surname reading applies
_DOTS = frozenset("·•・‧.．")

# what a character contributes: ("s", letters, code) a syllable, ("w", letter) part of a
# word of letters or digits, or None (a separator: space, dot, punctuation)
_CHARS: dict[str, tuple | None] = {}


def _syllable(reading: str) -> tuple[str, str]:
    """TONE3 reading ("lv3") -> letters with ü as u ("lu") and the two-digit code ("13")."""
    tone = reading[-1] if reading[-1].isdigit() else "5"
    letters = reading.rstrip("012345")
    umlaut = "1" if "v" in letters or "ü" in letters else "0"
    return letters.replace("v", "u").replace("ü", "u"), umlaut + tone


def _read(ch: str) -> tuple | None:
    found = pinyin(ch, style=Style.TONE3, neutral_tone_with_five=True, errors="ignore")
    if found and found[0] and found[0][0]:
        return ("s", *_syllable(found[0][0]))
    if ch.isalnum():      # Latin letters, digits, and characters pypinyin has no reading for
        return ("w", unicodedata.normalize("NFKC", ch).lower())   # full-width Ａ as a
    return None


def _char(ch: str) -> tuple | None:
    try:
        return _CHARS[ch]
    except KeyError:
        found = _CHARS[ch] = _read(ch)
        return found


_SURNAMES = {
    name: [("s", *_syllable(r)) for r in readings]
    for table in (SINGLE, COMPOUND) for name, readings in table.items()
}


def _surname(name: str) -> tuple[int, list]:
    """How many leading characters are a surname, and their readings (compound first)."""
    if _DOTS.isdisjoint(name):
        for n in (2, 1):
            readings = _SURNAMES.get(name[:n]) if len(name) >= n else None
            if readings is not None:
                return n, readings
    return 0, []


def roster_key(name: str) -> str:
    """The roster sort key of a person's name (see the module docstring)."""
    name = (name or "").strip()
    start, readings = _surname(name)
    letters: list[str] = []
    codes: list[str] = []
    for _, syllable, code in readings:
        letters.append(syllable)
        codes.append(code)
    word = ""
    for ch in name[start:]:
        kind = _char(ch)
        if kind is not None and kind[0] == "w":
            word += kind[1]
            continue
        if word:
            letters.append(word)
            codes.append("00")
            word = ""
        if kind is not None:
            letters.append(kind[1])
            codes.append(kind[2])
    if word:
        letters.append(word)
        codes.append("00")
    key = _SYLLABLE_SEP.join(letters) + _PART_SEP + "".join(codes) + _PART_SEP + name
    return key[:MAX_LENGTH]
