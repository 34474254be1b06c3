"""The deployment's city 本市配置: its insured regions (参保区域, seed 001 §1.4) and partner banks
(合作银行, §1.2), from a JSON file (``cities/*.json``, ``flask --app app city-config FILE``) or
the administrator's page. Format::

    {"city": "宁波市",
     "regions": [{"code": "330200", "name": "市区"}, ...],          # 6-digit division codes
     "banks": [{"code": "ICBC", "name": "中国工商银行", "short_name": "工商银行"}, ...]}
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from app.common.errors import BilingualError
from app.procedures.batch.models import CityRegion, CitySetting, PartnerBank

CITIES_DIR = Path(__file__).parent / "cities"
DEFAULT_CITY = CITIES_DIR / "shishi.json"


class CityConfigError(BilingualError):
    kind = "invalid"

    def __init__(self, zh: str, en: str):
        super().__init__(zh, en, code="city_config")


@dataclass(frozen=True)
class City:
    name: str
    regions: dict[str, str]   # code -> name, in order
    banks: dict[str, str]     # code -> short name, in order
    bank_names: dict[str, str]  # code -> full name

    @property
    def sms_signature(self) -> str:
        """【宁波人社】: the signature of the city's human-resources and social-security bureau,
        which the carriers require at the head of every message."""
        short = self.name[:-1] if len(self.name) > 2 and self.name[-1] in "市县区" else self.name
        return f"【{short}人社】"

    @property
    def prefixes(self) -> frozenset[str]:
        """First four digits of the regions' codes: households there are local."""
        return frozenset(code[:4] for code in self.regions)


def parse(data) -> dict:
    """Check a configuration (a dict as in the module docstring); the cleaned dict."""
    if not isinstance(data, dict):
        raise CityConfigError("配置应为 JSON 对象", "The configuration must be a JSON object")
    city = str(data.get("city") or "").strip()
    if not city:
        raise CityConfigError("缺少城市名称（city）", "The city's name (city) is missing")
    regions, banks = data.get("regions"), data.get("banks")
    if not isinstance(regions, list) or not regions:
        raise CityConfigError("至少应有一个参保区域（regions）", "At least one insured region is needed")
    if not isinstance(banks, list) or not banks:
        raise CityConfigError("至少应有一家合作银行（banks）", "At least one partner bank is needed")
    seen = set()
    clean_regions = []
    for i, r in enumerate(regions, 1):
        code, name = str((r or {}).get("code", "")).strip(), str((r or {}).get("name", "")).strip()
        if not re.fullmatch(r"\d{6}", code) or not name:
            raise CityConfigError(f"第 {i} 个参保区域应有 6 位区划代码和名称",
                                  f"Region {i} needs a 6-digit division code and a name")
        if code in seen:
            raise CityConfigError(f"参保区域代码 {code} 重复", f"Region code {code} appears twice")
        seen.add(code)
        clean_regions.append({"code": code, "name": name[:50]})
    clean_banks = []
    for i, b in enumerate(banks, 1):
        code = str((b or {}).get("code", "")).strip().upper()
        name = str((b or {}).get("name", "")).strip()
        short = str((b or {}).get("short_name") or name).strip()
        if not re.fullmatch(r"[A-Z]{2,10}", code) or not name:
            raise CityConfigError(f"第 {i} 家合作银行应有代码（2-10 个大写字母）和名称",
                                  f"Bank {i} needs a code (2-10 capital letters) and a name")
        if code in seen:
            raise CityConfigError(f"银行代码 {code} 重复", f"Bank code {code} appears twice")
        seen.add(code)
        clean_banks.append({"code": code, "name": name[:50], "short_name": short[:20]})
    return {"city": city[:50], "regions": clean_regions, "banks": clean_banks}


def load_file(path) -> dict:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8-sig"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise CityConfigError(f"无法读取配置文件：{e}", f"Cannot read the configuration file: {e}")
    return parse(data)


def apply(session: Session, config: dict) -> None:
    """Replace the city's configuration (in the caller's transaction)."""
    config = parse(config)
    session.execute(delete(CityRegion))
    session.execute(delete(PartnerBank))
    for i, r in enumerate(config["regions"]):
        session.add(CityRegion(code=r["code"], name=r["name"], sort=i))
    for i, b in enumerate(config["banks"]):
        session.add(PartnerBank(code=b["code"], name=b["name"], short_name=b["short_name"], sort=i))
    setting = session.get(CitySetting, "city")
    if setting is None:
        session.add(CitySetting(key="city", value=config["city"]))
    else:
        setting.value = config["city"]
    session.flush()


def current(session: Session) -> City:
    """The configured city; the embedded default (Shishi) when none was configured yet."""
    regions = session.execute(select(CityRegion.code, CityRegion.name).order_by(CityRegion.sort)).all()
    if not regions:
        apply(session, load_file(DEFAULT_CITY))
        return current(session)
    banks = session.execute(select(PartnerBank.code, PartnerBank.short_name, PartnerBank.name)
                            .order_by(PartnerBank.sort)).all()
    setting = session.get(CitySetting, "city")
    return City(name=setting.value if setting else "", regions=dict(regions),
                banks={c: s for c, s, _ in banks}, bank_names={c: n for c, _, n in banks})


def as_dict(city: City) -> dict:
    return {"city": city.name,
            "regions": [{"code": c, "name": n} for c, n in city.regions.items()],
            "banks": [{"code": c, "name": city.bank_names[c], "short_name": s}
                      for c, s in city.banks.items()]}
