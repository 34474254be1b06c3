"""Card printer 制卡打印机: prints the card face 卡面 (photo, name, numbers, bank).

``CardPrinter`` is what a real card-printer driver implements. ``PngQueuePrinter`` is the
default: it renders the face as a 300 dpi PNG of an ID-1 card (85.6 × 54 mm = 1011 × 638 px)
into a print-queue folder 打印队列, from which a printer's own spooler (or a person) prints it.

A face is rendered to ``<queue>/<job id>.png`` atomically (temporary file, then ``os.replace``),
so a spooler watching the folder never sees half a file and printing the same job again
replaces the file instead of queueing a second card.
"""
from __future__ import annotations

import abc
import base64
import binascii
import datetime as _dt
import io
import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass

from PIL import Image, ImageDraw, ImageFont, ImageOps, UnidentifiedImageError

from . import errors, profile

# ID-1 card (ISO/IEC 7810) at 300 dpi.
DPI = 300
CARD_SIZE = (1011, 638)
# Photo box 照片框 (x, y, width, height): 26 × 32 mm like an ID photo, on the left.
PHOTO_BOX = (48, 150, 260, 320)
PHOTO_PLACEHOLDER = (200, 200, 200)
MAX_PHOTO_BYTES = 2 * 1024 * 1024

# Known places of a CJK font; the first that exists wins. ``SSCARD_CARD_FONT`` overrides.
FONT_ENV = "SSCARD_CARD_FONT"
FONT_CANDIDATES = [
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",        # Debian fonts-wqy-zenhei
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",      # fonts-wqy-microhei
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",  # fonts-noto-cjk
    "/usr/share/fonts/truetype/arphic/uming.ttc",          # fonts-arphic-uming
]

_JOB_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
DEFAULT_TITLE = "中华人民共和国社会保障卡"


class PrinterError(errors.HardwareError):
    zh = "制卡打印机出错"
    en = "Card printer error"


class FontNotFoundError(PrinterError):
    zh = "未找到中文字体，无法打印卡面；请安装 Debian 包 fonts-wqy-zenhei 或设置 SSCARD_CARD_FONT"
    en = ("No CJK font found to print the card face; "
          "install the Debian package fonts-wqy-zenhei or set SSCARD_CARD_FONT")


class CardFaceError(errors.ProfileError):
    """The card face data is incomplete or invalid; ``errors`` maps field -> (zh, en)."""


@dataclass(frozen=True)
class CardFace:
    """What is printed on the card 卡面信息.

    ``issue_date`` is ``YYYYMMDD``, ``YYYY-MM-DD`` or a date; the card shows year and month.
    ``photo`` is the JPEG/PNG bytes of the holder's photo (optional: a grey box without).
    """

    job_id: str
    name: str             # 姓名
    ssn: str              # 社会保障号码
    card_number: str      # 社会保障卡号
    issue_date: str | _dt.date  # 发卡日期
    bank: str             # 银行 (partner bank of the financial function)
    issuer: str = ""      # 发卡机构, e.g. 福建省人力资源和社会保障厅
    title: str = DEFAULT_TITLE
    photo: bytes | None = None

    @classmethod
    def from_dict(cls, job_id: str, face: dict, card: dict | None = None) -> "CardFace":
        """Build from a job's ``face`` object (photo base64); missing holder fields are taken
        from the job's ``card`` data so the platform need not send them twice."""
        card = card or {}
        photo = face.get("photo")
        if isinstance(photo, str) and photo:
            try:
                photo = base64.b64decode(photo, validate=True)
            except (binascii.Error, ValueError):
                raise CardFaceError({"photo": ("照片：不是有效的 base64 数据", "photo: not valid base64")})
        return cls(
            job_id=str(job_id),
            name=face.get("name") or card.get("name", ""),
            ssn=face.get("ssn") or card.get("ssn", ""),
            card_number=face.get("card_number") or card.get("card_number", ""),
            issue_date=face.get("issue_date") or card.get("issue_date", ""),
            bank=face.get("bank", ""),
            issuer=face.get("issuer", ""),
            title=face.get("title") or DEFAULT_TITLE,
            photo=photo or None,
        )

    def validate(self) -> None:
        """Raise CardFaceError listing every problem at once."""
        problems: dict[str, tuple[str, str]] = {}
        if not _JOB_ID.fullmatch(str(self.job_id or "")):
            problems["job_id"] = ("任务号只能包含字母、数字、点、横线和下划线（最长 64 位）",
                                  "job id: letters, digits, '.', '-', '_' only (at most 64)")
        if not (self.name or "").strip():
            problems["name"] = ("姓名：必须填写", "name: required")
        elif len(self.name.strip()) > 15:
            problems["name"] = ("姓名：最长 15 个字", "name: at most 15 characters")
        for key in ("ssn", "card_number"):
            value = getattr(self, key)
            if not value:
                f = profile.BY_KEY[key]
                problems[key] = (f"{f.zh}：必须填写", f"{f.en}: required")
                continue
            try:
                profile.encode_value(profile.BY_KEY[key], value)
            except errors.ProfileError as e:
                problems.update(e.errors)
        try:
            self.issue_month()
        except ValueError:
            problems["issue_date"] = (f"发卡日期：不是有效日期（YYYYMMDD）：{self.issue_date!r}",
                                      f"issue date: not a valid date (YYYYMMDD): {self.issue_date!r}")
        if not (self.bank or "").strip():
            problems["bank"] = ("银行：必须填写", "bank: required")
        if not (self.title or "").strip():
            problems["title"] = ("卡名称：必须填写", "card title: required")
        if self.photo is not None:
            try:
                load_photo(self.photo)
            except CardFaceError as e:
                problems.update(e.errors)
        if problems:
            raise CardFaceError(problems)

    def issue_month(self) -> str:
        """发卡日期 as printed on the card: ``2026年11月``."""
        d = self.issue_date
        if not isinstance(d, _dt.date):
            d = _dt.datetime.strptime(str(d).replace("-", ""), "%Y%m%d").date()
        return f"{d.year}年{d.month:02d}月"


