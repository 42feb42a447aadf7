"""The care calendar at batch speed: who is due a greeting in the next N days, over a whole frame.

[`care_due()`][crmcore.marketing.care_batch.care_due] applies the rules of
[`crmcore.marketing.care`][crmcore.marketing.care] to every customer of a
[`CustomerFrame`][crmcore.columnar.CustomerFrame] at once and returns a
[`CareSchedule`][crmcore.marketing.care_batch.CareSchedule]: one row per greeting due, sorted by due
time. No loop runs per customer: the loops are over the few years a window spans and the holidays in
it. Local wall times come from a
[`ZoneTable`][crmcore.marketing.local_time_batch.ZoneTable] (a handful of `zoneinfo` calls per zone
and day of the window), and the local date of each sign-up instant from the UTC offset of each
distinct (zone, UTC day) pair, looked up exactly for the rare days on which a zone changes its
offset.

Examples:
    >>> from datetime import UTC, datetime
    >>> from crmcore.columnar import CustomerFrame
    >>> from crmcore.datasets import synthetic
    >>> data = synthetic.generate(500, seed=2)
    >>> frame = CustomerFrame.from_customers(data.customers)
    >>> schedule = care_due(frame, CarePlan(lead_days=3), data.end, days=30)
    >>> schedule.counts()["birthday"] == len(schedule) > 0
    True
"""

from __future__ import annotations

import html
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Final

import numpy as np

from crmcore.columnar import STRING_DTYPE, CustomerFrame, EventLog, TransactionLog
from crmcore.columnar.arguments import codes_in, int_column, same_length, text_column, time_column
from crmcore.kernel.arrays import AnyArray, BoolArray, Int64Array, read_only
from crmcore.kernel.clock import DAY_US, from_micros, to_micros, to_utc
from crmcore.kernel.errors import MissingDependencyError, ValidationError
from crmcore.kernel.reports import html_table
from crmcore.kernel.validators import instances_of, integer
from crmcore.marketing.care import CarePlan, CareTrigger, Occasion, check_window
from crmcore.marketing.local_time import TIME_ZONE_ATTRIBUTE, check_zone, zone
from crmcore.marketing.local_time_batch import NONE, ZoneTable, day_number
from crmcore.marketing.targeting import target_mask

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["CareSchedule", "care_due"]

_OCCASIONS: Final = tuple(Occasion)
_HTML_ROWS: Final = 12


