"""Insurances 险种 of the contribution export, by the names the contribution system writes, and
the short codes stored. Only 职工基本医疗保险 (``MEDICAL``) makes a person eligible (seed 001 §2.2)."""
from __future__ import annotations

MEDICAL = "med"

INSURANCES = (
    ("med", "职工基本医疗保险", "Employees' basic medical insurance"),
    ("inpatient", "住院医疗保险", "Inpatient medical insurance"),
    ("migrant", "外来工大病医疗保险", "Migrant workers' serious-illness insurance"),
    ("pension", "基本养老保险", "Basic pension insurance"),
    ("unemploy", "失业保险", "Unemployment insurance"),
    ("injury", "工伤保险", "Work injury insurance"),
    ("maternity", "生育保险", "Maternity insurance"),
)
INSURANCE_CODES = {zh: code for code, zh, _ in INSURANCES}
_LABELS = {code: (zh, en) for code, zh, en in INSURANCES}


def insurance_label(code: str, lang: str = "zh") -> str:
    zh, en = _LABELS.get(code, (code, code))
    return en if lang == "en" else zh
