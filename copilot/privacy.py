"""Personal data kept on the machine: found, replaced with placeholders before a model sees it, put back after.

PIPL (China's Personal Information Protection Law) and buyers who expect their
data "not to leave the domain" mean a customer's phone number or ID number must
not be sent to a hosted model. Before any text goes to a model endpoint the
runner passes it through a `Redactor`, which replaces

- phone numbers: mainland mobiles (1[3-9] + 9 digits, optional +86 / 0086 and
  spaces or dashes), landlines with an area code (010-12345678, (0755) 8765 4321),
  international numbers written with a leading + (+44 20 7946 0958) and North
  American numbers written without +1 in the usual groups ((415) 555-2671,
  415-555-2671, 415.555.2671, 1-415-555-2671: area code and exchange start with
  2–9, the same dash or dot between the groups; ten bare digits and groups
  separated by spaces only, "200 300 4000", read as quantities and are not taken);
- e-mail addresses;
- Chinese resident ID numbers: 18 characters whose birth date is a real date and
  whose last character is the ISO 7064 MOD 11-2 check character, and the legacy
  15-digit numbers (issued until 2004: a known province code, a real 19YYMMDD
  birth date written as YYMMDD, a 3-digit sequence; they have no check digit);
- bank card numbers: 13–19 digits (optionally in groups of 4, or 4-6-5), starting
  with 2–6 or 9 (the networks issuing cards in China and abroad), Luhn-valid,

with placeholders [PHONE_1], [EMAIL_1], [ID_1], [CARD_1]: the same value gets the same
placeholder throughout one request, so the model can still tell two contacts apart.
The checksums and shapes are strict on purpose: amounts (13亿元, 1,300,000,000),
durations, years, article and standard numbers (GB/T 22239-2019) must pass through
untouched, or the model could not use them. The model's reply gets the placeholders
replaced by the original text (`restore`, `restore_data`) before it is validated and
rendered; the values come from the user's own input, so the number checks
(copilot.validators) find them there.

`redact_pii` ("auto", "on", "off"): "auto" redacts for every endpoint that is not
on this machine (a base URL whose host is localhost, 127.0.0.0/8 or ::1 is local;
openai, deepseek and qwen without a base URL are remote). A server elsewhere on
the company network counts as remote; set "off" for it if that is acceptable.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

import yaml

from copilot.llm.model import BASE_URLS
from copilot.results import Notice
from copilot.settings import Settings
from copilot.wording import Wording

PiiKind = Literal["phone", "email", "id", "card"]
KINDS: tuple[PiiKind, ...] = ("phone", "email", "id", "card")
_LABELS: dict[PiiKind, str] = {"phone": "PHONE", "email": "EMAIL", "id": "ID", "card": "CARD"}
_PRIORITY: dict[PiiKind, int] = {"email": 0, "id": 1, "card": 2, "phone": 3}

_EMAIL = re.compile(
    r"(?<![A-Za-z0-9._%+-])[A-Za-z0-9](?:[A-Za-z0-9._%+-]{0,63})@"
    r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,24}(?![A-Za-z0-9-])"
)
_ID = re.compile(r"(?<![\d.])([1-8]\d{5})[ -]?(\d{8})[ -]?(\d{3}[0-9Xx])(?![\d.]?\d)")
_CARD = re.compile(
    r"(?<![\d.,])(?:"
    r"\d{13,19}"  # contiguous
    r"|\d{4}(?:[ -]\d{4}){2,3}(?:[ -]\d{1,4})?"  # groups of 4: 4-4-4-4, 4-4-4-4-3, …
    r"|\d{4}[ -]\d{6}[ -]\d{4,5}"  # American Express style 4-6-5
    r"|\d{6}[ -]\d{13}"  # 19-digit UnionPay 6-13
    r")(?![\d]|[.,]\d)"
)
_ID15 = re.compile(r"(?<![\d.])([1-8]\d{5})[ -]?(\d{6})[ -]?(\d{3})(?![\d.]?\d|[Xx])")
_PROVINCES = frozenset(
    "11 12 13 14 15 21 22 23 31 32 33 34 35 36 37 41 42 43 44 45 46 50 51 52 53 54 61 62 63 64 65 71 81 82".split()
)
_NANP = re.compile(
    r"(?<![\d.+\-/])(?:1[ .-])?"
    r"(?:\([2-9]\d{2}\)[ ]?[2-9]\d{2}[ .-]|[2-9]\d{2}(?P<sep>[.-])[2-9]\d{2}(?P=sep))\d{4}"
    r"(?:[ ]?(?:ext\.?|x)[ ]?\d{1,6})?(?![\d]|[.,/-]\d)"
)
_MOBILE = re.compile(r"(?<![\d.+])(?:(?:\+|00)86[ -]?|\(\+?86\)[ -]?)?1[3-9]\d(?:[ -]?\d{4}){2}(?![\d]|[.,]\d)")
DATA = Path(__file__).resolve().parent / "data" / "privacy.yaml"


@cache
def _landline() -> re.Pattern[str]:
    """Landlines with an area code, and an extension after one of data/privacy.yaml's words."""
    extension = "|".join(yaml.safe_load(DATA.read_text(encoding="utf-8"))["landline_extension"])
    return re.compile(
        r"(?<![\d.])(?:\(0(?:10|2\d|[3-9]\d{2})\)[ -]?|0(?:10|2\d|[3-9]\d{2})[ -]?)\d{3,4}[ -]?\d{4}"
        rf"(?:[ -]?(?:{extension})[ -]?\d{{1,6}})?(?![\d]|[.,]\d)"
    )


