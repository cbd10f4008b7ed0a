"""Masking of secrets in log messages and fields.

Masked: payment card numbers (13-19 digits, spaces/dashes allowed, *only* when the Luhn check
passes: order ids and timestamps stay readable), JWTs, `Bearer` tokens, `password=...`,
`token: ...`, `api_key=...` style pairs in text, and the whole value of any field whose *name*
says it is a secret (password, token, api_key, secret, authorization, ...). Every masked secret
counts in dtobs_secrets_masked_total{kind}.

A cheap pre-check regex rejects the ordinary string (most log values) before the specific
substitutions run.
"""

from __future__ import annotations

import re
from typing import Any

from ._stats import STATS

_KEYWORDS = r"pass(?:word|wd)?|pwd|secret|client_secret|(?:access_|refresh_|auth_|id_)?token|api[_-]?key|apikey|authorization"
_DIGIT_RUN = re.compile(r"[0-9][0-9 -]{11,}[0-9]")
_CLEAN: dict[str, bool] = {}  # short strings already found clean (bounded)


def _candidate(s: str) -> bool:
    """Cheap pre-check: can `s` contain a secret at all? (plain `in` scans, no alternation)"""
    if _DIGIT_RUN.search(s) is not None:
        return True
    low = s.lower()
    return (
        "pass" in low
        or "pwd" in low
        or "secret" in low
        or "token" in low
        or "key" in low
        or "auth" in low
        or "eyj" in low
        or "bearer" in low
    )
_CARD = re.compile(r"(?<![\d-])\d(?:[ -]?\d){12,18}(?![\d-])")
_JWT = re.compile(r"eyJ[A-Za-z0-9_-]{2,}\.eyJ[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]*")
_BEARER = re.compile(r"(?i)\b(bearer)\s+[A-Za-z0-9._~+/-]{8,}=*")
_PAIR = re.compile(
    r"(?i)(?P<key>\b(?:" + _KEYWORDS + r"))(?P<sep>\s*[=:]\s*)(?P<val>(?:(?:bearer|basic)\s+)?(?:\"[^\"]*\"|'[^']*'|[^\s,;&}]+))"
)
_SENSITIVE_KEY = re.compile(r"(?i)(" + _KEYWORDS + r"|credential|private_key|card_number|cardnumber|pan|cvv)$")

_KEY_KIND: dict[str, str | None] = {}  # field name -> kind (or None), cached


def luhn_ok(digits: str) -> bool:
    total = 0
    parity = len(digits) % 2
    for i, ch in enumerate(digits):
        d = ord(ch) - 48
        if i % 2 == parity:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def _kind_of_keyword(word: str) -> str:
    w = word.lower()
    if "key" in w:
        return "api_key"
    if "token" in w or w == "authorization":
        return "token"
    if w in ("secret", "client_secret"):
        return "secret"
    return "password"


def key_kind(key: str) -> str | None:
    """The secret kind of a field *name*, or None when the name is not sensitive."""
    kind = _KEY_KIND.get(key, "")
    if kind != "":
        return kind
    m = _SENSITIVE_KEY.search(key) if isinstance(key, str) else None
    if m is None:
        kind = None
    else:
        word = m.group(1).lower()
        if word in ("card_number", "cardnumber", "pan", "cvv"):
            kind = "card"
        elif word in ("credential", "private_key"):
            kind = "secret"
        else:
            kind = _kind_of_keyword(word)
    if len(_KEY_KIND) < 4096:
        _KEY_KIND[key] = kind
    return kind


def _card_sub(m: re.Match[str]) -> str:
    raw = m.group(0)
    digits = raw.replace(" ", "").replace("-", "")
    if 13 <= len(digits) <= 19 and luhn_ok(digits):
        STATS.masked("card")
        return f"[REDACTED:card:****{digits[-4:]}]"
    return raw


def _jwt_sub(m: re.Match[str]) -> str:
    STATS.masked("jwt")
    return "[REDACTED:jwt]"


def _bearer_sub(m: re.Match[str]) -> str:
    STATS.masked("token")
    return f"{m.group(1)} [REDACTED]"


def _pair_sub(m: re.Match[str]) -> str:
    val = m.group("val")
    if val.startswith("[REDACTED"):
        return m.group(0)
    STATS.masked(_kind_of_keyword(m.group("key")))
    return f"{m.group('key')}{m.group('sep')}[REDACTED]"


def mask_text(s: str) -> str:
    """Mask every secret found in a free-text string."""
    if len(s) < 8 or s in _CLEAN:
        return s
    if not _candidate(s):
        if len(s) <= 256 and len(_CLEAN) < 8192:
            _CLEAN[s] = True
        return s
    if "eyJ" in s:
        s = _JWT.sub(_jwt_sub, s)
    s = _PAIR.sub(_pair_sub, s)
    s = _BEARER.sub(_bearer_sub, s)
    s = _CARD.sub(_card_sub, s)
    return s


def mask_value(key: str, value: Any, depth: int = 0) -> Any:
    """Mask one field: whole value if the name is sensitive, else secrets inside the value."""
    kind = _KEY_KIND.get(key, "")
    if kind == "":
        kind = key_kind(key)
    if kind is not None:
        if value is None or value == "":
            return value
        STATS.masked(kind)
        return "[REDACTED]"
    t = type(value)
    if t is str:
        return mask_text(value)
    if t is int:
        if value > 999_999_999_999:
            digits = str(value)
            if len(digits) <= 19 and luhn_ok(digits):
                STATS.masked("card")
                return f"[REDACTED:card:****{digits[-4:]}]"
        return value
    if t is float or t is bool or value is None:
        return value
    if depth < 4:
        if isinstance(value, dict):
            return {k: mask_value(str(k), v, depth + 1) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [mask_value("", v, depth + 1) for v in value]
    return value


def mask_fields(event: dict[str, Any]) -> dict[str, Any]:
    """Mask in place every field of a dict; the common clean field costs a few dict lookups."""
    kinds = _KEY_KIND
    for k, v in event.items():
        if kinds.get(k, "") is None:  # a known, non-sensitive name
            t = type(v)
            if t is str:
                if len(v) < 8 or v in _CLEAN:
                    continue
                nv = mask_text(v)
            elif t is float or t is bool or v is None or (t is int and v <= 999_999_999_999):
                continue
            else:
                nv = mask_value(k, v)
        else:
            nv = mask_value(k, v)
        if nv is not v:
            event[k] = nv
    return event
