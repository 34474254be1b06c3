"""Surname readings 姓氏读音: the Hundred Family Surnames (百家姓, every single and compound
surname) and the common surnames it lacks, each with the reading it has AS A SURNAME (单 shàn,
曾 zēng, 区 ōu, 仇 qiú, 万俟 mòqí ...). pypinyin (0.55) ships no surname table and reads a name's
first character like any word, so the roster 花名册 needs this one (seed 001 §3.2).

Readings are pypinyin's TONE3 spelling: letters, ``v`` for ü, tone digit 1-4 (5 = neutral).
Each entry is the surname followed by one reading per character. Where a surname has two
readings in use, the more common one is kept (乐 yuè, not lè; 隗 wěi, not kuí).
"""
from __future__ import annotations

import re

# 百家姓, single surnames, in the text's order (赵钱孙李 ... 盖益桓公, then the single ones
# between the compound ones at the end: 仉督 ... 言福)
_HUNDRED_SINGLE = """
赵zhao4 钱qian2 孙sun1 李li3 周zhou1 吴wu2 郑zheng4 王wang2
冯feng2 陈chen2 褚chu3 卫wei4 蒋jiang3 沈shen3 韩han2 杨yang2
朱zhu1 秦qin2 尤you2 许xu3 何he2 吕lv3 施shi1 张zhang1
孔kong3 曹cao2 严yan2 华hua4 金jin1 魏wei4 陶tao2 姜jiang1
戚qi1 谢xie4 邹zou1 喻yu4 柏bai3 水shui3 窦dou4 章zhang1
云yun2 苏su1 潘pan1 葛ge3 奚xi1 范fan4 彭peng2 郎lang2
鲁lu3 韦wei2 昌chang1 马ma3 苗miao2 凤feng4 花hua1 方fang1
俞yu2 任ren2 袁yuan2 柳liu3 酆feng1 鲍bao4 史shi3 唐tang2
费fei4 廉lian2 岑cen2 薛xue1 雷lei2 贺he4 倪ni2 汤tang1
滕teng2 殷yin1 罗luo2 毕bi4 郝hao3 邬wu1 安an1 常chang2
乐yue4 于yu2 时shi2 傅fu4 皮pi2 卞bian4 齐qi2 康kang1
伍wu3 余yu2 元yuan2 卜bu3 顾gu4 孟meng4 平ping2 黄huang2
和he2 穆mu4 萧xiao1 尹yin3 姚yao2 邵shao4 湛zhan4 汪wang1
祁qi2 毛mao2 禹yu3 狄di2 米mi3 贝bei4 明ming2 臧zang1
计ji4 伏fu2 成cheng2 戴dai4 谈tan2 宋song4 茅mao2 庞pang2
熊xiong2 纪ji3 舒shu1 屈qu1 项xiang4 祝zhu4 董dong3 梁liang2
杜du4 阮ruan3 蓝lan2 闵min3 席xi2 季ji4 麻ma2 强qiang2
贾jia3 路lu4 娄lou2 危wei1 江jiang1 童tong2 颜yan2 郭guo1
梅mei2 盛sheng4 林lin2 刁diao1 钟zhong1 徐xu2 邱qiu1 骆luo4
高gao1 夏xia4 蔡cai4 田tian2 樊fan2 胡hu2 凌ling2 霍huo4
虞yu2 万wan4 支zhi1 柯ke1 昝zan3 管guan3 卢lu2 莫mo4
经jing1 房fang2 裘qiu2 缪miao4 干gan1 解xie4 应ying1 宗zong1
丁ding1 宣xuan1 贲ben1 邓deng4 郁yu4 单shan4 杭hang2 洪hong2
包bao1 诸zhu1 左zuo3 石shi2 崔cui1 吉ji2 钮niu3 龚gong1
程cheng2 嵇ji1 邢xing2 滑hua2 裴pei2 陆lu4 荣rong2 翁weng1
荀xun2 羊yang2 於yu1 惠hui4 甄zhen1 曲qu1 家jia1 封feng1
芮rui4 羿yi4 储chu3 靳jin4 汲ji2 邴bing3 糜mi2 松song1
井jing3 段duan4 富fu4 巫wu1 乌wu1 焦jiao1 巴ba1 弓gong1
牧mu4 隗wei3 山shan1 谷gu3 车che1 侯hou2 宓mi4 蓬peng2
全quan2 郗xi1 班ban1 仰yang3 秋qiu1 仲zhong4 伊yi1 宫gong1
宁ning4 仇qiu2 栾luan2 暴bao4 甘gan1 钭tou3 厉li4 戎rong2
祖zu3 武wu3 符fu2 刘liu2 景jing3 詹zhan1 束shu4 龙long2
叶ye4 幸xing4 司si1 韶shao2 郜gao4 黎li2 蓟ji4 薄bo2
印yin4 宿su4 白bai2 怀huai2 蒲pu2 邰tai2 从cong2 鄂e4
索suo3 咸xian2 籍ji2 赖lai4 卓zhuo2 蔺lin4 屠tu2 蒙meng2
池chi2 乔qiao2 阴yin1 鬱yu4 胥xu1 能nai4 苍cang1 双shuang1
闻wen2 莘shen1 党dang3 翟zhai2 谭tan2 贡gong4 劳lao2 逄pang2
姬ji1 申shen1 扶fu2 堵du3 冉ran3 宰zai3 郦li4 雍yong1
卻xi4 璩qu2 桑sang1 桂gui4 濮pu2 牛niu2 寿shou4 通tong1
边bian1 扈hu4 燕yan1 冀ji4 郏jia2 浦pu3 尚shang4 农nong2
温wen1 别bie2 庄zhuang1 晏yan4 柴chai2 瞿qu2 阎yan2 充chong1
慕mu4 连lian2 茹ru2 习xi2 宦huan4 艾ai4 鱼yu2 容rong2
向xiang4 古gu3 易yi4 慎shen4 戈ge1 廖liao4 庾yu3 终zhong1
暨ji4 居ju1 衡heng2 步bu4 都du1 耿geng3 满man3 弘hong2
匡kuang1 国guo2 文wen2 寇kou4 广guang3 禄lu4 阙que1 东dong1
欧ou1 殳shu1 沃wo4 利li4 蔚yu4 越yue4 夔kui2 隆long2
师shi1 巩gong3 厍she4 聂nie4 晁chao2 勾gou1 敖ao2 融rong2
冷leng3 訾zi1 辛xin1 阚kan4 那na1 简jian3 饶rao2 空kong1
曾zeng1 毋wu2 沙sha1 乜nie4 养yang3 鞠ju1 须xu1 丰feng1
巢chao2 关guan1 蒯kuai3 相xiang4 查zha1 後hou4 荆jing1 红hong2
游you2 竺zhu2 权quan2 逯lu4 盖ge3 益yi4 桓huan2 公gong1
仉zhang3 督du1 晋jin4 楚chu3 闫yan2 法fa3 汝ru3 鄢yan1
涂tu2 钦qin1 岳yue4 帅shuai4 缑gou1 亢kang4 况kuang4 郈hou4
有you3 琴qin2 商shang1 牟mou2 佘she2 佴nai4 墨mo4 哈ha3
谯qiao2 笪da2 年nian2 爱ai4 阳yang2 佟tong2 言yan2 福fu2
"""

