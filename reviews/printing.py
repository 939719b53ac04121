"""Cut-out code slips with QR codes (segno, pure Python, no outside call)."""

from dataclasses import dataclass

import segno
from django.utils.safestring import mark_safe


@dataclass(frozen=True)
class Slip:
    code: str
    qr: str  # inline SVG


def slips(codes, vote_url):
    """One slip per code. The QR code opens the voting page with the code after '#': a
    fragment is never sent to the server, so the code travels only in the form's POST body."""
    return [
        Slip(code, mark_safe(segno.make(f"{vote_url}#{code}", error="m").svg_inline(scale=3, border=2)))
        for code in codes
    ]
