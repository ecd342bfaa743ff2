"""Answer options embedded in FLAN inputs ("OPTIONS:\\n- yes\\n- no", "Choose from: (A). x (B). y" ...).

FLAN's option templates list the choices after a short header, one per line, each with a
marker (``-``, ``(A).``, ``[a].``, ``1).``, ``(i)`` ...). ``parse_options`` returns the
choices of the last such block and the index of the target among them, when the target
is one of them.
"""

from __future__ import annotations

import re

_ITEM = re.compile(
    r"^\s*(?:[-+*\u2022]|\(?[A-Za-z]\)\.?|\(?[A-Za-z][.)]|\(?\d{1,2}\)\.?|\(?\d{1,2}\.|\[[A-Za-z0-9]{1,3}\]\.?|\([ivxIVX]{1,4}\)\.?)\s+(?P<text>\S.*)$"
)
_HEADER = re.compile(r"(options|choices|choose|choice|select|pick|answers?|possible|available)[^\n]{0,60}:?\s*$", re.IGNORECASE)


def _normalise(text: str) -> str:
    return re.sub(r"\s+", " ", text.strip().lower()).rstrip(".")


def _blocks(lines: list[str]) -> list[list[str]]:
    """Runs of >= 2 consecutive item lines that follow a header line (or the previous line ends with ':')."""
    blocks: list[list[str]] = []
    i = 0
    while i < len(lines):
        header = lines[i].strip()
        if header and (_HEADER.search(header) or header.endswith(":")):
            items = []
            j = i + 1
            while j < len(lines) and (m := _ITEM.match(lines[j])):
                items.append(m["text"].strip())
                j += 1
            if len(items) >= 2:
                blocks.append(items)
                i = j
                continue
        i += 1
    return blocks


def parse_options(source: str, target: str) -> tuple[tuple[str, ...], int]:
    """(choices, label) of the last options block whose choices contain the target; ((), -1) otherwise."""
    want = _normalise(target)
    for items in reversed(_blocks(source.splitlines())):
        normalised = [_normalise(i) for i in items]
        if want in normalised:
            return tuple(items), normalised.index(want)
    return (), -1
