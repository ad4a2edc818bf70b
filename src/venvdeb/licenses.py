"""A one-line license summary of a wheel, from its METADATA."""

from __future__ import annotations

from email.parser import BytesParser


def summary(metadata: bytes) -> str:
    msg = BytesParser().parsebytes(metadata)
    if msg.get("License-Expression"):
        return msg["License-Expression"].strip()
    classifiers = [c.split("::")[-1].strip() for c in msg.get_all("Classifier") or []
                   if c.startswith("License ::") and c.count("::") >= 2]
    text = (msg.get("License") or "").strip()
    if text and "\n" not in text and len(text) <= 60 and text.upper() != "UNKNOWN":
        return text
    if classifiers:
        return ", ".join(sorted(set(classifiers)))
    return "see the wheel's .dist-info/METADATA"
