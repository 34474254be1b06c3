"""Roster order 花名册排序 (seed 001 §3.2): pinyin of the name, surname read as a surname, and a
key that sorts the same in Python, SQLite BINARY and PostgreSQL COLLATE "C"."""
from __future__ import annotations

import random
import sqlite3
import time

import pytest

from app.procedures.batch.pinyin import MAX_LENGTH, roster_key
from app.procedures.batch.surnames import COMPOUND, SINGLE


def letters(name: str) -> str:
    """The syllables part of the key."""
    return roster_key(name).split(" ", 1)[0]


def ordered(names):
    return sorted(names, key=roster_key)


@pytest.mark.parametrize("name, expected", [
    ("单田芳", "shan'tian'fang"), ("曾国藩", "zeng'guo'fan"), ("区志伟", "ou'zhi'wei"),
    ("仇英", "qiu'ying"), ("解晓东", "xie'xiao'dong"), ("朴槿惠", "piao'jin'hui"),
    ("查良镛", "zha'liang'yong"), ("盖聂", "ge'nie"), ("覃斌", "qin'bin"), ("乐嘉", "yue'jia"),
    ("缪杰", "miao'jie"), ("翟强", "zhai'qiang"), ("能静", "nai'jing"), ("黑涛", "he'tao"),
    ("尉迟恭", "yu'chi'gong"), ("万俟卨", "mo'qi'xie"), ("单于洪", "chan'yu'hong"),
    ("长孙无忌", "zhang'sun'wu'ji"), ("欧阳修", "ou'yang'xiu"), ("司马光", "si'ma'guang"),
    ("诸葛亮", "zhu'ge'liang"), ("澹台灭明", "tan'tai'mie'ming"), ("单", "shan"),
])
def test_surnames_are_read_as_surnames(name, expected):
    assert letters(name) == expected


def test_the_surname_table_is_complete():
    # the Hundred Family Surnames (百家姓) and the compound ones, not a handful
    assert len(SINGLE) >= 440 and len(COMPOUND) >= 60
    assert {"单", "曾", "解", "仇", "区", "朴", "查", "盖", "覃", "乐", "员", "缪", "繁", "秘", "种",
            "过", "祭", "句", "冼", "召", "翟", "都", "折", "黑", "隗", "牟", "宓", "筱", "藏", "能",
            "谌", "褚"} <= set(SINGLE)
    assert {"尉迟", "万俟", "单于", "长孙", "鲜于", "澹台", "令狐", "皇甫", "欧阳", "司马", "诸葛",
            "上官", "东方", "夏侯", "闻人", "公孙", "慕容", "宇文", "司徒", "司空"} <= set(COMPOUND)


def test_surnames_sort_under_their_surname_letter():
    assert ordered(["沈腾", "单田芳"]) == ["单田芳", "沈腾"]        # shan before shen, not dan
    assert ordered(["邓超", "单田芳", "沈腾"]) == ["邓超", "单田芳", "沈腾"]
    assert ordered(["岑参", "曾国藩", "张三"]) == ["岑参", "曾国藩", "张三"]   # cen, zeng, zhang
    assert ordered(["瞿秋白", "区志伟", "欧阳修", "潘安"]) == ["欧阳修", "区志伟", "潘安", "瞿秋白"]
    assert ordered(["仇英", "周杰", "曹操"]) == ["曹操", "仇英", "周杰"]          # cao, qiu, zhou


def test_order_of_a_roster_worked_out_by_hand():
    expected = [
        "艾青",      # ai
        "安娜",      # an
        "单于洪",    # chan'yu (compound surname)
        "丁一",      # ding'yi, tone 1
        "丁乙",      # ding'yi, tone 3
        "欧阳修",    # ou'yang
        "区志伟",    # ou'zhi
        "朴槿惠",    # piao
        "仇英",      # qiu
        "单田芳",    # shan'  ("'" before "g")
        "尚进",      # shang
        "沈腾",      # shen
        "司马光",    # si'ma
        "汪安",      # wang'an, wang1
        "王安",      # wang'an, wang2
        "王安石",    # wang'an'shi: the shorter name first
        "王单",      # wang'dan: 单 in a given name stays dan
        "席安",      # xi'an
        "冼安",      # xian'an
        "谢霆锋",    # xie'ting
        "解晓东",    # xie'xiao
        "曾国藩",    # zeng (ze before zh)
        "查理",      # zha
        "诸葛亮",    # zhu'ge
    ]
    shuffled = expected[:]
    random.Random(7).shuffle(shuffled)
    assert ordered(shuffled) == expected


