"""Excel helpers 单据Excel: a streamed workbook (``write_only``: a list of thousands of rows is
not held in memory) with one sheet and its column widths, bold or styled cells, the bytes.

    wb, ws = sheet("花名册", [8, 14, 22])
    ws.append(bold(ws, ["花名册"], TITLE))
    ws.append(bold(ws, ["序号", "姓名", "身份证号"]))
    ws.append([1, "张三", "350581199003071311"])
    return to_bytes(wb)
"""
from __future__ import annotations

import io

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

TITLE = Font(bold=True, size=14)
BOLD = Font(bold=True)


def sheet(title: str, widths: list[int]):
    """A write-only workbook with one sheet named ``title`` (31 characters at most) and the
    widths of its first columns: ``(workbook, sheet)``."""
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(title[:31])
    for i, width in enumerate(widths, 1):
        ws.column_dimensions[get_column_letter(i)].width = width
    return wb, ws


def styled(ws, value, font):
    cell = WriteOnlyCell(ws, value=value)
    cell.font = font
    return cell


def bold(ws, values, font=BOLD):
    """A row of cells in ``font`` (bold by default); ``None`` stays an empty cell."""
    return [styled(ws, v, font) if v is not None else None for v in values]


def to_bytes(wb) -> bytes:
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