class CareSchedule:
    """Greetings due, as columns sorted by due time then customer id.

    ``occasions`` are codes into `Occasion` (declaration order), ``occasion_days`` local dates
    (``datetime64[D]``), ``due_at`` UTC instants (``datetime64[us]``), ``years`` the age or
    anniversary reached (-1 for holidays), ``holidays`` codes into ``holiday_codes`` (-1 when not a
    holiday).

    Raises:
        ValidationError: (constructing one) a column that is not an array of the expected kind
            and shape, columns of different lengths, or codes out of range, naming the column.
    """

    __slots__ = (
        "customer_ids",
        "due_at",
        "holiday_codes",
        "holidays",
        "occasion_days",
        "occasions",
        "start",
        "years",
    )

    def __init__(
        self,
        start: datetime,
        holiday_codes: tuple[str, ...],
        customer_ids: AnyArray,
        occasions: Int64Array,
        occasion_days: AnyArray,
        due_at: AnyArray,
        years: Int64Array,
        holidays: Int64Array,
    ) -> None:
        self.start: Final = to_utc(start, "start")
        self.holiday_codes: Final = instances_of(holiday_codes, str, "holiday_codes")
        customer_ids = text_column(customer_ids, "customer_ids")
        occasions = codes_in(
            int_column(occasions, "occasions"), "occasions", 0, len(_OCCASIONS) - 1
        )
        occasion_days = time_column(occasion_days, "occasion_days", "D")
        due_at = time_column(due_at, "due_at", "us")
        years = int_column(years, "years")
        holidays = codes_in(
            int_column(holidays, "holidays"), "holidays", -1, len(self.holiday_codes) - 1
        )
        same_length(
            "customer_ids",
            len(customer_ids),
            occasions=occasions,
            occasion_days=occasion_days,
            due_at=due_at,
            years=years,
            holidays=holidays,
        )
        order = np.lexsort((occasions, customer_ids, due_at))
        self.customer_ids: Final = read_only(customer_ids[order])
        self.occasions: Final = read_only(occasions[order])
        self.occasion_days: Final = read_only(occasion_days[order])
        self.due_at: Final = read_only(due_at[order])
        self.years: Final = read_only(years[order])
        self.holidays: Final = read_only(holidays[order])

    def __len__(self) -> int:
        return len(self.customer_ids)

    def __repr__(self) -> str:
        return f"CareSchedule({len(self)} greetings from {self.start.isoformat()})"

    def counts(self) -> dict[str, int]:
        """Greetings per occasion."""
        numbers = np.bincount(self.occasions, minlength=len(_OCCASIONS))
        return {o.value: int(n) for o, n in zip(_OCCASIONS, numbers, strict=True)}

    def trigger(self, i: int) -> CareTrigger:
        """Row ``i`` as a [`CareTrigger`][crmcore.marketing.care.CareTrigger] (negative counts
        from the end).

        Raises:
            ValidationError: ``i`` is not an integer in ``-len(self)..len(self) - 1``.
        """
        return self._trigger(integer(i, "i", low=-len(self), high=len(self) - 1))

    def _trigger(self, i: int) -> CareTrigger:
        holiday = int(self.holidays[i])
        years = int(self.years[i])
        return CareTrigger(
            customer_id=str(self.customer_ids[i]),
            occasion=_OCCASIONS[int(self.occasions[i])],
            occasion_date=self.occasion_days[i].astype(date),
            due_at=from_micros(int(self.due_at[i].astype(np.int64))),
            years=None if years < 0 else years,
            holiday=None if holiday < 0 else self.holiday_codes[holiday],
        )

    def triggers(self) -> list[CareTrigger]:
        """Every row as a [`CareTrigger`][crmcore.marketing.care.CareTrigger], in order."""
        return [self._trigger(i) for i in range(len(self))]

    def to_dict(self) -> dict[str, object]:
        """Counts and every greeting as JSON data."""
        return {
            "start": self.start.isoformat(),
            "counts": self.counts(),
            "greetings": [
                {
                    "customer_id": t.customer_id,
                    "occasion": t.occasion.value,
                    "occasion_date": t.occasion_date.isoformat(),
                    "due_at": t.due_at.isoformat(),
                    "years": t.years,
                    "holiday": t.holiday,
                }
                for t in self.triggers()
            ],
        }

    def to_pandas(self) -> pd.DataFrame:
        """One row per greeting (needs pandas)."""
        try:
            import pandas as pd
        except ImportError:
            raise MissingDependencyError("pandas", "pandas", "CareSchedule.to_pandas") from None
        names = np.array([o.value for o in _OCCASIONS], dtype=object)
        codes = np.array([*self.holiday_codes, None], dtype=object)
        return pd.DataFrame(
            {
                "customer_id": self.customer_ids.astype(object),
                "occasion": names[self.occasions],
                "occasion_date": self.occasion_days,
                "due_at": pd.DatetimeIndex(self.due_at).tz_localize("UTC"),
                "years": pd.array(
                    [None if y < 0 else int(y) for y in self.years.tolist()], dtype="Int64"
                ),
                "holiday": codes[self.holidays],
            }
        )

    def _repr_html_(self) -> str:
        rows = [
            (
                t.due_at.strftime("%Y-%m-%d %H:%M"),
                t.customer_id,
                t.occasion.value,
                t.holiday or ("" if t.years is None else f"{t.years} years"),
            )
            for t in (self._trigger(i) for i in range(min(len(self), _HTML_ROWS)))
        ]
        counts = ", ".join(f"{k} {v:,}" for k, v in self.counts().items())
        return html_table(
            f"Care greetings due from {html.escape(self.start.strftime('%Y-%m-%d'))}",
            ["due (UTC)", "customer", "occasion", "what"],
            rows,
            caption=f"{counts} (first {len(rows)} shown)",
        )