_INTERNATIONAL = re.compile(r"(?<![A-Za-z0-9_+])\+[1-9]\d{0,2}(?:[ -]?\(?\d{1,5}\)?){1,6}(?![\d]|[.,]\d)")
_PLACEHOLDER = re.compile(
    r"(?:[\[【]\s*)?(?<![A-Za-z0-9_])(PHONE|EMAIL|ID|CARD)_(\d{1,4})(?![A-Za-z0-9_])(?:\s*[\]】])?"
)

_SENT_PLACEHOLDER = re.compile(r"\[(?:PHONE|EMAIL|ID|CARD)_\d{1,4}\]")

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
_CARD_FIRST_DIGITS = frozenset("234569")


@dataclass(frozen=True)
class PiiMatch:
    kind: PiiKind
    start: int
    end: int
    value: str
    """The text as written."""
    key: str
    """The value normalised (digits only, e-mail lowercased): one placeholder per key."""


def _digits(text: str) -> str:
    return "".join(c for c in text if c.isdigit() or c in "Xx").upper()


def valid_resident_id(number: str) -> bool:
    """An 18-character Chinese resident ID number with a real birth date and a correct check character."""
    number = number.upper()
    if len(number) != 18 or not number[:17].isdigit() or number[17] not in "0123456789X":
        return False
    if number[:2] not in _PROVINCES:
        return False
    try:
        born = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return False
    if not date(1900, 1, 1) <= born <= date.today():
        return False
    total = sum(int(d) * w for d, w in zip(number[:17], _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11] == number[17]


def valid_legacy_resident_id(number: str) -> bool:
    """A 15-digit resident ID number of the first generation: province code, a real 19YYMMDD birth date, a sequence."""
    if len(number) != 15 or not number.isdigit() or number[:2] not in _PROVINCES:
        return False
    try:
        date(1900 + int(number[6:8]), int(number[8:10]), int(number[10:12]))
    except ValueError:
        return False
    return number[12:15] != "000"


def luhn_valid(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 1:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def valid_card(digits: str) -> bool:
    """13–19 digits, issued by a card network (first digit 2–6 or 9), Luhn-valid, not one repeated digit."""
    return (
        13 <= len(digits) <= 19
        and digits.isdigit()
        and digits[0] in _CARD_FIRST_DIGITS
        and len(set(digits)) > 1
        and luhn_valid(digits)
    )


def _candidates(text: str) -> Iterator[PiiMatch]:
    for m in _EMAIL.finditer(text):
        yield PiiMatch("email", m.start(), m.end(), m.group(), m.group().lower())
    for m in _ID.finditer(text):
        number = "".join(m.groups()).upper()
        if valid_resident_id(number):
            yield PiiMatch("id", m.start(), m.end(), m.group(), number)
    for m in _ID15.finditer(text):
        number = "".join(m.groups())
        if valid_legacy_resident_id(number):
            yield PiiMatch("id", m.start(), m.end(), m.group(), number)
    for m in _CARD.finditer(text):
        digits = _digits(m.group())
        if valid_card(digits):
            yield PiiMatch("card", m.start(), m.end(), m.group(), digits)
    for m in _MOBILE.finditer(text):
        digits = _digits(m.group())
        yield PiiMatch("phone", m.start(), m.end(), m.group(), digits[-11:])
    for m in _landline().finditer(text):
        yield PiiMatch("phone", m.start(), m.end(), m.group(), _digits(m.group()))
    for m in _NANP.finditer(text):
        digits = _digits(m.group().split("x")[0].split("ext")[0])
        yield PiiMatch("phone", m.start(), m.end(), m.group(), "1" + digits[-10:])
    for m in _INTERNATIONAL.finditer(text):
        digits = _digits(m.group())
        if 8 <= len(digits) <= 15:
            key = digits[-11:] if digits.startswith("86") and len(digits) == 13 else digits
            yield PiiMatch("phone", m.start(), m.end(), m.group(), key)


def find_pii(text: str) -> list[PiiMatch]:
    """Personal data in `text`, in order, without overlaps (the longer match wins, then e-mail > ID > card > phone)."""
    found: list[PiiMatch] = []
    ordered = sorted(_candidates(text), key=lambda m: (m.start, -(m.end - m.start), _PRIORITY[m.kind]))
    for match in ordered:
        if found and match.start < found[-1].end:
            continue
        found.append(match)
    return found


class Redactor:
    """Placeholders for the personal data of one request: stable within it, reversible only by it."""

    def __init__(self) -> None:
        self._placeholder: dict[tuple[PiiKind, str], str] = {}
        self._original: dict[str, str] = {}
        self._count: dict[PiiKind, int] = dict.fromkeys(KINDS, 0)

    def placeholder(self, match: PiiMatch) -> str:
        token = self._placeholder.get((match.kind, match.key))
        if token is None:
            self._count[match.kind] += 1
            token = f"[{_LABELS[match.kind]}_{self._count[match.kind]}]"
            self._placeholder[(match.kind, match.key)] = token
            self._original[token] = match.value
        return token

    def redact(self, text: str) -> str:
        """`text` with every phone number, e-mail address, ID and card number replaced by its placeholder."""
        out: list[str] = []
        position = 0
        for match in find_pii(text):
            out += [text[position : match.start], self.placeholder(match)]
            position = match.end
        return "".join(out) + text[position:] if out else text

    def restore(self, text: str) -> str:
        """`text` with this request's placeholders (also written without brackets or as 【…】) put back."""

        def back(m: re.Match[str]) -> str:
            original = self._original.get(f"[{m.group(1)}_{int(m.group(2))}]")
            return m.group() if original is None else original

        return _PLACEHOLDER.sub(back, text) if self._original else text

    def restore_data(self, value: Any) -> Any:
        """`value` (strings, lists, dicts, as in a dumped draft) with the placeholders put back in every string."""
        if isinstance(value, str):
            return self.restore(value)
        if isinstance(value, list):
            return [self.restore_data(v) for v in value]
        if isinstance(value, dict):
            return {k: self.restore_data(v) for k, v in value.items()}
        return value

    def replaced(self, sent: Iterable[str] | None = None) -> dict[PiiKind, int]:
        """How many different values of each kind were replaced (in `sent`, the texts that went out, if given)."""
        if sent is None:
            tokens = set(self._original)
        else:
            tokens = {m for text in sent for m in _SENT_PLACEHOLDER.findall(text) if m in self._original}
        counts: dict[PiiKind, int] = {}
        for (kind, _), token in self._placeholder.items():
            if token in tokens:
                counts[kind] = counts.get(kind, 0) + 1
        return {kind: counts[kind] for kind in KINDS if kind in counts}

    def notice(self, lang: str, sent: Iterable[str] | None = None) -> Notice | None:
        """A "redaction" notice naming the kinds and counts replaced (never the values), or None."""
        counts = self.replaced(sent)
        if not counts:
            return None
        zh = lang == "zh"
        say = Wording("privacy", "zh" if zh else "en")
        what = ("、" if zh else ", ").join(
            say("count", count=n, kind=say(f"kind.{k}.{'many' if n > 1 else 'one'}")) for k, n in counts.items()
        )
        return Notice(kind="redaction", message=say("notice", what=what))


# -- when to redact -------------------------------------------------------------------------------
def is_local_url(url: str) -> bool:
    """True when `url`'s host is this machine: localhost, 127.0.0.0/8 or ::1."""
    host = (urlsplit(url).hostname or "").lower().rstrip(".")
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def is_local_endpoint(settings: Settings) -> bool:
    """Whether the configured model endpoint runs on this machine (offline mode sends nothing: local)."""
    if settings.provider == "offline":
        return True
    url = settings.base_url or BASE_URLS.get(settings.provider)
    if url is None:
        return False  # openai / deepseek / qwen defaults, or custom without a URL: assume remote
    return is_local_url(url)


def redaction_enabled(settings: Settings) -> bool:
    """`redact_pii`: "on", "off", or "auto" (on unless the endpoint is local)."""
    if settings.redact_pii == "auto":
        return not is_local_endpoint(settings)
    return settings.redact_pii == "on"
