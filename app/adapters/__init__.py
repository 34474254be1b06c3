"""Adapters 外部系统适配器: one interface per outside system, an embedded default per interface.

    police   PoliceRegister   公安户籍比对        EmbeddedPoliceRegister (table police_register_person)
    sms      SmsGateway       短信网关            EmbeddedSmsGateway    (table card_sms)
    manufacturer CardManufacturer 制卡厂商        EmbeddedCardManufacturer (table manufacturer_card)
    province ProvincialReport 省级退卡上报        EmbeddedProvincialReport (table province_card_report)
    medical  MedicalInsurance 医保个人账户        EmbeddedMedicalInsurance (table medical_account)
    bank     PartnerBank      合作银行借记功能    EmbeddedPartnerBank   (table bank_debit_activation)

An adapter is made per step from the step's session: ``police(session)``. A deployment picks
another implementation with ``configure(police="package.module:factory")`` or the environment
variable ``SSCARD_ADAPTER_POLICE=package.module:factory``; the factory is called with the
session. Tests may pass a callable to ``configure`` and call ``reset()`` afterwards.
"""
from __future__ import annotations

import importlib
import os
from typing import Any, Callable

from app.adapters.police import (EmbeddedPoliceRegister, PoliceRegister, PoliceRegisterPerson,
                                 PoliceUnavailable, Reason, VerifyResult)
from app.adapters.bank import BankRefused, EmbeddedPartnerBank, PartnerBank
from app.adapters.manufacturer import CardManufacturer, EmbeddedCardManufacturer
from app.adapters.medical import EmbeddedMedicalInsurance, MedicalInsurance
from app.adapters.province import (EmbeddedProvincialReport, ProvincialReport,
                                   ProvincialReportError)
from app.adapters.sms import EmbeddedSmsGateway, SmsError, SmsGateway

Factory = Callable[[Any], Any]

DEFAULTS: dict[str, Factory] = {
    "police": EmbeddedPoliceRegister,
    "sms": EmbeddedSmsGateway,
    "manufacturer": EmbeddedCardManufacturer,
    "province": EmbeddedProvincialReport,
    "medical": EmbeddedMedicalInsurance,
    "bank": EmbeddedPartnerBank,
}
INTERFACES = {"police": PoliceRegister, "sms": SmsGateway, "manufacturer": CardManufacturer,
              "province": ProvincialReport, "medical": MedicalInsurance, "bank": PartnerBank}
_configured: dict[str, Factory] = {}


def _load(spec: str) -> Factory:
    module, _, attr = spec.partition(":")
    if not attr:
        raise ValueError(f"adapter factory must look like 'package.module:name', got {spec!r}")
    try:
        return getattr(importlib.import_module(module), attr)
    except (ImportError, AttributeError) as exc:  # a typo in settings should say which setting
        raise ValueError(f"adapter factory {spec!r} cannot be loaded: {exc}") from exc


def configure(**factories: str | Factory | None) -> None:
    """Choose implementations: ``configure(sms="myorg.sms:Gateway")`` or a callable; ``None``
    goes back to the embedded default."""
    for kind, factory in factories.items():
        if kind not in DEFAULTS:
            raise ValueError(f"unknown adapter {kind!r}; known: {sorted(DEFAULTS)}")
        if factory is None:
            _configured.pop(kind, None)
        else:
            _configured[kind] = _load(factory) if isinstance(factory, str) else factory


def reset() -> None:
    _configured.clear()


def factory_for(kind: str) -> Factory:
    if kind in _configured:
        return _configured[kind]
    spec = os.environ.get(f"SSCARD_ADAPTER_{kind.upper()}", "").strip()
    if spec and spec != "embedded":
        return _load(spec)
    return DEFAULTS[kind]


def get(kind: str, session) -> Any:
    adapter = factory_for(kind)(session)
    if not isinstance(adapter, INTERFACES[kind]):
        raise TypeError(f"{kind} adapter {type(adapter).__name__} does not implement "
                        f"{INTERFACES[kind].__name__}")
    return adapter


def police(session) -> PoliceRegister:
    return get("police", session)




def sms(session) -> SmsGateway:
    return get("sms", session)


def card_manufacturer(session) -> CardManufacturer:
    return get("manufacturer", session)


def provincial_report(session) -> ProvincialReport:
    return get("province", session)


def medical_insurance(session) -> MedicalInsurance:
    return get("medical", session)


def partner_bank(session) -> PartnerBank:
    return get("bank", session)


__all__ = [
    "BankRefused", "EmbeddedMedicalInsurance", "EmbeddedPartnerBank", "MedicalInsurance",
    "PartnerBank", "medical_insurance", "partner_bank",
    "EmbeddedPoliceRegister", "EmbeddedProvincialReport", "EmbeddedSmsGateway", "PoliceRegister",
    "PoliceRegisterPerson", "PoliceUnavailable", "ProvincialReport", "ProvincialReportError",
    "Reason", "SmsError", "SmsGateway", "VerifyResult", "configure", "factory_for", "get",
    "police", "provincial_report", "reset", "sms",
]
