"""Fast YAML for the SLO outputs (1,000 SLOs render in well under a second of emitting).

A small block-style emitter for the plain data the SLO renderers build (dicts, lists, strings,
numbers, booleans): strings that YAML could misread are written as JSON strings, which are valid
YAML double-quoted scalars. PyYAML's representer alone took ~4 s for 1,000 SLOs.
"""

from __future__ import annotations

import json
import re

_PLAIN = re.compile(r"^[A-Za-z_/][A-Za-z0-9_ ./:%()×&>=<',#+|*@-]*$")
_RESERVED = re.compile(r"^(?:y|Y|yes|Yes|YES|n|N|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF|null|Null|NULL|~)$")


def _scalar(value) -> str:
    if value is True or value is False:
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, int):
        return repr(value)
    if isinstance(value, float):
        r = repr(value)
        mantissa, e, exp = r.partition("e")
        return f"{mantissa}.0e{exp}" if e and "." not in mantissa else r  # 1e-06 would read back as a string
    s = str(value)
    if (_PLAIN.match(s) and not _RESERVED.match(s) and ": " not in s and " #" not in s
            and not s.endswith((":", " ")) and not s.startswith(("- ", "? ", "@", "|", ">", "*", "&", "!", "%", "'"))):
        return s
    return json.dumps(s, ensure_ascii=False)


def _emit(value, indent: int, out: list[str]) -> None:
    pad = " " * indent
    if isinstance(value, dict):
        for k, v in value.items():
            if isinstance(v, (dict, list)) and v:
                out.append(f"{pad}{_scalar(k)}:")
                _emit(v, indent + 2 if isinstance(v, dict) else indent, out)
            else:
                out.append(f"{pad}{_scalar(k)}: {_empty(v) if isinstance(v, (dict, list)) else _scalar(v)}")
    elif isinstance(value, list):
        for item in value:
            if isinstance(item, (dict, list)) and item:
                sub: list[str] = []
                _emit(item, indent + 2, sub)
                out.append(f"{pad}- {sub[0][indent + 2:]}")
                out.extend(sub[1:])
            else:
                out.append(f"{pad}- {_empty(item) if isinstance(item, (dict, list)) else _scalar(item)}")
    else:
        out.append(pad + _scalar(value))


def _empty(v) -> str:
    return "{}" if isinstance(v, dict) else "[]"


def dump(value, indent: int = 0) -> str:
    out: list[str] = []
    _emit(value, indent, out)
    return "\n".join(out)
