"""French display of numbers, periods and dates, shared by figures, tables and pages."""

import functools
import re
from datetime import datetime

MONTHS = ["janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre",
          "octobre", "novembre", "décembre"]
NARROW_NBSP = "\u202f"
MASKED_TEXT = "< seuil"


def format_number(value: float | int, grouped: bool = True, decimals: int = 1) -> str:
    """12345.678 -> '12 345,7' (narrow no-break space); whole numbers keep no decimals.

    `grouped=False` drops the thousands separator so that French Excel reads the cell as a
    number in a CSV file.
    """
    # a national site formats 2.4 million numbers: the usual formats are written out, which
    # spares building the format each time, and a number for a CSV is not grouped at all
    if isinstance(value, int):
        return f"{value:,}".replace(",", NARROW_NBSP) if grouped else f"{value:d}"
    places = 0 if value.is_integer() else decimals
    if grouped:
        text = f"{value:,.1f}" if places == 1 else f"{value:,.{places}f}"
        return text.replace(",", NARROW_NBSP).replace(".", ",")
    text = f"{value:.2f}" if places == 2 else f"{value:.{places}f}"
    return text.replace(".", ",")


@functools.cache
def format_period(period: str) -> str:
    """'2013-05' -> 'mai 2013', '2024-T1' -> 'T1 2024'; a year or anything else is shown as it
    is."""
    if match := re.fullmatch(r"(\d{4})-([ST][1-4])", period):
        return f"{match[2]} {match[1]}"
    match = re.fullmatch(r"(\d{4})-(\d{2})", period)
    if not match or not 1 <= int(match[2]) <= 12:
        return period
    return f"{MONTHS[int(match[2]) - 1]} {match[1]}"


@functools.cache
def period_order(period: str) -> tuple:
    """A key that sorts periods of any grain by time: by the month they end, the shorter first
    when two end together ('2024-03', '2024-T1', '2024-06', '2024-S1', '2024'). A follow-up
    file may mix grains (quarterly values and a yearly total); as text, '2024' came first and
    '2024-T1' last. Anything else sorts after, as text."""
    if re.fullmatch(r"\d{4}", period):
        return int(period), 12, 12, period
    if match := re.fullmatch(r"(\d{4})-([ST])([1-4])", period):
        span = 3 if match[2] == "T" else 6
        return int(match[1]), span * int(match[3]), span, period
    if (match := re.fullmatch(r"(\d{4})-(\d{2})", period)) and 1 <= int(match[2]) <= 12:
        return int(match[1]), int(match[2]), 1, period
    return 10_000, 0, 0, period


def format_datetime(moment: datetime) -> str:
    day = "1er" if moment.day == 1 else str(moment.day)
    return f"{day} {MONTHS[moment.month - 1]} {moment.year} à {moment:%H:%M}"


def suppression_note(rule: str | None, subject: str) -> str:
    """The tooltip of a masked cell; the threshold is read from the catalogue's rule text."""
    threshold = re.search(r"\d+", rule or "")
    if threshold:
        return (f"Valeur masquée : moins de {threshold[0]} {subject} "
                "(secret statistique)")
    return "Valeur masquée : effectif trop faible (secret statistique)"
