"""Code tables for the application form 申领表代码表.

Each table is a tuple of ``(code, T(zh, en))``; the code is what forms submit and what the
platform stores, the text is only for display.
"""

from __future__ import annotations

from forms.i18n import T

# 性别 sex, GB/T 2261.1 (0 未知 and 9 未说明 are not offered on the application form)
SEXES = (
    ("1", T("男", "Male")),
    ("2", T("女", "Female")),
)

# 民族 ethnicity, GB 3304-1991; the chip stores the 2-digit code (EF06 tag 0B)
_ETHNICITIES = """
01 汉族 Han|02 蒙古族 Mongol|03 回族 Hui|04 藏族 Tibetan|05 维吾尔族 Uyghur|06 苗族 Miao|
07 彝族 Yi|08 壮族 Zhuang|09 布依族 Bouyei|10 朝鲜族 Korean|11 满族 Manchu|12 侗族 Dong|
13 瑶族 Yao|14 白族 Bai|15 土家族 Tujia|16 哈尼族 Hani|17 哈萨克族 Kazakh|18 傣族 Dai|
19 黎族 Li|20 傈僳族 Lisu|21 佤族 Va|22 畲族 She|23 高山族 Gaoshan|24 拉祜族 Lahu|
25 水族 Sui|26 东乡族 Dongxiang|27 纳西族 Naxi|28 景颇族 Jingpo|29 柯尔克孜族 Kyrgyz|
30 土族 Tu|31 达斡尔族 Daur|32 仫佬族 Mulao|33 羌族 Qiang|34 布朗族 Blang|35 撒拉族 Salar|
36 毛南族 Maonan|37 仡佬族 Gelao|38 锡伯族 Xibe|39 阿昌族 Achang|40 普米族 Pumi|
41 塔吉克族 Tajik|42 怒族 Nu|43 乌孜别克族 Uzbek|44 俄罗斯族 Russian|45 鄂温克族 Evenki|
46 德昂族 De'ang|47 保安族 Bonan|48 裕固族 Yugur|49 京族 Gin|50 塔塔尔族 Tatar|
51 独龙族 Derung|52 鄂伦春族 Oroqen|53 赫哲族 Hezhen|54 门巴族 Monpa|55 珞巴族 Lhoba|
56 基诺族 Jino|97 其他 Other|98 外国血统中国籍人士 Chinese citizen of foreign origin
"""
ETHNICITIES = tuple(
    (code, T(zh, en))
    for code, zh, en in (
        item.strip().split(" ", 2) for item in _ETHNICITIES.replace("\n", "").split("|")
    )
)

# 有效身份证件类型 ID document types. Only the resident ID card carries a GB 11643 number.
RESIDENT_ID = "resident_id"
ID_TYPES = (
    (RESIDENT_ID, T("居民身份证", "Resident identity card")),
    ("hk_macao_permit", T("港澳居民来往内地通行证",
                          "Mainland travel permit for Hong Kong and Macao residents")),
    ("taiwan_permit", T("台湾居民来往大陆通行证",
                        "Mainland travel permit for Taiwan residents")),
    ("foreign_permanent_resident", T("外国人永久居留身份证",
                                     "Foreign permanent resident ID card")),
    ("passport", T("护照", "Passport")),
)

# 参加医疗保险或新农合的类型
MEDICAL_INSURANCE_TYPES = (
    ("urban_employee", T("城镇职工基本医疗保险", "Urban employee basic medical insurance")),
    ("urban_resident", T("城镇居民基本医疗保险", "Urban resident basic medical insurance")),
    ("new_rural_cooperative", T("新型农村合作医疗", "New rural cooperative medical scheme")),
    ("other", T("其他", "Other")),
)

# 福建省设区市 (+ 平潭综合实验区, which issues cards on its own): where an existing card was issued
FUJIAN_CITIES = (
    ("350100", T("福州市", "Fuzhou")),
    ("350200", T("厦门市", "Xiamen")),
    ("350300", T("莆田市", "Putian")),
    ("350400", T("三明市", "Sanming")),
    ("350500", T("泉州市", "Quanzhou")),
    ("350600", T("漳州市", "Zhangzhou")),
    ("350700", T("南平市", "Nanping")),
    ("350800", T("龙岩市", "Longyan")),
    ("350900", T("宁德市", "Ningde")),
    ("350128", T("平潭综合实验区", "Pingtan Comprehensive Experimental Zone")),
)

YES, NO = "yes", "no"
YES_NO = (
    (YES, T("是", "Yes")),
    (NO, T("否", "No")),
)

