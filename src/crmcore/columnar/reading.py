"""Reading your own data: column names, time zones, date order, extra columns, guests, float ids.

Every frame loader ([`from_csv()`][crmcore.columnar.table.Frame.from_csv],
[`from_pandas()`][crmcore.columnar.table.Frame.from_pandas],
[`from_records()`][crmcore.columnar.table.Frame.from_records]) takes the same keyword
options, gathered here in [`ReadOptions`][crmcore.columnar.reading.ReadOptions]:

* ``columns``: our column name → yours, ``{"customer_id": "CustomerID", "at": "InvoiceDate"}``;
* ``tz``: the zone of *naive* timestamps (``"Europe/Berlin"``, ``"UTC"``); without it a
  naive timestamp is an error that says to pass it;
* ``dayfirst``: ``1/12/2010`` is 1 December (default ``False``: 12 January, month first);
* ``extra``: columns the frame does not know: ``"ignore"`` them, ``"keep"`` them as
  ``attr.<name>``, or refuse them (``"error"``, the default);
* ``guests``: log rows with no customer id (guest checkouts) are left out and counted in
  [`skipped`][crmcore.columnar.table.Frame.skipped] (``"exclude"``, the default), or an
  error (``"refuse"``);
* ``float_ids``: ids a spreadsheet wrote as floats (``17850.0``) read back as ``17850``
  when every id of the column is a whole number (default ``True`` for files);
* ``cancellations``: a regular expression; orders whose id matches (``"^C"``) are returns.

Rows left out are never dropped without a word: each reason is a
[`SkippedRows`][crmcore.columnar.reading.SkippedRows] on the frame, which the analytics
copy into their reports.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import UTC, tzinfo
from typing import Any, Final, Literal, TypeAlias
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import attrs

from crmcore.kernel.errors import ValidationError
from crmcore.kernel.reports import json_number
from crmcore.kernel.validators import instance_of, instances_of

__all__ = [
    "ExtraColumns",
    "GuestRows",
    "ReadOptions",
    "SkippedRows",
    "read_options",
]

ExtraColumns: TypeAlias = Literal["error", "ignore", "keep"]
"""What to do with columns the frame does not know: refuse, skip, or keep as ``attr.<name>``."""
GuestRows: TypeAlias = Literal["exclude", "refuse"]
"""What to do with log rows that have no customer id: leave them out (counted), or refuse."""

_EXTRA: Final = ("error", "ignore", "keep")
_GUESTS: Final = ("exclude", "refuse")


@attrs.frozen(kw_only=True)
class SkippedRows:
    """Rows a loader or an analysis left out, and why (a line of a report).

    ``amount`` is the total ``amount`` of those rows for a transaction log,
    ``None`` where rows carry no amount.
    """

    reason: str
    rows: int
    amount: float | None = None

    def to_dict(self) -> dict[str, object]:
        """The line as JSON data."""
        return {"reason": self.reason, "rows": self.rows, "amount": json_number(self.amount)}

    def __str__(self) -> str:
        value = "" if self.amount is None else f" (amount {self.amount:,.2f})"
        return f"{self.rows:,} rows {self.reason}{value}"


def _zone(value: object) -> tzinfo | None:
    if value is None or isinstance(value, tzinfo):
        return value
    if not isinstance(value, str):
        raise ValidationError("tz", value, "must be a time zone name such as 'Europe/Berlin'")
    if value.upper() in ("UTC", "Z"):
        return UTC
    try:
        return ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: a name too long for a path
        raise ValidationError(
            "tz", value, "is not a known time zone: use an IANA name such as 'Europe/Berlin'"
        ) from None


def _mapping(value: object) -> tuple[tuple[str, str], ...]:
    if value is None or (isinstance(value, tuple) and not value):
        return ()
    if not isinstance(value, Mapping):
        raise ValidationError(
            "columns", value, 'must map our column names to yours: {"customer_id": "CustomerID"}'
        )
    pairs: list[tuple[str, str]] = []
    for ours, theirs in value.items():
        if not isinstance(ours, str) or not isinstance(theirs, str):
            raise ValidationError(f"columns[{ours!r}]", theirs, "names must be strings")
        pairs.append((ours, theirs))
    sources = [theirs for _, theirs in pairs]
    if len(set(sources)) != len(sources):
        twice = next(s for s in sources if sources.count(s) > 1)
        raise ValidationError("columns", twice, "maps one of your columns to two of ours")
    return tuple(pairs)


def _pattern(value: object) -> re.Pattern[str] | None:
    if value is None or isinstance(value, re.Pattern):
        return value
    if not isinstance(value, str):
        raise ValidationError("cancellations", value, "must be a regular expression, e.g. '^C'")
    try:
        return re.compile(value)
    except re.error as error:
        raise ValidationError(
            "cancellations", value, f"is not a regular expression: {error}"
        ) from None


_Check = Callable[[object, "attrs.Attribute[Any]", Any], None]


def _choice(options: tuple[str, ...], field: str) -> _Check:
    def check(_instance: object, _attribute: attrs.Attribute[Any], value: Any) -> None:
        if not isinstance(value, str) or value not in options:
            raise ValidationError(field, value, f"must be one of {', '.join(map(repr, options))}")

    return check


def _bool(field: str) -> _Check:
    def check(_instance: object, _attribute: attrs.Attribute[Any], value: Any) -> None:
        if not isinstance(value, bool):
            raise ValidationError(field, value, "must be True or False")

    return check


@attrs.frozen(kw_only=True)
class ReadOptions:
    """How to read a user's data into a frame (see the module docs for each option)."""

    columns: tuple[tuple[str, str], ...] = attrs.field(default=(), converter=_mapping)
    tz: tzinfo | None = attrs.field(default=None, converter=_zone)
    dayfirst: bool = attrs.field(default=False, validator=_bool("dayfirst"))
    extra: ExtraColumns = attrs.field(default="error", validator=_choice(_EXTRA, "extra"))
    guests: GuestRows = attrs.field(default="exclude", validator=_choice(_GUESTS, "guests"))
    float_ids: bool = attrs.field(default=True, validator=_bool("float_ids"))
    cancellations: re.Pattern[str] | None = attrs.field(default=None, converter=_pattern)

    def source_of(self, name: str) -> str:
        """Your name for our column ``name`` (``name`` itself when not mapped)."""
        for ours, theirs in self.columns:
            if ours == name:
                return theirs
        return name

    def targets(self, names: list[str], known: frozenset[str]) -> list[str | None]:
        """For each of your column names, the column of ours it fills (``None``: an extra column).

        Mapped names become ours; an unmapped name that is one of ours stays it,
        unless a mapped column of yours already fills it. A mapping that names a
        column the frame does not have, or a column of yours that is not there, is
        an error that lists what there is.
        """
        names = list(instances_of(names, str, "names"))
        known = instance_of(known, frozenset, "known", "a frozenset of column names")
        for ours, theirs in self.columns:
            if ours not in known and not ours.startswith("attr."):
                raise ValidationError(
                    f"columns[{ours!r}]", theirs,
                    f"{ours!r} is not a column of this frame; ours are {', '.join(sorted(known))}",
                )  # fmt: skip
            if theirs not in names:
                raise ValidationError(
                    f"columns[{ours!r}]", theirs,
                    f"your data has no column {theirs!r}; it has {', '.join(map(repr, names))}",
                )  # fmt: skip
        back = {theirs: ours for ours, theirs in self.columns}
        filled = set(back.values())
        out: list[str | None] = []
        for name in names:
            if name in back:
                out.append(back[name])
            elif name in known and name not in filled:
                out.append(name)
            else:
                out.append(None)
        return out


def read_options(
    *,
    columns: Mapping[str, str] | None = None,
    tz: str | tzinfo | None = None,
    dayfirst: bool = False,
    extra: ExtraColumns = "error",
    guests: GuestRows = "exclude",
    float_ids: bool = True,
    cancellations: str | re.Pattern[str] | None = None,
) -> ReadOptions:
    """[`ReadOptions`][crmcore.columnar.reading.ReadOptions] from the loaders' keyword arguments."""
    return ReadOptions(
        columns=columns,
        tz=tz,
        dayfirst=dayfirst,
        extra=extra,
        guests=guests,
        float_ids=float_ids,
        cancellations=cancellations,
    )
