"""Applicant photo 照片: 1-inch ID photo, 295 pixels wide and 413 pixels high (the paper
form's "像素413*295" is height × width).

The photo arrives as a browser upload (werkzeug ``FileStorage``), raw bytes, or over the JSON
API as base64 text or a ``data:`` URL. ``load_photo`` turns all of them into bytes and
``check_photo`` decides whether the bytes are a usable photo. The content is checked with
Pillow, never the file name, so a text file renamed ``.jpg`` is refused.
"""

from __future__ import annotations

import base64
import binascii
import io
import re
from dataclasses import dataclass

from PIL import Image, UnidentifiedImageError
from wtforms.validators import ValidationError

from forms.i18n import T

PHOTO_WIDTH = 295
PHOTO_HEIGHT = 413
PHOTO_FORMATS = ("JPEG", "PNG")
# A 295×413 JPEG ID photo is typically 20-80 KB; 200 KB leaves room for a high-quality
# JPEG and most PNGs while keeping card data and archives small.
MAX_PHOTO_BYTES = 200 * 1024

# the hint under the photo field: one sentence, width and height named
PHOTO_HINT = T(
    f"1寸近期正面免冠彩色证件照：JPEG或PNG格式，宽{PHOTO_WIDTH}像素、高{PHOTO_HEIGHT}像素，"
    f"文件不超过{MAX_PHOTO_BYTES // 1024} KB。",
    f"A recent 1-inch colour ID photo, facing the camera, no headwear: JPEG or PNG, "
    f"{PHOTO_WIDTH} pixels wide and {PHOTO_HEIGHT} pixels high, at most "
    f"{MAX_PHOTO_BYTES // 1024} KB.",
)

MSG_PHOTO_MISSING = T("请提供申请人照片", "Please provide the applicant's photo")
MSG_PHOTO_BASE64 = T("照片数据不是有效的Base64编码", "The photo data is not valid base64")
MSG_PHOTO_TOO_LARGE = T(
    "照片文件过大（{size} KB），不能超过{limit} KB，请压缩为JPEG后重试",
    "The photo file is too large ({size} KB); at most {limit} KB, please save it as a "
    "compressed JPEG",
)
MSG_PHOTO_NOT_IMAGE = T(
    "照片不是有效的JPEG或PNG图片文件",
    "The photo is not a valid JPEG or PNG image file",
)
MSG_PHOTO_FORMAT = T(
    "照片须为JPEG或PNG格式（当前为{fmt}）",
    "The photo must be a JPEG or PNG image (this one is {fmt})",
)
MSG_PHOTO_SIZE = T(
    "照片须为宽{w}像素、高{h}像素的1寸证件照，当前为宽{width}、高{height}像素",
    "The photo must be a 1-inch ID photo {w} pixels wide and {h} pixels high, "
    "this one is {width} wide and {height} high",
)

_DATA_URL = re.compile(r"^data:(?P<mime>[\w/+.-]*)(?:;[\w=.-]+)*?;base64,(?P<data>.*)$", re.S)


@dataclass(frozen=True)
class PhotoInfo:
    format: str  # "JPEG" or "PNG"
    width: int
    height: int
    size: int  # bytes


def _too_large(size: int) -> ValidationError:
    return ValidationError(
        MSG_PHOTO_TOO_LARGE.format(size=(size + 1023) // 1024, limit=MAX_PHOTO_BYTES // 1024)
    )


def load_photo(value: object) -> bytes:
    """Photo bytes from a ``FileStorage``/file object, bytes, base64 text or a data URL.

    Returns ``b""`` when nothing was given (an empty upload field); raises
    ``ValidationError`` for undecodable base64 or an oversized payload.
    """
    if value is None:
        return b""
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value)
    if isinstance(value, str):
        return _decode_base64(value)
    stream = getattr(value, "stream", value)  # FileStorage wraps a stream
    if hasattr(stream, "read"):
        if hasattr(stream, "seek"):
            stream.seek(0)
        data = stream.read()
        if hasattr(stream, "seek"):
            stream.seek(0)  # leave it readable for whoever stores the upload
        return data if isinstance(data, bytes) else bytes(data or b"")
    raise ValidationError(MSG_PHOTO_NOT_IMAGE)


def _decode_base64(text: str) -> bytes:
    text = text.strip()
    if not text:
        return b""
    match = _DATA_URL.match(text)
    if match:
        text = match.group("data")
    text = re.sub(r"\s+", "", text)
    if len(text) > (MAX_PHOTO_BYTES + 2) * 4 // 3 + 4:  # refuse before decoding
        raise _too_large(len(text) * 3 // 4)
    text = text.replace("-", "+").replace("_", "/")  # accept the URL-safe alphabet too
    text += "=" * (-len(text) % 4)
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise ValidationError(MSG_PHOTO_BASE64) from None


def check_photo(data: bytes) -> PhotoInfo:
    """Check photo bytes: present, at most ``MAX_PHOTO_BYTES``, a JPEG or PNG Pillow can
    decode, exactly 295 × 413 pixels (width × height). Raises ``ValidationError``."""
    if not data:
        raise ValidationError(MSG_PHOTO_MISSING)
    if len(data) > MAX_PHOTO_BYTES:
        raise _too_large(len(data))
    try:
        with Image.open(io.BytesIO(data)) as image:
            fmt, (width, height) = image.format, image.size
            if fmt not in PHOTO_FORMATS:
                raise ValidationError(MSG_PHOTO_FORMAT.format(fmt=fmt or "?"))
            if (width, height) != (PHOTO_WIDTH, PHOTO_HEIGHT):
                raise ValidationError(MSG_PHOTO_SIZE.format(
                    w=PHOTO_WIDTH, h=PHOTO_HEIGHT, width=width, height=height))
            image.load()  # decode fully: catches truncated or corrupt files
    except ValidationError:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise ValidationError(MSG_PHOTO_NOT_IMAGE) from None
    return PhotoInfo(format=fmt, width=width, height=height, size=len(data))


class Photo:
    """WTForms validator for a photo field. Keeps the checked bytes on the field as
    ``field.photo_bytes`` (and ``field.photo_info``) for the caller to store."""

    def __init__(self, required: bool = True):
        self.required = required
        self.field_flags = {"required": True} if required else {}

    def __call__(self, form, field) -> None:
        field.photo_bytes, field.photo_info = None, None
        data = load_photo(field.data)
        if not data and not self.required:
            return
        field.photo_info = check_photo(data)
        field.photo_bytes = data