def test_characters_break_the_last_tie():
    # same letters and tones (张伟 / 章玮: zhang1 wei3): the characters decide, and the order
    # is stable whatever the input order
    a, b = roster_key("张伟"), roster_key("章玮")
    assert a.split(" ")[:2] == b.split(" ")[:2] and a != b
    assert ordered(["章玮", "张伟"]) == ordered(["张伟", "章玮"])


def test_u_umlaut_sorts_as_u_then_after_it():
    # 卢 lú, 鲁 lǔ, 吕 lǚ, 栾 luán (现代汉语词典 order: lu, lü, luan)
    assert ordered(["栾", "吕", "鲁", "卢"]) == ["卢", "鲁", "吕", "栾"]


def test_given_names_keep_their_usual_reading():
    assert letters("李曾") == "li'ceng"
    assert letters("张乐") == "zhang'le"
    assert letters("王单") == "wang'dan"
    assert letters("刘长") == "liu'zhang"
    assert letters("陈行") == "chen'xing"


@pytest.mark.parametrize("name", [
    "", "   ", None, "Anna", "ＡＢＣ", "123", "阿依古丽·买买提", "迪丽热巴•迪力木拉提", "王-小明",
    "𠀀", "😀", "单", "欧阳", "张 三", "O'Neil 李", "李" * 300,
])
def test_odd_input_does_not_crash(name):
    key = roster_key(name)
    assert isinstance(key, str) and len(key) <= MAX_LENGTH


def test_minority_and_latin_names():
    # the dot separates the parts of the name; no surname reading (阿 is not a surname here)
    assert letters("阿依古丽·买买提") == "a'yi'gu'li'mai'mai'ti"
    assert letters("Anna") == "anna" and letters("ＡＢＣ") == "abc"
    assert ordered(["Zoe", "安娜", "Anna"]) == ["安娜", "Anna", "Zoe"]   # an before anna


NAMES = ["单田芳", "沈腾", "曾国藩", "区志伟", "欧阳修", "王安", "汪安", "王安石", "吕布", "卢俊",
         "席安", "冼安", "Anna", "阿依古丽·买买提", "张伟", "章玮", "诸葛亮", "查理", "", "单"]


def test_sqlite_binary_order_is_the_python_order():
    db = sqlite3.connect(":memory:")
    db.execute("CREATE TABLE p (name TEXT, k TEXT)")
    db.executemany("INSERT INTO p VALUES (?, ?)", [(n, roster_key(n)) for n in NAMES])
    got = [r[0] for r in db.execute("SELECT name FROM p ORDER BY k COLLATE BINARY")]
    assert got == ordered(NAMES)


@pytest.mark.postgres
def test_postgresql_collate_c_order_is_the_python_order(pg_url):
    from sqlalchemy import text

    from app.engine.db import make_engine
    engine = make_engine(pg_url)
    try:
        with engine.connect() as c:
            values = ", ".join(f"(:n{i}, :k{i})" for i in range(len(NAMES)))
            params = {f"n{i}": n for i, n in enumerate(NAMES)}
            params |= {f"k{i}": roster_key(n) for i, n in enumerate(NAMES)}
            rows = c.execute(text(f'SELECT n FROM (VALUES {values}) AS v(n, k) '
                                  f'ORDER BY k COLLATE "C"'), params)
            assert [r[0] for r in rows] == ordered(NAMES)
    finally:
        engine.dispose()


def test_one_hundred_thousand_names_in_a_few_seconds():
    rng = random.Random(1)
    surnames = list(SINGLE) + list(COMPOUND)
    given = [chr(c) for c in range(0x4E00, 0x9FA5)]
    names = [rng.choice(surnames) + "".join(rng.choices(given, k=rng.choice((1, 2))))
             for _ in range(100_000)]
    start = time.perf_counter()
    keys = [roster_key(n) for n in names]
    elapsed = time.perf_counter() - start
    assert len(keys) == 100_000
    assert elapsed < 5, f"{elapsed:.2f} s"
