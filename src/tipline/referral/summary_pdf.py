"""The readable PDF summary of a referral: report facts, priority reasons, tactics found, file
matches, analyst notes. Text only: it never embeds an image (evidence travels as files)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from fpdf import FPDF
from fpdf.enums import WrapMode, XPos, YPos

UNICODE_FONTS = (
    Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"),
    Path("/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf"),
)
UNICODE_BOLD = (
    Path("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"),
    Path("/usr/share/fonts/truetype/liberation/LiberationSans-Bold.ttf"),
)


@dataclass
class Section:
    title: str
    lines: list[str] = field(default_factory=list)
    pairs: list[tuple[str, str]] = field(default_factory=list)  # label, value


@dataclass
class SummaryDocument:
    title: str
    subtitle: str
    sections: list[Section]
    footer: str


class _Pdf(FPDF):
    footer_text = ""
    body_font = "helvetica"

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font(self.body_font, size=7)
        self.cell(0, 5, f"{self.footer_text} · page {self.page_no()}/{{nb}}", align="C")


def _fonts(pdf: _Pdf) -> tuple[str, bool]:
    regular = next((p for p in UNICODE_FONTS if p.exists()), None)
    bold = next((p for p in UNICODE_BOLD if p.exists() and regular and p.parent == regular.parent), None)
    if regular is None:
        return "helvetica", False
    pdf.add_font("body", "", str(regular))
    pdf.add_font("body", "B", str(bold or regular))
    return "body", True


def _text(value: str, unicode_font: bool) -> str:
    """The core PDF fonts hold Latin-1 only: anything else becomes '?' there (never an error)."""
    return value if unicode_font else value.encode("latin-1", "replace").decode("latin-1")


def render_summary(document: SummaryDocument) -> bytes:
    pdf = _Pdf(format="A4")
    pdf.body_font, unicode_font = _fonts(pdf)
    pdf.footer_text = _text(document.footer, unicode_font)
    pdf.set_auto_page_break(True, margin=16)
    pdf.set_title(_text(document.title, unicode_font))
    pdf.set_creator("tipline")
    pdf.alias_nb_pages()
    pdf.add_page()
    width = pdf.epw
    pdf.set_font(pdf.body_font, "B", 15)
    pdf.multi_cell(width, 8, _text(document.title, unicode_font), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font(pdf.body_font, "", 9)
    pdf.multi_cell(width, 5, _text(document.subtitle, unicode_font), align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    for section in document.sections:
        pdf.ln(3)
        pdf.set_font(pdf.body_font, "B", 11)
        pdf.multi_cell(width, 6, _text(section.title, unicode_font), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.set_font(pdf.body_font, "", 9)
        for label, value in section.pairs:
            pdf.set_font(pdf.body_font, "B", 9)
            pdf.cell(45, 5, _text(label, unicode_font))
            pdf.set_font(pdf.body_font, "", 9)
            pdf.multi_cell(width - 45, 5, _text(value or "—", unicode_font), align="L", new_x=XPos.LMARGIN,
                           new_y=YPos.NEXT,
                           wrapmode=WrapMode.CHAR if " " not in value else WrapMode.WORD)
        for line in section.lines:
            pdf.multi_cell(width, 5, _text(line, unicode_font), align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT,
                           wrapmode=WrapMode.CHAR if len(line) > 60 and " " not in line else WrapMode.WORD)
    return bytes(pdf.output())
