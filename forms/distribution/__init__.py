"""Task forms of the distribution family 发放 (``processes/distribution/*.bpmn``), keys
``distribution.<task>``.

    distribution.agent        中心经办：核验领卡人（介绍信、身份证、申领凭证）
    distribution.count        中心经办：当面清点卡片（扫描或录入卡号）
    distribution.signed       中心经办：双方在交接单上签字
    distribution.roster_back  中心经办：发放花名册交回（逐人登记在表格中）
    distribution.return_done  中心经办：退卡清点登记完毕
    distribution.followup     管理人员：逾期督办
    distribution.holder       中心经办：个人领卡或代领（证件核验）
    distribution.holder_signed 中心经办：领卡人在发放花名册上签字
    distribution.correction   中心经办：信息更正（本人持身份证或户口簿）
"""
from forms.distribution import counter, tasks  # noqa: F401  (register the forms)
