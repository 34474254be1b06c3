"""Demo data of the embedded police register 演示数据：公安户籍.

Persons with valid citizen ID numbers of 石狮市 (350581), check characters computed. Most
match what they would write on the application form; ``APPLIES_AS`` lists the ones whose form
data differs from the register (a mismatch to correct or to give up on), and
``NOT_IN_REGISTER`` the person the register does not know.
"""
from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session
from stdnum.cn import ric

from app.adapters.police import PoliceRegisterPerson


def citizen_id(region: str, birth: date, seq: str) -> str:
    """A GB 11643 number: region (6) + birth date (8) + sequence (3; odd = male) + check."""
    body = f"{region}{birth:%Y%m%d}{seq}"
    return body + ric.calc_check_digit(body + "0")


def _p(key, name, sex, birth, seq, address, region="350581", household_region=None,
       ethnicity="01", second_gen=True):
    birth = date.fromisoformat(birth)
    return {"key": key, "name": name, "sex": sex, "birth_date": birth,
            "id_number": citizen_id(region, birth, seq), "ethnicity": ethnicity,
            "household_address": address, "household_region": household_region or region,
            "has_second_gen_id": second_gen}


# Persons as the police register knows them.
PERSONS = [
    _p("lin_kun", "林堃", "1", "1990-03-07", "131", "福建省石狮市宝盖镇塘后村前街12号"),  # rare character 堃
    _p("chen_xiuying", "陈秀英", "2", "1985-06-12", "022", "福建省石狮市湖滨街道振狮路88号"),
    _p("wang_jianguo", "王建国", "1", "1962-10-01", "015", "福建省石狮市凤里街道八七路203号"),
    _p("huang_lihua", "黄丽华", "2", "1978-02-28", "046", "福建省石狮市灵秀镇钞坑村中兴路7号"),
    _p("cai_zhiming", "蔡志明", "1", "1995-11-20", "057", "福建省石狮市蚶江镇石湖村渔港路15号"),
    _p("shi_yating", "施雅婷", "2", "2000-04-18", "068", "福建省石狮市祥芝镇祥渔村海滨路21号"),
    _p("hong_wenjie", "洪文杰", "1", "1988-08-08", "079", "福建省石狮市鸿山镇东埔村三区5号"),
    _p("wu_meiling", "吴美玲", "2", "1972-12-05", "080", "福建省石狮市永宁镇永宁村城隍街30号",
       ethnicity="22"),  # 畲族
    _p("li_minghui", "李明辉", "1", "1983-05-21", "091", "福建省石狮市宝盖镇后宅村新华路66号"),
    _p("zheng_shuzhen", "郑淑贞", "2", "1958-09-30", "102", "福建省石狮市湖滨街道长福社区11号"),
    # the register spells him 张玮; he writes 张伟 on the form (a typo the clerk can correct)
    _p("zhang_wei", "张玮", "1", "1992-07-15", "113", "福建省石狮市凤里街道大仑社区4号"),
    # register error: recorded as male although the ID number is a woman's (not solvable on the spot)
    _p("xu_xiaoyan", "许晓燕", "1", "1998-01-09", "124", "福建省石狮市灵秀镇古卿村18号"),
    # household in 厦门市思明区: not a local household
    _p("liu_yang", "刘洋", "1", "1993-06-01", "151", "福建省厦门市思明区鹭江道100号",
       region="350203", household_region="350203"),
]

# The form data a person gives where it differs from the register above.
APPLIES_AS = {
    "zhang_wei": {"name": "张伟"},
    "xu_xiaoyan": {"sex": "2"},
}

# Applies, but the register has never heard of him.
NOT_IN_REGISTER = _p("qiu_zhiqiang", "邱志强", "1", "1980-03-03", "135",
                     "福建省石狮市永宁镇沙美村7号")

BY_KEY = {p["key"]: p for p in [*PERSONS, NOT_IN_REGISTER]}


def seed_police_register(session: Session) -> int:
    """Insert the demo persons not yet present; returns how many were added."""
    added = 0
    for person in PERSONS:
        if session.get(PoliceRegisterPerson, person["id_number"]) is None:
            session.add(PoliceRegisterPerson(**{k: v for k, v in person.items() if k != "key"}))
            added += 1
    session.flush()
    return added
