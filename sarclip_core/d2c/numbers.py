"""Counts as words, digits or vague quantities ("several", "many"), shared by captions and their checks."""

from __future__ import annotations

UNITS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven",
         "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen")
TENS = ("", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety")
SEVERAL = range(3, 10)  # "several" means 3..9
MANY_FROM = 10  # "many" means 10 or more


def number_word(n: int) -> str:
    """English words for 0..99, digits beyond (nobody writes "three hundred and twelve ships")."""
    if n < 20:
        return UNITS[n]
    if n < 100:
        tens, unit = divmod(n, 10)
        return TENS[tens] + (f"-{UNITS[unit]}" if unit else "")
    return str(n)


def vague_word(n: int) -> str | None:
    """"several" or "many" when true for n, else None."""
    if n in SEVERAL:
        return "several"
    return "many" if n >= MANY_FROM else None
