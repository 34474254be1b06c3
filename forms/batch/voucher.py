"""The employer's authorisation voucher 申领凭证 (seed 001 annex 1): up to three agents."""
from __future__ import annotations

from wtforms.validators import Length, Optional

from forms.base import TaskForm
from forms.fields import FieldGroup, FieldGroups, StringField
from forms.i18n import T
from forms.registry import register
from forms.validators import Required, Rule, check_citizen_id, check_mobile, check_name, check_postcode

AGENTS = 3


def _agent_fields(n: int, required: bool):
    first = [Required()] if required else [Optional()]
    return {
        f"agent{n}_name": StringField(T("姓名", "Name"), first + [Rule(check_name)]),
        f"agent{n}_office_phone": StringField(T("办公电话", "Office phone"), [Optional(), Length(max=25)]),
        f"agent{n}_mobile": StringField(T("手机", "Mobile"), first + [Rule(check_mobile)]),
        f"agent{n}_id_number": StringField(T("身份证号码", "ID number"), first + [Rule(check_citizen_id)]),
    }


class _VoucherBase(TaskForm):
    employer_name = StringField(T("单位名称", "Employer"), [Required(), Length(max=100)])
    phone = StringField(T("单位电话", "Phone"), [Optional(), Length(max=25)])
    address = StringField(T("地址", "Address"), [Optional(), Length(max=100)])
    postcode = StringField(T("邮编", "Post code"), [Optional(), Rule(check_postcode)])
    filled_by = StringField(T("填表人", "Filled in by"), [Optional(), Length(max=30)])


VoucherForm = type("VoucherForm", (_VoucherBase,), {
    "__doc__": "登记申领凭证: the employer's details and one to three agents (a change is a new version).",
    "__module__": __name__,
    "form_key": "batch.voucher",
    "title": T("登记单位申领凭证", "Record the employer's voucher"),
    **{k: v for n in range(1, AGENTS + 1) for k, v in _agent_fields(n, n == 1).items()},
    "field_groups": FieldGroups(
        [FieldGroup("employer", T("单位", "Employer"),
                    ("employer_name", "phone", "address", "postcode", "filled_by"))]
        + [FieldGroup(f"agent{n}", T(f"经办人（{'一二三'[n - 1]}）", f"Agent {n}"),
                      tuple(f"agent{n}_{f}" for f in ("name", "office_phone", "mobile", "id_number")))
           for n in range(1, AGENTS + 1)]),
})


def _cross(self):
    seen = {}
    for n in range(2, AGENTS + 1):
        values = [self[f"agent{n}_{f}"].data for f in ("name", "mobile", "id_number")]
        if any(values) and not all(values):
            yield f"agent{n}_name", T("经办人需同时填写姓名、手机和身份证号码",
                                      "An agent needs a name, a mobile and an ID number")
    for n in range(1, AGENTS + 1):
        number = self[f"agent{n}_id_number"].data
        if number:
            if number in seen:
                yield f"agent{n}_id_number", T("与经办人（{m}）的身份证号码相同", "Same ID number as agent {m}"
                                               ).format(m=seen[number])
            seen[number] = n


VoucherForm.cross_validate = _cross
register(VoucherForm)