@dataclass(frozen=True)
class PrintResult:
    job_id: str
    path: str
    size: tuple[int, int]  # pixels
    bytes: int


class CardPrinter(abc.ABC):
    """What a card printer driver 打印机驱动 must offer."""

    @abc.abstractmethod
    def print_card(self, face: CardFace) -> PrintResult:
        """Print ``face``; printing the same job id again must not produce a second card
        where the device can tell (a queue replaces the job's file)."""


class PngQueuePrinter(CardPrinter):
    """Renders card faces as PNG files into a print-queue folder."""

    def __init__(self, queue_dir: str, font_path: str | None = None):
        self.queue_dir = str(queue_dir)
        self._font_path = font_path
        self._fonts: dict[int, ImageFont.FreeTypeFont] = {}

    def path_for(self, job_id: str) -> str:
        return os.path.join(self.queue_dir, f"{job_id}.png")

    def print_card(self, face: CardFace) -> PrintResult:
        face.validate()
        image = self.render(face)
        os.makedirs(self.queue_dir, exist_ok=True)
        target = self.path_for(face.job_id)
        # Dot-prefixed temp name: spoolers skip hidden files, and os.replace is atomic.
        fd, tmp = tempfile.mkstemp(dir=self.queue_dir, prefix=f".{face.job_id}-", suffix=".png.tmp")
        try:
            with os.fdopen(fd, "wb") as fh:
                image.save(fh, "PNG", dpi=(DPI, DPI))
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, target)
        except OSError as e:
            _unlink_quietly(tmp)
            raise PrinterError(f"卡面文件写入打印队列失败：{e}", f"cannot write the card face to the print queue: {e}")
        except BaseException:
            _unlink_quietly(tmp)
            raise
        return PrintResult(face.job_id, target, image.size, os.path.getsize(target))

    # -- rendering --
    def font(self, size: int) -> ImageFont.FreeTypeFont:
        if size not in self._fonts:
            path = self._font_path or find_font()
            try:
                self._fonts[size] = ImageFont.truetype(path, size, index=0)
            except OSError as e:
                raise FontNotFoundError(f"无法加载中文字体 {path}：{e}", f"cannot load the CJK font {path}: {e}")
        return self._fonts[size]

    def render(self, face: CardFace) -> Image.Image:
        """The face as an RGB image of CARD_SIZE (no validation; see ``print_card``)."""
        w, h = CARD_SIZE
        img = Image.new("RGB", CARD_SIZE, (255, 255, 255))
        draw = ImageDraw.Draw(img)

        # Title band 卡名称 with the issuer 发卡机构 under it.
        draw.rectangle((0, 0, w, 118), fill=(222, 235, 250))
        draw.rectangle((0, 118, w, 124), fill=(196, 30, 40))
        title_font = self._fit(face.title, 50, w - 80)
        draw.text((w // 2, 52), face.title, font=title_font, fill=(20, 50, 120), anchor="mm",
                  stroke_width=1, stroke_fill=(20, 50, 120))  # wqy has no bold: a 1 px stroke
        if face.issuer:
            draw.text((w // 2, 100), face.issuer, font=self._fit(face.issuer, 24, w - 80),
                      fill=(60, 60, 60), anchor="mm")

        # Photo 照片 on the left, or a grey placeholder.
        x, y, pw, ph = PHOTO_BOX
        if face.photo:
            photo = ImageOps.fit(load_photo(face.photo), (pw, ph), Image.LANCZOS, centering=(0.5, 0.4))
            img.paste(photo, (x, y))
        else:
            draw.rectangle((x, y, x + pw - 1, y + ph - 1), fill=PHOTO_PLACEHOLDER)
            draw.text((x + pw // 2, y + ph // 2), "照片", font=self.font(36), fill=(120, 120, 120), anchor="mm")
        draw.rectangle((x - 1, y - 1, x + pw, y + ph), outline=(150, 150, 150))

        # Holder fields: label 标签 then value 内容, one per line.
        label_x, value_x, max_value_w = 340, 530, w - 530 - 30
        rows = (("姓名", face.name.strip()), ("社会保障号码", face.ssn.upper()),
                ("社会保障卡号", face.card_number.upper()), ("发卡日期", face.issue_month()))
        for i, (label, value) in enumerate(rows):
            cy = 190 + i * 80
            draw.text((label_x, cy), label, font=self.font(28), fill=(90, 90, 90), anchor="lm")
            draw.text((value_x, cy), value, font=self._fit(value, 38, max_value_w), fill=(0, 0, 0), anchor="lm")

        # Bank 银行 at the bottom, right-aligned like the bank's mark on the card.
        draw.line((340, 540, w - 30, 540), fill=(200, 200, 200), width=2)
        draw.text((w - 40, 585), face.bank.strip(), font=self._fit(face.bank.strip(), 34, w - 380),
                  fill=(150, 20, 30), anchor="rm")
        return img

    def _fit(self, text: str, size: int, max_width: int) -> ImageFont.FreeTypeFont:
        """The largest font up to ``size`` in which ``text`` fits ``max_width`` (long names)."""
        while size > 12 and self.font(size).getlength(text) > max_width:
            size -= 2
        return self.font(size)


def load_photo(data: bytes) -> Image.Image:
    """Decode a JPEG/PNG photo into RGB; CardFaceError if it is not one."""
    if len(data) > MAX_PHOTO_BYTES:
        raise CardFaceError({"photo": (f"照片：文件过大（最大 {MAX_PHOTO_BYTES // 1024} KB）",
                                       f"photo: file too large (max {MAX_PHOTO_BYTES // 1024} KB)")})
    try:
        with Image.open(io.BytesIO(data)) as im:
            if im.format not in ("JPEG", "PNG"):
                raise CardFaceError({"photo": (f"照片：应为 JPEG 或 PNG，实为 {im.format}",
                                               f"photo: must be JPEG or PNG, got {im.format}")})
            if im.width * im.height > 4000 * 4000:
                raise CardFaceError({"photo": ("照片：像素过多", "photo: too many pixels")})
            im = ImageOps.exif_transpose(im)
            return im.convert("RGB")
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError, SyntaxError):
        raise CardFaceError({"photo": ("照片：无法识别的图片数据", "photo: not a readable image")})


def find_font() -> str:
    """Path of a font with Chinese glyphs: $SSCARD_CARD_FONT, known paths, then fontconfig."""
    env = os.environ.get(FONT_ENV)
    if env:
        if os.path.exists(env):
            return env
        raise FontNotFoundError(f"{FONT_ENV} 指定的字体不存在：{env}", f"the font in {FONT_ENV} does not exist: {env}")
    for path in FONT_CANDIDATES:
        if os.path.exists(path):
            return path
    for path in _fontconfig_cjk_fonts():
        if os.path.exists(path):
            return path
    raise FontNotFoundError()


def _fontconfig_cjk_fonts() -> list[str]:
    """Fonts fontconfig knows to cover Simplified Chinese (``fc-match`` would fall back to a
    Latin font, so ask ``fc-list`` for the language instead)."""
    exe = shutil.which("fc-list")
    if not exe:
        return []
    try:
        out = subprocess.run([exe, ":lang=zh-cn", "--format", "%{file}\n"], capture_output=True,
                             text=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    return sorted(line.strip() for line in out.splitlines() if line.strip())


def _unlink_quietly(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass
