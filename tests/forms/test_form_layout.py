"""How the task forms sit on the page (表单布局): fields that belong together are drawn
together (“长期” with 证件有效期（止）, the consent with the existing card's fields), the
pickup form asks first who collects the card and checks the proxy's details only for 代领,
the photo hint is one sentence, and the outlet's correction choices do not say “当场”."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from flask import render_template_string

from forms import set_locale, validate_data
from forms.application import ApplicationForm
from forms.application.instant_issuance import (CORRECT_DECISIONS, OUTLET_CORRECT_DECISIONS,
                                                CorrectDataForm)
from forms.application.outlet import PickupForm
from forms.photo import MSG_PHOTO_SIZE, PHOTO_HINT
from tests.forms.test_application import make_id, valid_data

STATIC = Path(__file__).resolve().parents[2] / "app" / "static"
PROXY_FIELDS = ["proxy_name", "proxy_id_type", "proxy_id_number", "proxy_documents_checked"]


def choices(field) -> list[tuple[str, object]]:
    """(code, label) of a choice field (WTForms 3.3 keeps SelectChoice objects)."""
    return [(c.value, c.label) if hasattr(c, "value") else (c[0], c[1]) for c in field.choices]


def rendered(flask_app, form, errors=None, lang="zh") -> str:
    with flask_app.test_request_context("/"), set_locale(lang):
        return render_template_string(
            '{% from "_form.html" import render_form with context %}{{ render_form(form, errors) }}',
            form=form, errors=errors or {})


def group_html(html: str, name: str) -> str:
    return re.search(rf'<fieldset class="field-group" id="group-{name}"(.*?)</fieldset>\s*<div class="grid">',
                     html + '<div class="grid">', re.S).group(1)


def field_names(html: str) -> list[str]:
    return list(dict.fromkeys(re.findall(r'<(?:input|select|textarea)[^>]* name="([^"]+)"', html)))


# -- the application form 申领表 ----------------------------------------------------------------

def test_application_fields_that_belong_together_are_declared_together():
    names = list(ApplicationForm()._fields)
    assert names.index("id_long_term") == names.index("id_valid_to") + 1
    assert names.index("id_valid_to") == names.index("id_valid_from") + 1
    assert names[names.index("first_card"):names.index("first_card") + 4] == [
        "first_card", "old_card_city", "old_card_number", "consent_stop_old_card"]
    groups = ApplicationForm.field_groups
    assert groups.of("id_long_term") is groups.of("id_valid_to")
    assert groups.of("consent_stop_old_card") is groups.of("old_card_number")
    for group in groups:  # each group's fields follow each other in the form
        at = names.index(group.fields[0])
        assert names[at:at + len(group.fields)] == list(group.fields), group


def test_application_page_draws_validity_with_long_term_and_the_old_card_with_the_consent(app):
    html = rendered(app, ApplicationForm())
    validity = group_html(html, "id_validity")
    assert "<legend>证件有效期</legend>" in validity
    assert field_names(validity) == ["id_valid_from", "id_valid_to", "id_long_term"]
    old_card = group_html(html, "old_card")
    assert field_names(old_card) == ["old_card_city", "old_card_number", "consent_stop_old_card"]
    assert "本人同意停用该社保卡" in old_card and "非首次申领时填写" in old_card
    assert 'data-show-field="first_card" data-show-value="no"' in old_card
    # the whole form, in its order: every field once, none lost in the groups
    assert field_names(html) == list(ApplicationForm()._fields)
    assert html.count("<fieldset") == html.count("</fieldset>")
    english = rendered(app, ApplicationForm(), lang="en")
    assert "<legend>Validity of the ID document</legend>" in english


def test_existing_card_fields_count_only_when_this_is_not_the_first_card():
    ok = validate_data(ApplicationForm, valid_data(first_card="yes", old_card_number="??",
                                                   consent_stop_old_card=True))
    assert ok[1] == {}
    assert ok[0].cleaned()["old_card_number"] is None
    assert ok[0].cleaned()["consent_stop_old_card"] is False
    _, errors = validate_data(ApplicationForm, valid_data(first_card="no", old_card_number="??"))
    assert set(errors) >= {"old_card_number", "old_card_city", "consent_stop_old_card"}


# -- the pickup form 领卡 ---------------------------------------------------------------------

def test_pickup_asks_first_who_collects_the_card(app):
    form = PickupForm()
    assert list(form._fields)[0] == "picked_up_by"
    assert [str(label) for _, label in choices(form.picked_up_by)] == ["本人领取", "代领"]
    html = rendered(app, form)
    proxy = group_html(html, "proxy")
    assert "<legend>代领人信息（仅代领时填写）</legend>" in proxy
    assert 'data-show-field="picked_up_by" data-show-value="proxy"' in proxy
    assert field_names(proxy) == PROXY_FIELDS
    assert html.index('name="picked_up_by"') < html.index('id="group-proxy"')
    # shown only for 代领 by a script file of its own (the CSP allows no inline script)
    assert '<script src="/static/forms.js" defer></script>' in html
    assert not re.search(r"<script(?![^>]*\bsrc=)", html) and " style=" not in html
    script = (STATIC / "forms.js").read_text()
    assert "data-show-field" in script and "hidden" in script
    english = rendered(app, form, lang="en")
    assert "<legend>Proxy&#39;s details (only when a proxy collects the card)</legend>" in english


HOLDER = {"picked_up_by": "holder", "holder_id_checked": True, "receipt_signed": True}


def test_proxy_fields_are_not_checked_when_the_holder_collects():
    form, errors = validate_data(PickupForm, {**HOLDER, "proxy_name": "1234",
                                              "proxy_id_number": "not a number",
                                              "proxy_documents_checked": True})
    assert errors == {}
    data = form.cleaned()
    assert [data[name] for name in PROXY_FIELDS] == [None, None, None, False]


def test_proxy_fields_are_required_and_checked_for_a_proxy():
    with set_locale("zh"):
        _, errors = validate_data(PickupForm, {**HOLDER, "picked_up_by": "proxy"})
    assert set(errors) == {"proxy_name", "proxy_id_number", "proxy_documents_checked"}
    assert errors["proxy_name"] == ["他人代领的，须填写代领人姓名"]
    _, errors = validate_data(PickupForm, {**HOLDER, "picked_up_by": "proxy", "proxy_name": "林志坚",
                                           "proxy_id_number": "350581199001011234",
                                           "proxy_documents_checked": True})
    assert list(errors) == ["proxy_id_number"]  # a wrong check character
    form, errors = validate_data(PickupForm, {**HOLDER, "picked_up_by": "proxy", "proxy_name": "林志坚",
                                              "proxy_id_type": "resident_id",
                                              "proxy_id_number": make_id(),
                                              "proxy_documents_checked": True})
    assert errors == {}
    assert form.cleaned()["proxy_name"] == "林志坚"


def test_nothing_chosen_asks_who_collects_and_nothing_about_a_proxy():
    _, errors = validate_data(PickupForm, {"holder_id_checked": True, "receipt_signed": True,
                                           "proxy_name": "1234"})
    assert list(errors) == ["picked_up_by"]


# -- the photo hint 照片说明 -------------------------------------------------------------------

def test_photo_hint_is_one_clear_sentence_in_both_languages():
    zh, en = PHOTO_HINT.text("zh"), PHOTO_HINT.text("en")
    assert "宽295像素、高413像素" in zh and zh.endswith("。") and zh.count("。") == 1
    assert "413*295" not in zh and "（像素" not in zh and "×" not in zh
    assert "295 pixels wide and 413 pixels high" in en and en.endswith(".") and en.count(". ") == 0
    assert ApplicationForm().photo.description is PHOTO_HINT
    assert "413×295" not in MSG_PHOTO_SIZE.zh and "（像素" not in MSG_PHOTO_SIZE.zh


# -- the outlet's correction 网点核实更正 ----------------------------------------------------------

def labels(form) -> list[str]:
    return [str(label) for _, label in choices(form.decision)]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_outlet_correction_choices_contact_the_applicant(lang):
    with set_locale(lang):
        form = CorrectDataForm()
        form.fit_to_task({"application": {"channel": "outlet"}, "police": {"match": False}})
        outlet = labels(form)
        form = CorrectDataForm()
        form.fit_to_task({"application": {"channel": "window"}, "police": {"match": False}})
        window = labels(form)
    assert outlet == [label.text(lang) for _, label in OUTLET_CORRECT_DECISIONS]
    assert window == [label.text(lang) for _, label in CORRECT_DECISIONS]
    if lang == "zh":
        assert outlet[0] == "已联系申请人核实后更正，重新比对"
        assert not any("当场" in text for text in outlet)
        assert all("当场" in text for text in window)  # the applicant waits at the window
    else:
        assert not any("on the spot" in text for text in outlet)


def test_outlet_correction_that_cannot_pass_offers_only_ending_in_outlet_words():
    form = CorrectDataForm()
    form.fit_to_task({"application": {"channel": "outlet"},
                      "police": {"match": False, "retry": False,
                                 "reasons": [{"zh": "户籍不在本地", "en": "Household elsewhere"}]}})
    assert [code for code, _ in choices(form.decision)] == ["unsolvable"]
    assert labels(form) == ["无法联系申请人或无法核实更正，终止制卡"]
