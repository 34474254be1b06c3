"""The lifecycle's card jobs end to end: the platform (served over HTTP) queues the job, the
card station claims it with its token, runs it on the holder's virtual card through pcscd, and
reports; the platform records the result — the PIN change on the card's history, the region
move (case message, read-back checked, archive) — including a card pulled half-way through the
rewrite and the station resumed."""
from __future__ import annotations

from datetime import date

from sqlalchemy import select

from app.cards.models import Card
from app.cards.states import CardStatus
from app.engine.models import ProcessInstance
from app.engine.services import Actor
from app.procedures.batch import city
from app.procedures.lifecycle import cases, pin
from app.procedures.lifecycle.models import CardEvent, RegionMove
from hardware.card import SocialSecurityCard
from hardware.pinpad import ScriptedPinPad
from hardware.printer import PngQueuePrinter
from hardware.security import SimulatedSecurityModule
from hardware.station import PlatformClient, Spool, Station
from hardware import reader
from tests.api import STATION_TOKEN, build_app
from tests.api.test_concurrent_completion import serving
from tests.hardware.station_kit import BANK, READER
from tests.hardware.test_lifecycle_jobs import issued_card

CENTRE = "SS-CENTRE"
CLERK = Actor("centre", 4, frozenset({"centre_clerk"}), "中心经办 王强", CENTRE, frozenset({CENTRE}))


def holder_card(flask_app, card_data) -> int:
    with flask_app.extensions["sscard"].session_factory() as s, s.begin():
        city.apply(s, city.load_file(city.CITIES_DIR / "ningbo.json"))
        card = Card(card_number=card_data["card_number"], ssn=card_data["ssn"], name=card_data["name"],
                    sex="1", birth_date=date(1990, 3, 7), region_code="330200", status=CardStatus.ACTIVE,
                    bank="中国工商银行", bank_card_number=BANK)
        s.add(card)
        s.flush()
        return card.id


def station(port, tmp_path, pins=()) -> Station:
    client = PlatformClient(f"http://127.0.0.1:{port}", STATION_TOKEN, f"{CENTRE}:1", timeout=10)
    return Station(client, Spool(str(tmp_path / "spool")), PngQueuePrinter(str(tmp_path / "queue")),
                   SimulatedSecurityModule(), READER, card_wait=5, poll=0.1,
                   pin_pad=ScriptedPinPad(*pins) if pins else None)


def chip():
    with reader.connect(READER) as conn:
        return SocialSecurityCard(conn).read().as_dict()


def test_a_pin_change_at_the_terminal_is_recorded_on_the_card(pcscd, tmp_path, card_data):
    flask_app = build_app(tmp_path)
    card_id = holder_card(flask_app, card_data)
    slot = issued_card(tmp_path / "holder.json", card_data).insert()
    try:
        with flask_app.extensions["sscard"].session_factory() as s:
            pin.queue_pin_change(s, s.get(Card, card_id), CLERK)
            s.commit()
        with serving(flask_app) as port:
            station(port, tmp_path, pins=("000000", "802417")).run(once=True)
        with reader.connect(READER) as conn:
            SocialSecurityCard(conn).verify_pin("802417")  # the chip has the holder's new PIN
    finally:
        slot.pull()
    with flask_app.extensions["sscard"].session_factory() as s:
        assert list(s.scalars(select(CardEvent.kind).where(CardEvent.card_id == card_id))) == ["pin_changed"]


def test_a_region_move_pulled_half_way_is_resumed_and_recorded_once_verified(pcscd, tmp_path, card_data):
    flask_app = build_app(tmp_path)
    card_id = holder_card(flask_app, card_data)
    slot = issued_card(tmp_path / "holder.json", card_data).insert(faults=["pull@UPDATE:2"])
    try:
        with flask_app.extensions["sscard"].session_factory() as s:
            card = s.get(Card, card_id)
            cases.start_move(s, card, CLERK, to_region="330282", shown_id_number=card.ssn,
                             moved_on=date(2026, 12, 7))
        with serving(flask_app) as port:
            first = station(port, tmp_path)
            first.card_wait = 0.5  # the card is pulled at the second write: this run gives up waiting
            first.run(once=True)
            with flask_app.extensions["sscard"].session_factory() as s:
                move = s.scalars(select(RegionMove)).one()
                assert move.state == "writing" and s.get(Card, card_id).insured_region is None
            slot.wait_gone()
            slot.insert()  # the holder puts the card back; the clerk writes again
            with flask_app.extensions["sscard"].session_factory() as s:
                from app.engine import runtime
                from app.engine.models import HumanTask
                task = s.scalars(select(HumanTask).where(HumanTask.state == "open")).one()
                assert task.task_name == "rewrite_failed"
                runtime.complete_task(s, task.id, {"decision": "retry"}, CLERK)
            first.card_wait = 5
            first.run(once=True)  # the same station takes the job again (next attempt) and resumes
        on_chip = chip()
    finally:
        slot.pull()
    assert on_chip["insured_region"] == "330282" and on_chip["ssn"] == card_data["ssn"]
    with flask_app.extensions["sscard"].session_factory() as s:
        move = s.scalars(select(RegionMove)).one()
        assert move.state == "done" and s.get(Card, card_id).insured_region == "330282"
        assert s.get(ProcessInstance, move.instance_id).status == "completed"
        assert list(s.scalars(select(CardEvent.kind).where(CardEvent.card_id == card_id))) == ["moved"]
