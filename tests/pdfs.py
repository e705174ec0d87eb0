"""Real PDFs for the tests, written byte by byte (and encrypted with pypdf)."""

from __future__ import annotations

import io


def pdf(
    pages: int = 1,
    *,
    size: tuple[float, float] = (612, 792),
    text: str = "Hello",
    box: tuple[float, float, float, float] | None = None,
    extra: bytes = b"",
) -> bytes:
    """A PDF of ``pages`` pages, each with ``text`` in Helvetica and, if given, a blue
    rectangle ``box`` = (x, y, width, height) in PDF user space (y upward); ``extra`` is
    drawn first (content-stream operators)."""
    width, height = size
    content = extra + f"BT /F1 24 Tf 72 {height - 72} Td ({text}) Tj ET".encode()
    if box is not None:
        content += f"\n0 0 1 rg {box[0]} {box[1]} {box[2]} {box[3]} re f".encode()
    objects: list[bytes] = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"",  # the page tree, filled in below
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
    ]
    kids = []
    for _ in range(pages):
        objects.append(
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %g %g] "
            b"/Resources << /Font << /F1 3 0 R >> >> /Contents 4 0 R >>" % (width, height)
        )
        kids.append(b"%d 0 R" % len(objects))
    objects[1] = b"<< /Type /Pages /Kids [" + b" ".join(kids) + b"] /Count %d >>" % pages
    out = io.BytesIO()
    out.write(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1, xref))  # fmt: skip
    return out.getvalue()


def encrypted(data: bytes, *, user_password: str = "") -> bytes:
    """``data`` encrypted with pypdf (an owner password always; a user one if given)."""
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(data)))
    writer.encrypt(user_password=user_password, owner_password="owner", algorithm="AES-128")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
