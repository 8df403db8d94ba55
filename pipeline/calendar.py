"""Month names, written once for every module that reads dates in text (pure data)."""

from __future__ import annotations

# In calendar order: MONTHS.index(name) + 1 is the month's number.
MONTHS = (
    "january", "february", "march", "april", "may", "june", "july", "august", "september",
    "october", "november", "december",
)  # fmt: skip
MONTH_ABBREVIATIONS = ("jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec")
