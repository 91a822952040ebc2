"""Receipts and statements as PDF (fpdf2), in DejaVu Sans so a name in any
alphabet prints as written. The text comes from services.ReceiptText, the same
words the printable page shows."""

from __future__ import annotations

from pathlib import Path

from fpdf import FPDF, ViewerPreferences
from fpdf.enums import XPos, YPos

from .services import ReceiptText, Statement, money

FONTS = Path(__file__).resolve().parent / "fonts"
SITE = "TrueTouch Directory"


class _Document(FPDF):
    def __init__(self, title: str):
        super().__init__(format="letter", unit="pt")
        self.add_font("DejaVu", "", str(FONTS / "DejaVuSans.ttf"))
        self.add_font("DejaVu", "B", str(FONTS / "DejaVuSans-Bold.ttf"))
        self.set_title(title)  # with the language, what a screen reader and a PDF/UA check read first
        self.set_lang("en-US")
        self.viewer_preferences = ViewerPreferences(display_doc_title=True)  # the title, not the file name
        self.set_author(SITE)
        self.set_creator(SITE)
        self.set_margins(54, 54, 54)
        self.set_auto_page_break(True, margin=54)
        self.add_page()

    def heading(self, text: str, size: int = 18) -> None:
        self.set_font("DejaVu", "B", size)
        self.multi_cell(0, size * 1.3, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.ln(4)

    def facts(self, rows: list[tuple[str, str]]) -> None:
        with self.table(col_widths=(30, 70), text_align="LEFT", first_row_as_headings=False, line_height=15) as table:
            for label, value in rows:
                row = table.row()
                self.set_font("DejaVu", "B", 10)
                row.cell(label)
                self.set_font("DejaVu", "", 10)
                row.cell(value)
        self.ln(10)

    def note(self, text: str) -> None:
        self.set_font("DejaVu", "", 9)
        self.multi_cell(0, 13, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def _items(doc: _Document, text: ReceiptText) -> None:
    doc.set_font("DejaVu", "", 10)
    with doc.table(col_widths=(55, 20, 25), line_height=15, text_align=("LEFT", "LEFT", "RIGHT")) as table:
        table.row(("Item", "HSA/FSA", "Amount"))
        for line in text.lines:
            table.row((line.label, "Eligible" if line.eligible else "Not eligible", money(line.amount)))
        table.row(("Total paid", "", money(text.total_paid)))
        table.row(("HSA/FSA-eligible amount", "", money(text.eligible_total)))
    doc.ln(10)


def receipt_pdf(text: ReceiptText) -> bytes:
    doc = _Document(f"Receipt {text.number}")
    doc.heading(f"Receipt {text.number}")
    doc.note(f"Itemized receipt for a massage therapy visit, issued through {SITE}.")
    doc.ln(8)
    doc.facts(text.rows())
    _items(doc, text)
    if text.letter:  # the client's copy only
        doc.note(text.letter)
    doc.note(text.footer)
    return bytes(doc.output())


def statement_pdf(statement: Statement) -> bytes:
    doc = _Document(f"Statement {statement.year}")
    doc.heading(f"Massage therapy statement for {statement.year}")
    doc.note(f"Client: {statement.client_name}. Visits completed through {SITE}, one receipt each.")
    doc.ln(8)
    doc.set_font("DejaVu", "", 9)
    with doc.table(
        col_widths=(18, 17, 25, 20, 10, 10), line_height=13, text_align=("LEFT",) * 4 + ("RIGHT", "RIGHT")
    ) as table:
        table.row(("Date", "Receipt", "Provider", "Service", "Eligible", "Tip (not eligible)"))
        for receipt, text in statement.receipts:
            table.row(
                (
                    text.visit_date,
                    text.number,
                    f"{text.therapist_name}\n{text.license}\nNPI {text.npi}",
                    f"{text.technique}, {text.duration}",
                    money(receipt.amount_paid),
                    money(receipt.tip_amount),
                )
            )
        table.row(("Total", "", "", "", money(statement.eligible_total), money(statement.tips_total)))
    doc.ln(10)
    eligible, tips = money(statement.eligible_total), money(statement.tips_total)
    doc.note(f"HSA/FSA-eligible total: {eligible}. Tips (not eligible): {tips}.")
    doc.note(statement.letter)
    return bytes(doc.output())
