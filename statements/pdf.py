"""The PDF of a monthly statement, with correct Chinese text.

fpdf2 embeds (a subset of) Noto Sans CJK SC, a TrueType/OpenType collection: the face is picked
by name, not by a guessed index. Debian's fonts-noto-cjk is preferred where present (it has a
bold face); otherwise the pinned PyPI package noto-cjk-sans-otc, so a PDF works wherever the
portal's requirements are installed. PDFs are made lazily, on the
first download, and kept on the statement, so the monthly run itself stays fast.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Any

from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _

from accounts.idnumbers import mask_id_number
from portal.templatetags.portal_tags import format_fen

from .models import MonthlyStatement
from .view_model import StatementPage, statement_page

FONT_DIRS = ["/usr/share/fonts/opentype/noto", "/usr/share/fonts/truetype/noto", "/usr/share/fonts/opentype/noto-cjk"]
REGULAR_FILES = ["NotoSansCJK-Regular.ttc", "NotoSansCJKsc-Regular.otf", "NotoSansCJK-Regular.otc"]
BOLD_FILES = ["NotoSansCJK-Bold.ttc", "NotoSansCJKsc-Bold.otf", "NotoSansCJK-Bold.otc"]
FACE_NAME = "Noto Sans CJK SC"


class FontMissing(RuntimeError):
    pass


def _find(files: list[str]) -> Path | None:
    override = os.environ.get("PORTAL_PDF_FONT")
    if override and Path(override).exists() and files is REGULAR_FILES:
        return Path(override)
    for directory in FONT_DIRS:
        for name in files:
            path = Path(directory) / name
            if path.exists():
                return path
    return None


@lru_cache(maxsize=4)
def _face_index(path: str) -> int:
    """Index of the Simplified Chinese face in a font collection (0 for a single font)."""
    if not path.lower().endswith((".ttc", ".otc")):
        return 0
    from fontTools.ttLib import TTCollection

    collection = TTCollection(path, lazy=True)
    try:
        for index, font in enumerate(collection.fonts):
            if font["name"].getDebugName(1) == FACE_NAME:
                return index
    finally:
        collection.close()
    return 0


def _packaged_font() -> Path | None:
    """The regular face shipped by the pinned PyPI package (requirements.txt)."""
    try:
        from noto_cjk_sans_otc import FONT_PATH
    except ImportError:
        return None
    path = Path(str(FONT_PATH))
    return path if path.exists() else None


def fonts() -> tuple[tuple[Path, int], tuple[Path, int] | None]:
    regular = _find(REGULAR_FILES) or _packaged_font()
    if regular is None:
        raise FontMissing("no CJK font found: pip install -r requirements.txt (noto-cjk-sans-otc) or set PORTAL_PDF_FONT")
    bold = _find(BOLD_FILES)
    return (regular, _face_index(str(regular))), ((bold, _face_index(str(bold))) if bold else None)


# A4 portrait, millimetres.
LEFT = 18.0
WIDTH = 174.0
INK = (33, 37, 41)
MUTED = (90, 98, 106)
BAR = (31, 95, 153)
BAR_HOLDER = (25, 120, 80)
RULE = (200, 205, 210)


def render_statement_pdf(statement: MonthlyStatement, language: str) -> bytes:
    """The statement as a PDF in ``language`` (the reader's language)."""
    from fpdf import FPDF

    (regular, regular_index), bold = fonts()
    with translation.override(language):
        page = statement_page(statement)
        pdf = FPDF(format="A4", unit="mm")
        pdf.set_margins(LEFT, 16, LEFT)
        pdf.set_auto_page_break(True, margin=18)
        pdf.add_font("cjk", "", str(regular), collection_font_number=regular_index)
        if bold is not None:
            pdf.add_font("cjk", "B", str(bold[0]), collection_font_number=bold[1])
        bold_style = "B" if bold is not None else ""
        pdf.set_title(_("Monthly statement") + " " + page.month_label)
        pdf.set_author(_("Family Pooling Portal"))
        pdf.set_lang("zh-CN" if language.startswith("zh") else language)
        pdf.add_page()
        _write(pdf, page, statement, bold_style)
        return bytes(pdf.output())


def _write(pdf: Any, page: StatementPage, statement: MonthlyStatement, bold: str) -> None:
    from fpdf.enums import XPos, YPos

    nl = {"new_x": XPos.LMARGIN, "new_y": YPos.NEXT}
    pdf.set_text_color(*INK)
    pdf.set_font("cjk", bold, 18)
    pdf.cell(WIDTH, 10, _("Personal account statement"), **nl)
    pdf.set_font("cjk", "", 13)
    pdf.cell(WIDTH, 8, page.month_label, **nl)
    pdf.set_font("cjk", "", 10)
    pdf.set_text_color(*MUTED)
    holder = statement.person
    pdf.cell(WIDTH, 6, _("Account holder: %(name)s (ID %(id)s)") % {"name": holder.name, "id": mask_id_number(holder.id_number)}, **nl)
    pdf.cell(WIDTH, 6, _("Period: %(start)s to %(end)s") % {"start": page.period_start, "end": page.period_end}, **nl)
    pdf.cell(WIDTH, 6, _("Issued by: %(bureau)s") % {"bureau": page.bureau.name}, **nl)
    if page.bureau.address:
        pdf.cell(WIDTH, 6, _("Address: %(address)s") % {"address": page.bureau.address}, **nl)
    pdf.set_text_color(*INK)
    pdf.ln(4)

    _heading(pdf, _("Summary"), bold)
    for label, amount, strong in page.summary_rows:
        pdf.set_font("cjk", bold if strong else "", 11)
        pdf.cell(WIDTH - 50, 7, str(label))
        pdf.cell(50, 7, amount, align="R", **nl)
    pdf.set_draw_color(*RULE)
    pdf.line(LEFT, pdf.get_y() + 1, LEFT + WIDTH, pdf.get_y() + 1)
    pdf.ln(5)

    _heading(pdf, _("Spending per person"), bold)
    if not page.people:
        pdf.set_font("cjk", "", 11)
        pdf.multi_cell(WIDTH, 7, _("Nothing was spent from your account this month."), align="L", **nl)
    else:
        _bar_chart(pdf, page)
        widths = [58, 29, 29, 29, 29]
        pdf.set_font("cjk", bold, 10)
        headers = [_("Person"), _("Payments"), _("Refunds"), _("Premiums"), _("Net spending")]
        for width, text in zip(widths, headers, strict=True):
            pdf.cell(width, 7, text, border="B", align="L" if width == widths[0] else "R")
        pdf.ln()
        pdf.set_font("cjk", "", 10)
        for person in page.people:
            cells = [person.label, format_fen(person.payments_fen), format_fen(person.refunds_fen),
                     format_fen(person.premiums_fen), format_fen(person.net_fen)]
            for width, text in zip(widths, cells, strict=True):
                pdf.cell(width, 7, text, align="L" if width == widths[0] else "R")
            pdf.ln()
    pdf.ln(4)

    if page.categories:
        _heading(pdf, _("Spending per category"), bold)
        pdf.set_font("cjk", "", 10)
        for category in page.categories:
            pdf.cell(WIDTH - 50, 7, category.label)
            pdf.cell(50, 7, format_fen(category.net_fen), align="R", **nl)
        pdf.ln(4)

    if page.items:
        _line_items(pdf, page, bold)

    pdf.set_font("cjk", "", 9)
    pdf.set_text_color(*MUTED)
    made = formats.date_format(timezone.localtime(statement.created_at), "DATETIME_FORMAT")
    pdf.multi_cell(
        WIDTH, 5,
        _("This statement was made from the ledger of your medical-insurance personal account on %(made)s. "
          "Its figures have been checked against the account balance. If something looks wrong, contact your "
          "local medical-insurance bureau.") % {"made": made},
        align="L",
        **nl,
    )


def _fit(pdf: Any, text: str, width: float) -> str:
    """Shorten ``text`` with an ellipsis until it fits ``width`` mm in the current font."""
    if pdf.get_string_width(text) <= width - 1:
        return text
    while text and pdf.get_string_width(text + "…") > width - 1:
        text = text[:-1]
    return text + "…"


def _line_items(pdf: Any, page: StatementPage, bold: str) -> None:
    """Every payment of the month: date, institution, category, person, amount, refunds."""
    _heading(pdf, _("Payments this month"), bold)
    widths = [22.0, 46.0, 30.0, 30.0, 24.0, WIDTH - 152.0]
    headers = [_("Date"), _("Hospital or pharmacy"), _("What it paid for"), _("Person"), _("Amount"), _("Refunds")]
    pdf.set_font("cjk", bold, 9)
    for index, (width, text) in enumerate(zip(widths, headers, strict=True)):
        pdf.cell(width, 7, _fit(pdf, str(text), width), border="B", align="R" if index >= 4 else "L")
    pdf.ln()
    pdf.set_font("cjk", "", 9)
    for item in page.items:
        cells = [timezone.localtime(item.when).strftime("%Y-%m-%d"), item.institution, item.category, item.person,
                 format_fen(item.amount_fen) if item.amount_fen else "—", format_fen(item.refunded_fen) if item.refunded_fen else "—"]
        for index, (width, text) in enumerate(zip(widths, cells, strict=True)):
            pdf.cell(width, 6, _fit(pdf, str(text), width), align="R" if index >= 4 else "L")
        pdf.ln()
    pdf.ln(4)


def _heading(pdf: Any, text: str, bold: str) -> None:
    from fpdf.enums import XPos, YPos

    pdf.set_font("cjk", bold, 13)
    pdf.cell(WIDTH, 9, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def _bar_chart(pdf: Any, page: StatementPage) -> None:
    label_width, value_width, row = 46.0, 30.0, 8.0
    bar_space = WIDTH - label_width - value_width
    pdf.set_font("cjk", "", 10)
    for bar in page.chart.bars:
        y = pdf.get_y()
        pdf.set_xy(LEFT, y)
        pdf.cell(label_width, row, bar.label)
        length = max(0.6, bar_space * bar.fraction) if bar.amount_fen > 0 else 0
        if length:
            pdf.set_fill_color(*(BAR_HOLDER if bar.is_holder else BAR))
            pdf.rect(LEFT + label_width, y + 1.6, length, row - 3.2, style="F")
        pdf.set_xy(LEFT + label_width + length + 2, y)
        pdf.cell(value_width, row, format_fen(bar.amount_fen))
        pdf.set_xy(LEFT, y + row)
    pdf.ln(3)


# Raise when what the PDF shows or how it is laid out changes: files stored with an older
# layout (before line items and the bureau's name, 1) are made again when next downloaded.
LAYOUT = 2


def pdf_for(statement: MonthlyStatement, language: str) -> bytes:
    """The stored PDF when it is in this language and layout, otherwise render and keep it."""
    if statement.pdf is not None and statement.pdf_language == language and statement.pdf_layout == LAYOUT:
        return bytes(statement.pdf)
    data = render_statement_pdf(statement, language)
    MonthlyStatement.objects.filter(pk=statement.pk).update(
        pdf=data, pdf_language=language, pdf_rendered_at=timezone.now(), pdf_layout=LAYOUT
    )
    statement.pdf, statement.pdf_language, statement.pdf_layout = data, language, LAYOUT
    return data


def filename(statement: MonthlyStatement) -> str:
    return f"statement-{statement.month:%Y-%m}.pdf"