def _zones(frame: CustomerFrame, default: str) -> tuple[tuple[str, ...], Int64Array]:
    """The distinct zones of the frame's customers and each customer's zone code."""
    name = f"attr.{TIME_ZONE_ATTRIBUTE}"
    if name not in frame:
        return (default,), np.zeros(len(frame), dtype=np.int64)
    column = frame[name]
    if column.kind != "string":
        raise ValidationError(name, column.kind, "must be a string column of IANA zone names")
    values = np.where(column.missing | (column.values == ""), default, column.values)
    names, codes = np.unique(np.asarray(values, dtype=STRING_DTYPE), return_inverse=True)
    zones = tuple(str(n) for n in names)
    for i, zone_name in enumerate(zones):
        try:
            check_zone(zone_name, name)
        except ValidationError:
            row = int(np.argmax(codes == i))
            raise ValidationError(
                f"row {row}: {name}", zone_name, "is not an IANA time zone name"
            ) from None
    return zones, codes.astype(np.int64)


def _offset_us(zone_name: str, t_us: int) -> int:
    offset = from_micros(t_us).astimezone(zone(zone_name)).utcoffset()
    assert offset is not None
    return offset // timedelta(microseconds=1)


def _local_days(t_us: Int64Array, codes: Int64Array, zones: tuple[str, ...]) -> Int64Array:
    """Local day numbers of UTC instants, each in its zone: offsets per distinct (zone, UTC day),
    exact per row only on days when the zone changes its offset."""
    utc_day = np.floor_divide(t_us, DAY_US)
    pair = codes * np.int64(1 << 32) + (utc_day + (1 << 31))
    keys, inverse = np.unique(pair, return_inverse=True)
    start_offsets = np.empty(len(keys), dtype=np.int64)
    end_offsets = np.empty(len(keys), dtype=np.int64)
    for k, key in enumerate(keys.tolist()):
        zone_name = zones[key >> 32]
        day = (key & ((1 << 32) - 1)) - (1 << 31)
        start_offsets[k] = _offset_us(zone_name, day * DAY_US)
        end_offsets[k] = _offset_us(zone_name, (day + 1) * DAY_US - 1)
    offsets = start_offsets[inverse]
    changing = np.flatnonzero(start_offsets[inverse] != end_offsets[inverse])
    for row in changing.tolist():  # a zone's transition day: a few rows a year at most
        offsets[row] = _offset_us(zones[int(codes[row])], int(t_us[row]))
    days: Int64Array = np.floor_divide(t_us + offsets, DAY_US)
    return days


def _yearly(
    day_numbers: Int64Array, present: BoolArray, years: range, leap_to_march: bool
) -> tuple[list[Int64Array], list[Int64Array], list[Int64Array]]:
    """For each year, the rows whose yearly occasion falls in it, its day number and years."""
    when = day_numbers.astype("datetime64[D]")
    born_year = when.astype("datetime64[Y]").astype(np.int64) + 1970
    month0 = when.astype("datetime64[M]").astype(np.int64) % 12
    dom = (when - when.astype("datetime64[M]")).astype(np.int64) + 1
    leapling = present & (month0 == 1) & (dom == 29)
    rows_out, days_out, years_out = [], [], []
    for year in years:
        rows = np.flatnonzero(present & (born_year < year))
        m0, d = month0[rows], dom[rows]
        if not _is_leap(year):
            moved = leapling[rows]
            m0 = np.where(moved & leap_to_march, 2, m0)
            d = np.where(moved, np.where(leap_to_march, 1, 28), d)
        months = np.int64((year - 1970) * 12) + m0
        numbers = months.astype("datetime64[M]").astype("datetime64[D]").astype(np.int64) + d - 1
        rows_out.append(rows)
        days_out.append(numbers)
        years_out.append(year - born_year[rows])
    return rows_out, days_out, years_out


