"""E-mail HTML -> the member's own words: convert, then cut quoted history and signatures."""

from __future__ import annotations

import re

import html2text

# Where the quoted part of a reply starts, in the forms mail clients write it.
_REPLY_HEADERS = (
    re.compile(r"^On .{0,300}wrote:$"),  # Gmail, Apple Mail
    re.compile(r"^-{2,}\s*Original Message\s*-{2,}$", re.IGNORECASE),  # Outlook (old)
    re.compile(r"^(\* \* \*|_{5,}|-{5,})$"),  # the rule Outlook draws above "From:"
    re.compile(r"^From: .+"),  # Outlook header block, when no rule precedes it
)
_SIGNATURE = re.compile(r"^\\?--\s*$")  # RFC 3676 "-- " (html2text escapes it as "\--")
_MD_ESCAPE = re.compile(r"\\([\\`*_{}\[\]()#+\-.!>])")


def html_to_text(html: str) -> str:
    converter = html2text.HTML2Text()
    converter.body_width = 0  # no hard wrapping: keep sentences whole
    converter.ignore_links = True
    converter.ignore_images = True
    converter.ignore_emphasis = True
    converter.ignore_tables = True
    return converter.handle(html)


def strip_reply(text: str) -> str:
    """Drop everything from the first reply header or signature delimiter, and quoted lines."""
    kept: list[str] = []
    for raw in text.splitlines():
        line = raw.rstrip()
        stripped = line.strip()
        if _SIGNATURE.match(stripped) or any(p.match(stripped) for p in _REPLY_HEADERS):
            break
        if stripped.startswith(">"):
            continue
        kept.append(_MD_ESCAPE.sub(r"\1", line))
    return re.sub(r"\n{3,}", "\n\n", "\n".join(kept)).strip()


def email_text(html: str) -> str:
    return strip_reply(html_to_text(html))
