"""Server-side rules for task forms 表单校验规则, one module per kind of value.

Each rule is a plain function ``check_xxx(value) -> normalised value`` that raises
``wtforms.validators.ValidationError`` with a bilingual message (``T``) a clerk understands;
``Rule(check_xxx)`` turns it into a WTForms field validator. The application form's
cross-field rules live with its family (``forms.application.rules``); the photo rules in
``forms.photo``.
"""
from forms.validators.card import check_card_number
from forms.validators.contact import check_landline, check_mobile, check_postcode
from forms.validators.generic import Between, NotAfterToday, Required, Rule, compact, today
from forms.validators.identity import (check_citizen_id, check_id_number, check_other_id,
                                       id_birth_date, id_sex, region_name)
from forms.validators.names import MIDDLE_DOT, NAME_MAX_BYTES, check_name

__all__ = [
    "Between", "MIDDLE_DOT", "NAME_MAX_BYTES", "NotAfterToday", "Required", "Rule", "check_card_number",
    "check_citizen_id", "check_id_number", "check_landline", "check_mobile", "check_other_id",
    "check_postcode", "check_name", "compact", "id_birth_date", "id_sex", "region_name", "today",
]