def _is_leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def care_due(
    frame: CustomerFrame,
    plan: CarePlan,
    start: datetime,
    days: int,
    *,
    transactions: TransactionLog | None = None,
    events: EventLog | None = None,
) -> CareSchedule:
    """Every greeting due in ``[start, start + days)`` for the customers of ``frame``.

    The same rules as [`care_triggers()`][crmcore.marketing.care.care_triggers];
    ``transactions`` / ``events`` are needed only by a plan segment that aggregates over them.
    Raises [`ValidationError`][crmcore.kernel.errors.ValidationError] for a bad window or a row
    whose ``attr.time_zone`` is not a zone name.
    """
    if not isinstance(frame, CustomerFrame):
        raise ValidationError("frame", frame, "must be a CustomerFrame")
    if not isinstance(plan, CarePlan):
        raise ValidationError("plan", plan, "must be a CarePlan")
    first, end = check_window(start, days)
    lo, hi = to_micros(first), to_micros(end)
    chosen = target_mask(plan.segment, frame, first, transactions=transactions, events=events)
    chosen = np.asarray(chosen & ~frame["erased"].values)
    zones, zone_codes = _zones(frame, plan.default_time_zone)
    lead = plan.lead_days
    local_first = (first - timedelta(days=1)).date()
    local_last = (end + timedelta(days=1)).date() + timedelta(days=lead)
    table = ZoneTable(zones, local_first - timedelta(days=lead + 1), local_last + timedelta(days=1))
    ids = frame.ids
    parts: list[tuple[AnyArray, int, Int64Array, Int64Array, Int64Array, int]] = []

    def collect(
        rows: Int64Array, occasion: Occasion, numbers: Int64Array, years: Int64Array, holiday: int
    ) -> None:
        due = table.at_wall(plan.send_at, zone_codes[rows], numbers - lead)
        keep = (due != NONE) & (due >= lo) & (due < hi)
        parts.append(
            (rows[keep], _OCCASIONS.index(occasion), numbers[keep], due[keep], years[keep], holiday)
        )

    span = range(local_first.year, local_last.year + 1)
    yearly: list[tuple[Occasion, Int64Array, BoolArray]] = []
    if plan.birthday:
        born = frame["birth_date"].values
        present = chosen & ~np.isnat(born)
        yearly.append((Occasion.BIRTHDAY, np.where(present, born.astype(np.int64), 0), present))
    if plan.anniversary:
        created = frame["created_at"].values
        present = chosen & ~np.isnat(created)
        instants = np.where(present, created.astype(np.int64), 0)
        yearly.append((Occasion.ANNIVERSARY, _local_days(instants, zone_codes, zones), present))
    for occasion, numbers, present in yearly:
        march = plan.leap_day.value == "mar_1"
        for rows, numbers_in_year, years in zip(
            *_yearly(numbers, present, span, march), strict=True
        ):
            collect(rows, occasion, numbers_in_year, years, -1)
    holidays = plan.holidays.between(local_first, local_last + timedelta(days=1))
    codes = tuple(dict.fromkeys(h.code for _, h in holidays))
    everyone = np.flatnonzero(chosen)
    for holiday_day, holiday in holidays:
        numbers = np.full(len(everyone), day_number(holiday_day), dtype=np.int64)
        collect(
            everyone,
            Occasion.HOLIDAY,
            numbers,
            np.full(len(everyone), -1),
            codes.index(holiday.code),
        )
    if parts:
        rows = np.concatenate([p[0] for p in parts])
        occasions = np.concatenate([np.full(len(p[0]), p[1], dtype=np.int64) for p in parts])
        occasion_days = np.concatenate([p[2] for p in parts]).astype("datetime64[D]")
        due_at = np.concatenate([p[3] for p in parts]).astype("datetime64[us]")
        years = np.concatenate([p[4] for p in parts]).astype(np.int64)
        holiday_of = np.concatenate([np.full(len(p[0]), p[5], dtype=np.int64) for p in parts])
    else:
        rows = occasions = years = holiday_of = np.zeros(0, dtype=np.int64)
        occasion_days = np.zeros(0, dtype="datetime64[D]")
        due_at = np.zeros(0, dtype="datetime64[us]")
    return CareSchedule(
        first,
        codes,
        np.asarray(ids[rows], dtype=STRING_DTYPE),
        occasions,
        occasion_days,
        due_at,
        years,
        holiday_of,
    )
