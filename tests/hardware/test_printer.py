"""Card printer 制卡打印机: the PNG print queue renders the card face."""
import base64
import io
import os

import pytest
from PIL import Image

from tests.conftest import valid_ssn
from hardware import printer
from hardware.printer import CardFace, CardFaceError, FontNotFoundError, PngQueuePrinter

RED = (220, 20, 30)


def photo_bytes(colour=RED, fmt="JPEG", size=(358, 441)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, colour).save(buf, fmt)
    return buf.getvalue()


def face(**changes) -> CardFace:
    values = dict(job_id="J2026-0001", name="林堃", ssn=valid_ssn("35058119900307123"),
                  card_number="B7K334774", issue_date="2026-11-20", bank="中国工商银行",
                  issuer="福建省人力资源和社会保障厅", photo=photo_bytes())
    values.update(changes)
    return CardFace(**values)


def photo_centre(image: Image.Image):
    x, y, w, h = printer.PHOTO_BOX
    return image.getpixel((x + w // 2, y + h // 2))


def close(a, b, tolerance=12):
    return all(abs(p - q) <= tolerance for p, q in zip(a, b))


def test_renders_an_id1_card_at_300_dpi_into_the_queue(tmp_path):
    queue = tmp_path / "queue"
    result = PngQueuePrinter(str(queue)).print_card(face())

    assert result.path == str(queue / "J2026-0001.png")
    assert os.listdir(queue) == ["J2026-0001.png"]  # no temporary file left behind
    assert result.size == (1011, 638)
    assert result.bytes == os.path.getsize(result.path)
    with Image.open(result.path) as im:
        assert im.format == "PNG"
        assert im.size == (1011, 638)
        assert round(im.info["dpi"][0]) == 300
        assert close(photo_centre(im.convert("RGB")), RED)


def test_png_photo_is_fitted_into_the_box(tmp_path):
    blue = (10, 60, 200)
    # A wide photo: fitting crops it, it never spills over the text next to the box.
    result = PngQueuePrinter(str(tmp_path)).print_card(face(photo=photo_bytes(blue, "PNG", (800, 300))))
    with Image.open(result.path) as im:
        im = im.convert("RGB")
        x, y, w, h = printer.PHOTO_BOX
        assert im.getpixel((x + 2, y + 2)) == blue and im.getpixel((x + w - 3, y + h - 3)) == blue
        assert im.getpixel((x + w + 10, y + h // 2)) == (255, 255, 255)


def test_without_photo_prints_a_grey_placeholder(tmp_path):
    result = PngQueuePrinter(str(tmp_path)).print_card(face(photo=None))
    with Image.open(result.path) as im:
        x, y, w, h = printer.PHOTO_BOX
        assert im.convert("RGB").getpixel((x + 5, y + 5)) == printer.PHOTO_PLACEHOLDER


def test_text_is_drawn_in_the_field_area(tmp_path):
    """The CJK font has glyphs: the name's area is not blank (tofu would also draw, so the
    rendered name is compared with the font's own rendering of a missing glyph)."""
    p = PngQueuePrinter(str(tmp_path))
    font = p.font(38)
    assert font.getmask("林").getbbox() != font.getmask("\U000F0000").getbbox()
    with Image.open(p.print_card(face()).path) as im:
        name_area = im.convert("L").crop((530, 165, 800, 215))
        assert name_area.getextrema()[0] < 100  # dark pixels: the name is there


def test_reprinting_a_job_replaces_its_file(tmp_path):
    p = PngQueuePrinter(str(tmp_path))
    first = p.print_card(face(photo=photo_bytes(RED)))
    green = (20, 160, 40)
    second = p.print_card(face(photo=photo_bytes(green)))

    assert second.path == first.path
    assert os.listdir(tmp_path) == ["J2026-0001.png"]
    with Image.open(second.path) as im:
        assert close(photo_centre(im.convert("RGB")), green)


def test_from_job_dict_decodes_the_photo_and_takes_holder_fields_from_the_card(card_data):
    job_face = {"bank": "中国建设银行", "issuer": "福建省人力资源和社会保障厅",
                "photo": base64.b64encode(photo_bytes()).decode()}
    f = CardFace.from_dict("J7", job_face, card_data)
    f.validate()
    assert (f.name, f.ssn, f.card_number) == (card_data["name"], card_data["ssn"], card_data["card_number"])
    assert f.issue_month() == "2026年11月"
    assert f.photo.startswith(b"\xff\xd8")  # JPEG

    with pytest.raises(CardFaceError) as e:
        CardFace.from_dict("J7", dict(job_face, photo="not base64!"), card_data)
    assert "photo" in e.value.errors


@pytest.mark.parametrize("changes, field", [
    ({"name": "  "}, "name"),
    ({"name": "很" * 16}, "name"),
    ({"ssn": "350581199003071230"}, "ssn"),          # wrong check digit
    ({"card_number": "B7K334775"}, "card_number"),   # wrong check character
    ({"issue_date": "2026-02-30"}, "issue_date"),
    ({"bank": ""}, "bank"),
    ({"job_id": "../../etc/passwd"}, "job_id"),
    ({"photo": b"GIF89a not a photo"}, "photo"),
])
def test_bad_input_is_refused_with_a_clear_error(tmp_path, changes, field):
    with pytest.raises(CardFaceError) as e:
        PngQueuePrinter(str(tmp_path)).print_card(face(**changes))
    assert field in e.value.errors
    zh, en = e.value.errors[field]
    assert zh and en and zh in str(e.value)
    assert os.listdir(tmp_path) == []  # nothing queued


def test_every_problem_is_reported_at_once():
    with pytest.raises(CardFaceError) as e:
        face(name="", bank="", card_number="X").validate()
    assert {"name", "bank", "card_number"} <= set(e.value.errors)


def test_gif_photo_is_refused():
    buf = io.BytesIO()
    Image.new("RGB", (10, 10)).save(buf, "GIF")
    with pytest.raises(CardFaceError) as e:
        face(photo=buf.getvalue()).validate()
    assert "JPEG" in e.value.errors["photo"][0]


def test_missing_font_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.delenv(printer.FONT_ENV, raising=False)
    monkeypatch.setattr(printer, "FONT_CANDIDATES", [str(tmp_path / "no-such-font.ttc")])
    monkeypatch.setattr(printer, "_fontconfig_cjk_fonts", lambda: [])
    with pytest.raises(FontNotFoundError) as e:
        PngQueuePrinter(str(tmp_path / "queue")).print_card(face())
    assert "fonts-wqy-zenhei" in e.value.zh and "fonts-wqy-zenhei" in e.value.en
    assert not (tmp_path / "queue").exists() or os.listdir(tmp_path / "queue") == []


def test_font_env_override_must_exist(tmp_path, monkeypatch):
    monkeypatch.setenv(printer.FONT_ENV, str(tmp_path / "missing.ttf"))
    with pytest.raises(FontNotFoundError, match="SSCARD_CARD_FONT"):
        printer.find_font()


def test_fontconfig_is_the_fallback(monkeypatch):
    monkeypatch.delenv(printer.FONT_ENV, raising=False)
    monkeypatch.setattr(printer, "FONT_CANDIDATES", [])
    found = printer.find_font()  # fonts-wqy-zenhei is installed: fontconfig knows it
    assert found.endswith((".ttc", ".ttf", ".otf"))