# 百家姓, compound surnames 复姓 (万俟 ... 第五)
_HUNDRED_COMPOUND = """
万俟mo4qi2 司马si1ma3 上官shang4guan1 欧阳ou1yang2 夏侯xia4hou2 诸葛zhu1ge3
闻人wen2ren2 东方dong1fang1 赫连he4lian2 皇甫huang2fu3 尉迟yu4chi2 公羊gong1yang2
澹台tan2tai2 公冶gong1ye3 宗政zong1zheng4 濮阳pu2yang2 淳于chun2yu2 单于chan2yu2
太叔tai4shu1 申屠shen1tu2 公孙gong1sun1 仲孙zhong4sun1 轩辕xuan1yuan2 令狐ling2hu2
钟离zhong1li2 宇文yu3wen2 长孙zhang3sun1 慕容mu4rong2 鲜于xian1yu2 闾丘lv2qiu1
司徒si1tu2 司空si1kong1 亓官qi2guan1 司寇si1kou4 子车zi3ju1 颛孙zhuan1sun1
端木duan1mu4 巫马wu1ma3 公西gong1xi1 漆雕qi1diao1 乐正yue4zheng4 壤驷rang3si4
公良gong1liang2 拓跋tuo4ba2 夹谷jia2gu3 宰父zai3fu3 谷梁gu3liang2 段干duan4gan1
百里bai3li3 东郭dong1guo1 南门nan2men2 呼延hu1yan2 归海gui1hai3 羊舌yang2she2
微生wei1sheng1 梁丘liang2qiu1 左丘zuo3qiu1 东门dong1men2 西门xi1men2 伯赏bo2shang3
南宫nan2gong1 第五di4wu3
"""

# common surnames outside the 百家姓 text, or written with another character, whose reading as
# a surname is not the character's usual one (覃 qín, 区 ōu, 朴 piáo ...) or that rosters meet
# often (肖 xiāo, 付 fù ...)
_MORE_SINGLE = """
覃qin2 冼xian3 区ou1 朴piao2 员yun4 贠yun4 繁po2 秘bi4 种chong2 过guo1 祭zhai4 句gou1
召shao4 折she2 黑he4 筱xiao3 藏zang4 谌chen2 付fu4 肖xiao1 代dai4 揭jie1 粘nian2 么yao1
幺yao1 朝chao2 长chang2 尉wei4 重chong2 洗xian3 恽yun4 占zhan1 仝tong2 邝kuang4 麦mai4
苑yuan4 禚zhuo2 缐xian4 邸di3 眭sui1 银yin2 练lian4 栗li4 凃tu2 迟chi2 鲜xian1 靖jing4
佀si4 适kuo4 寻xun2 旷kuang4 盘pan2 阿a1 后hou4 郤xi4 蔺lin4
"""

_MORE_COMPOUND = """
独孤du2gu1 贺兰he4lan2 达奚da2xi1
"""

_ENTRY = re.compile(r"(\D+?)((?:[a-z]+[1-5])+)")
_READING = re.compile(r"[a-z]+[1-5]")


def _parse(text: str) -> dict[str, tuple[str, ...]]:
    table = {}
    for entry in text.split():
        m = _ENTRY.fullmatch(entry)
        readings = tuple(_READING.findall(m.group(2))) if m else ()
        if not m or len(readings) != len(m.group(1)):
            raise ValueError(f"bad surname entry {entry!r}")
        table.setdefault(m.group(1), readings)   # the first (百家姓) reading wins
    return table


#: single surname -> (reading,)
SINGLE: dict[str, tuple[str, ...]] = _parse(_HUNDRED_SINGLE + _MORE_SINGLE)
#: compound surname 复姓 (two characters) -> (reading, reading)
COMPOUND: dict[str, tuple[str, ...]] = _parse(_HUNDRED_COMPOUND + _MORE_COMPOUND)
