"""The generator's vocabulary and fixed figures: columns, insurances, shares of each outcome,
names, places, firms (plain data)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from app.procedures.batch.states import Eligibility

CITIES_DIR = Path(__file__).parent.parent / "cities"
DEFAULT_CUTOFF = date(2026, 6, 30)

CONTRIBUTION_HEADER = ("参保区域", "单位社保编码", "单位名称", "部门", "二级部门", "姓名", "性别",
                       "身份证号", "险种", "参保日期")
POLICE_HEADER = ("身份证号", "姓名", "性别", "民族", "出生日期", "户籍地址", "户籍区划", "二代身份证")

MEDICAL = "职工基本医疗保险"
INPATIENT = "住院医疗保险"
MIGRANT_SERIOUS = "外来工大病医疗保险"
PENSION = "基本养老保险"
UNEMPLOYMENT = "失业保险"
INJURY = "工伤保险"
MATERNITY = "生育保险"
INSURANCES = (MEDICAL, INPATIENT, MIGRANT_SERIOUS, PENSION, UNEMPLOYMENT, INJURY, MATERNITY)
UNKNOWN_INSURANCE = "商业补充医疗保险"

#: (outcome, share of ``persons``) in the order of the rules; eligible takes the rest.
SHARES = (
    (Eligibility.EXCLUDED_AFTER_CUTOFF, 0.02),
    (Eligibility.EXCLUDED_INSURANCE, 0.03),
    (Eligibility.HELD_DUPLICATE_REGION, 0.01),
    (Eligibility.NOT_IN_REGISTER, 0.01),
    (Eligibility.NOT_LOCAL_HOUSEHOLD, 0.01),
    (Eligibility.NO_SECOND_GEN_ID, 0.005),
    (Eligibility.POLICE_MISMATCH, 0.01),
)
STATUSES = (Eligibility.ELIGIBLE,) + tuple(s for s, _ in SHARES)
#: the keys of ``flask --app app batch-import --json`` (without "batch"), in its order
COUNT_KEYS = ("rows", "rejected_rows", "persons", "eligible", "held_duplicate_region",
              "excluded_insurance", "excluded_after_cutoff", "not_in_register",
              "not_local_household", "no_second_gen_id", "police_mismatch", "employers")

# category numbers (index into STATUSES)
_ELIGIBLE, _AFTER, _INSURANCE, _DUP, _NOT_REG, _NOT_LOCAL, _NO2, _MISMATCH = range(8)

# ---------------------------------------------------------------------------- vocabulary

# surnames read specially as surnames (单 shàn, 曾 zēng, 解 xiè, 仇 qiú, 区 ōu, 朴 piáo,
# 查 zhā, 盖 gě, 覃 qín) and compound ones, for the roster's pinyin order
SPECIAL_SURNAMES = ("单", "曾", "解", "仇", "区", "朴", "查", "盖", "覃", "欧阳", "司马", "诸葛")
COMMON_SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高郑梁谢宋唐许韩冯邓曹彭肖田董袁潘蒋蔡余杜叶程苏魏吕丁"
    "任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严"
    "武戴莫孔向汤应俞舒竺鲍虞褚")
GIVEN_MALE = "伟刚勇毅俊峰强军平保东文辉力明永健世广志义兴良海山仁波宁贵福生龙元全国胜学祥才发武新利清飞彬富顺信子杰涛昌成康星光天达安岩中茂进林有坚和彪博诚先敬震振壮会思群豪心邦承乐绍功松善厚庆磊民友裕河哲江超浩亮政谦亨奇固之轮翰朗伯宏言若鸣朋斌梁栋维启克伦翔旭鹏泽晨辰士以建家致树炎德行时泰盛雄琛钧冠策腾楠榕风航弘"
GIVEN_FEMALE = "秀娟英华慧巧美娜静淑惠珠翠雅芝玉萍红娥玲芬芳燕彩春菊兰凤洁梅琳素云莲真环雪荣爱妹霞香月莺媛艳瑞凡佳嘉琼勤珍贞莉桂娣叶璧璐娅琦晶妍茜秋珊莎锦黛青倩婷姣婉娴瑾颖露瑶怡婵雁蓓纨仪荷丹蓉眉君琴蕊薇菁梦岚苑婕馨瑗琰韵融园艺咏卿聪澜纯毓悦昭冰爽琬茗羽希宁欣飘育滢馥筠柔竹霭凝晓欢霄枫芸菲寒伊亚宜可姬舒影荔枝思丽"
NATIONS = (("01", "汉族"), ("03", "回族"), ("11", "满族"), ("15", "土家族"), ("22", "畲族"),
           ("06", "苗族"), ("08", "壮族"), ("02", "蒙古族"), ("10", "朝鲜族"))
# births elsewhere (migrants whose household moved here, or who stayed registered at home)
OTHER_BIRTH_CODES = ("330102", "330302", "331002", "340102", "360102", "410102", "420102",
                     "430102", "510104", "320102", "350203", "350582")
# households outside the city: (code, address prefix)
FOREIGN_HOUSEHOLDS = (
    ("340102", "安徽省合肥市瑶海区"), ("360102", "江西省南昌市东湖区"),
    ("410102", "河南省郑州市中原区"), ("420102", "湖北省武汉市江岸区"),
    ("430102", "湖南省长沙市芙蓉区"), ("510104", "四川省成都市锦江区"),
    ("320102", "江苏省南京市玄武区"), ("330102", "浙江省杭州市上城区"),
    ("350203", "福建省厦门市思明区"), ("330302", "浙江省温州市鹿城区"),
)
ROADS = ("中山路", "解放路", "人民路", "环城北路", "江东路", "百丈路", "兴宁路", "世纪大道", "文化路",
         "新华街", "前进路", "县前街", "桃源街道", "建设路", "和平路", "东风路", "南大路")
FIRM_WORDS = ("恒达", "华泰", "东方", "甬兴", "海天", "金鹰", "永盛", "宏远", "博力", "瑞丰", "天明",
              "新亚", "三星", "联创", "中信", "鑫源", "利华", "正大", "明州", "四明", "北仑", "长城",
              "汇丰", "德力", "精工", "华峰", "凯达", "银河", "嘉诚", "群力", "富邦", "锦程", "信诚",
              "康平", "星辰", "万顺", "国泰", "泰和", "协力", "大昌")
FIRM_TRADES = ("机械", "电器", "模具", "塑料", "纺织", "服装", "五金", "汽车零部件", "轴承", "电子",
               "化工", "包装", "物流", "建设", "食品", "家电", "光电", "文具", "水产", "针织",
               "印刷", "不锈钢制品", "医疗器械", "软件", "贸易")
FIRM_FORMS = ("有限公司", "有限公司", "有限公司", "股份有限公司", "集团有限公司", "有限责任公司")
DEPTS = ("办公室", "财务部", "人力资源部", "生产部", "销售部", "技术部", "质检部", "仓储部", "采购部",
         "行政部", "后勤部", "研发中心", "工程部", "市场部", "客服中心")
SUBDEPTS = ("一车间", "二车间", "三车间", "装配车间", "包装车间", "华东区", "华南区", "华北区",
            "研发一组", "研发二组", "质检组", "维修班", "保安队", "食堂", "综合科")
