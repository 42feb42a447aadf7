"""The machinery of the bad-input sweep (``tests/test_bad_input_sweep.py``).

* [`public_targets()`][tests.sweep_kit.public_targets] lists every public callable: the functions
  and classes in ``crmcore.__all__`` and in each package's ``__all__``, and the public methods of
  those classes (class methods and static methods need no instance).
* [`Pool`][tests.sweep_kit.Pool] finds a *valid* value for each parameter, so that a call with one
  hostile argument reaches the body of the callable rather than stopping at its first check: a
  table of valid arguments where a parameter needs a particular value (``BASE``), else a value of
  the parameter's annotated type (an instance of a crmcore class comes from the objects built by
  ``world()`` and from whatever other public callables returned), else a value named by the
  parameter (``*_id``, ``currency``, ``at``, ...).
* ``HOSTILE`` is the list of bad values tried on every parameter, one parameter at a time.

Nothing here decides whether a result is right; the sweep only checks what escapes.
"""

from __future__ import annotations

import enum
import importlib
import inspect
import math
import os
import pkgutil
import signal
import sys
import types
import typing
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import UTC, date, datetime, time, timedelta, timezone, tzinfo
from decimal import Decimal
from typing import Any, Final

import attrs
import numpy as np

import crmcore
from crmcore.kernel.errors import CrmError
from crmcore.kernel.events import DomainEvent, Outcome
from crmcore.kernel.money import Money
from crmcore.ports import Store
from crmcore.storage.memory import MemoryStore
from crmcore.storage.sqlite import SqliteStore

STORE_TYPES: Final = (MemoryStore, SqliteStore)
T0: Final = datetime(2024, 3, 1, 9, 0, tzinfo=UTC)
AS_OF: Final = datetime(2024, 12, 31, 12, 0, tzinfo=UTC)

# Packages whose ``__all__`` is not swept, and why.
SKIPPED_PACKAGES: Final = {
    "__main__": "the command line entry point (argparse exits)",
    "_moved": "old module paths that only warn and forward",
    "cli": "the command line: its contract is exit codes, not exceptions",
    "cli_files": "the command line's file helpers",
    "demo": "prints a walkthrough",
    "testing": "test support (hypothesis strategies, the contract kit)",
    "progress": "a progress-bar helper for notebooks",
}
# Single names not swept, and why.
SKIPPED_NAMES: Final = {
    "crmcore.engines.spark": "starts a JVM",
    "crmcore.kernel.clock.SystemClock.now": "reads the wall clock (no arguments anyway)",
    "crmcore.storage.postgres.store.PostgresStore.segment_members": (
        "needs a server: swept against PostgreSQL by tests/storage/test_postgres_bad_input.py"
    ),
}


class Missing(enum.Enum):
    """No valid value could be found for a parameter."""

    MISSING = "missing"


MISSING: Final = Missing.MISSING


@attrs.frozen
class Target:
    """One public callable: a function, a class (its constructor) or a method of a class."""

    name: str
    obj: Any
    owner: type | None = None  # for an instance method: the class of the instance it needs

    def __str__(self) -> str:
        return self.name


def _is_swept_class(cls: type) -> bool:
    if issubclass(cls, BaseException | enum.Enum):
        return False  # errors are raised, not called; an enum's call is Python's lookup
    if getattr(cls, "_is_protocol", False):
        return False
    return not (isinstance(cls, type) and cls.__module__ == "typing")


IMPORT_ERRORS: dict[str, str] = {}
"""Packages that failed to import while listing the targets (the sweep reports them)."""


def _packages() -> Iterator[types.ModuleType]:
    """crmcore, its packages, and modules a package exports by name (``crmcore.engines.duckdb``)."""
    yield crmcore
    for info in sorted(pkgutil.iter_modules(crmcore.__path__), key=lambda i: i.name):
        if info.name in SKIPPED_PACKAGES:
            continue
        name = f"crmcore.{info.name}"
        try:
            package = importlib.import_module(name)
        except Exception as error:
            IMPORT_ERRORS[name] = repr(error)
            continue
        yield package
        for export in getattr(package, "__all__", ()):
            value = getattr(package, export)
            if inspect.ismodule(value) and value.__name__ not in SKIPPED_NAMES:
                yield value


def _public_methods(cls: type) -> Iterator[tuple[str, Any, bool]]:
    """(name, member, needs an instance) for each public method defined in crmcore."""
    for name in sorted(dir(cls)):
        if name.startswith("_"):
            continue
        static = inspect.getattr_static(cls, name)
        if isinstance(static, staticmethod | classmethod):
            func = static.__func__
            needs_instance = False
        elif inspect.isfunction(static):
            func = static
            needs_instance = True
        else:
            continue  # properties, attributes, nested classes
        if not getattr(func, "__module__", "").startswith("crmcore"):
            continue  # inherited from the standard library or attrs
        yield name, getattr(cls, name), needs_instance


def public_targets() -> list[Target]:
    """Every public callable of crmcore, each once, in a stable order."""
    found: dict[str, Target] = {}
    classes: dict[str, type] = {}
    for package in _packages():
        for export in getattr(package, "__all__", ()):
            value = getattr(package, export)
            if inspect.ismodule(value) or not callable(value):
                continue
            qualified = f"{value.__module__}.{value.__qualname__}"
            if any(qualified.startswith(skip) for skip in SKIPPED_NAMES):
                continue
            if inspect.isclass(value):
                if not _is_swept_class(value):
                    continue
                classes[qualified] = value
                if issubclass(value, DomainEvent):
                    found[qualified] = Target(qualified, value)
                    continue  # events are plain records; their methods are the kernel's
            found.setdefault(qualified, Target(qualified, value))
    for qualified, cls in classes.items():
        if issubclass(cls, DomainEvent):
            continue
        for name, member, needs_instance in _public_methods(cls):
            method_name = f"{qualified}.{name}"
            if method_name in SKIPPED_NAMES:
                continue
            found[method_name] = Target(method_name, member, cls if needs_instance else None)
    return [found[name] for name in sorted(found)]


# --------------------------------------------------------------------------- signatures


def signature(target: Target) -> inspect.Signature | None:
    """The call signature (``self`` removed), or None when Python cannot tell."""
    try:
        return inspect.signature(target.obj)
    except (TypeError, ValueError):
        return None


_EXPORTS: dict[str, Any] = {}


def _exports() -> dict[str, Any]:
    """Every name crmcore exports, plus the typing and numpy names annotations use: the
    namespace for annotations written under ``TYPE_CHECKING`` imports."""
    if not _EXPORTS:
        import numpy.typing as npt

        for package in _packages():
            for name in getattr(package, "__all__", ()):
                _EXPORTS.setdefault(name, getattr(package, name))
        _EXPORTS.update(vars(typing))
        _EXPORTS.update({"np": np, "npt": npt, "datetime": datetime, "date": date})
    return _EXPORTS


def _namespace(obj: Any) -> dict[str, Any]:
    module = importlib.import_module(getattr(obj, "__module__", "crmcore"))
    return {**_exports(), **vars(module)}


def hints(target: Target) -> dict[str, Any]:
    """Resolved annotations of the callable's parameters (what cannot be resolved is left out)."""
    obj = target.obj
    func = obj.__init__ if inspect.isclass(obj) else obj
    func = getattr(func, "__func__", func)
    namespace = _namespace(func)
    try:
        return typing.get_type_hints(func, globalns=namespace)
    except Exception:
        pass
    resolved: dict[str, Any] = {}
    for name, annotation in getattr(func, "__annotations__", {}).items():
        if not isinstance(annotation, str):
            resolved[name] = annotation
            continue
        try:
            resolved[name] = eval(annotation, namespace)
        except Exception:
            continue
    return resolved


def attrs_field_types(cls: type) -> dict[str, Any]:
    """For an attrs class: each ``__init__`` argument's attribute type (converters take
    ``object``; the attribute says what the value becomes)."""
    if not attrs.has(cls):
        return {}
    try:
        types_ = typing.get_type_hints(cls, globalns=_namespace(cls))
    except Exception:
        types_ = {}
    return {f.alias: types_.get(f.name, f.type) for f in attrs.fields(cls) if f.init}


# --------------------------------------------------------------------------- hostile values


class _Opaque:
    """An object of no type the library knows."""

    def __repr__(self) -> str:
        return "<opaque>"


_NAIVE = datetime(2024, 3, 1, 9, 0)
_TOKYO = timezone(timedelta(hours=9))
_NEW_YORK = timezone(-timedelta(hours=5))

HOSTILE: Final[list[tuple[str, Callable[[], object]]]] = [
    # wrong types
    ("None", lambda: None),
    ("True", lambda: True),
    ("1.5 (a float for an int)", lambda: 1.5),
    ("bytes", lambda: b"abc"),
    ("empty list", list),
    ("list of None", lambda: [None]),
    ("empty dict", dict),
    ("dict", lambda: {"a": _Opaque()}),
    ("object", _Opaque),
    ("a function", lambda: lambda *args, **kwargs: None),
    # numbers at and beyond their ends
    ("-1", lambda: -1),
    ("2**63", lambda: 2**63),
    ("nan", lambda: math.nan),
    ("inf", lambda: math.inf),
    ("Decimal NaN", lambda: Decimal("NaN")),
    ("Decimal inf", lambda: Decimal("Infinity")),
    # strings
    ("empty str", lambda: ""),
    ("huge str", lambda: "x" * 100_001),
    ("NUL str", lambda: "a\x00b"),
    ("control str", lambda: "a\x1b[31mb\r\n"),
    ("lone surrogate", lambda: "a\ud800b"),
    # times
    ("naive datetime", lambda: _NAIVE),
    ("far-future datetime", lambda: datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)),
    ("year-10000 local datetime", lambda: datetime(9999, 12, 31, 23, tzinfo=_NEW_YORK)),
    ("date 9999-12-31", lambda: date(9999, 12, 31)),
    ("timedelta -1 day", lambda: timedelta(days=-1)),
    ("timedelta max", lambda: timedelta.max),
    # money
    ("negative Money", lambda: Money("-5.00", "EUR")),
    ("huge Money", lambda: Money("999999999999999.99", "EUR")),
    ("sub-cent Money", lambda: Money("0.001", "EUR")),
    ("USD Money (mixed currencies)", lambda: Money("5.00", "USD")),
    # arrays
    ("NaN array", lambda: np.array([np.nan, 1.0])),
    ("empty array", lambda: np.array([], dtype=np.float64)),
    ("str array", lambda: np.array(["a", "b"])),
    ("2-D array", lambda: np.zeros((2, 2))),
]
"""The bad values: ``(label, factory)`` (a factory, so mutable values are fresh each call)."""

SHORT: Final = frozenset(
    {
        "None",
        "1.5 (a float for an int)",
        "object",
        "-1",
        "nan",
        "empty str",
        "NUL str",
        "naive datetime",
        "far-future datetime",
        "USD Money (mixed currencies)",
        "str array",
    }
)
"""The values tried on callables that cost a database query or a figure per call."""
SLOW_PREFIXES: Final = (
    "crmcore.engines.",
    "crmcore.plotting.",
    "crmcore.datasets.",
    "crmcore.analytics.bgnbd.fit_bgnbd",
    "crmcore.analytics.gamma_gamma.fit_gamma_gamma",
)


def hostile_for(target: Target) -> list[tuple[str, Callable[[], object]]]:
    """The hostile values tried on ``target``'s parameters."""
    if target.name.startswith(SLOW_PREFIXES):
        return [(label, make) for label, make in HOSTILE if label in SHORT]
    return HOSTILE


def location(error: BaseException) -> str:
    """``file:line function`` of the innermost crmcore frame the error passed through."""
    tb = error.__traceback__
    where = "?"
    while tb is not None:
        code = tb.tb_frame.f_code
        if "/crmcore/" in code.co_filename:
            path = code.co_filename.split("/src/", 1)[-1]
            where = f"{path}:{tb.tb_lineno} {code.co_name}"
        tb = tb.tb_next
    return where


def unwrap(result: object) -> Iterator[object]:
    """The objects a call returned, for the pool: an Outcome's value, a tuple's items."""
    if isinstance(result, Outcome):
        yield result.value
        return
    if isinstance(result, tuple | list) and len(result) <= 20:
        for item in result:
            yield from unwrap(item)
        return
    yield result


def is_value(obj: object) -> bool:
    """Whether ``obj`` belongs in the pool (a crmcore object or a plain value)."""
    return type(obj).__module__.startswith("crmcore")


# --------------------------------------------------------------------------- valid values


def _origin(tp: Any) -> Any:
    return typing.get_origin(tp)


def _args(tp: Any) -> tuple[Any, ...]:
    return typing.get_args(tp)


Pick = Callable[["Pool", str], object]


@attrs.frozen
class Lazy:
    """A valid value made from the pool when a call is prepared (``Lazy(lambda pool: ...)``)."""

    make: Callable[[Pool], object]


class Pool:
    """Valid values: the objects of ``world()`` plus what public callables returned."""

    def __init__(
        self,
        base: Mapping[str, Mapping[str, object]],
        names: Mapping[str, Pick],
        fresh: Mapping[type, Callable[[], object]],
    ) -> None:
        self.objects: dict[type, list[object]] = {}
        self._base = base
        self._names = names
        self._fresh = fresh  # types whose instances change: a new one for every use
        self.stores: list[object] = []  # the stores handed out (the sweep snapshots them)
        self.store_type: type = object  # the kind of store a ``Store`` parameter gets

    def add(self, obj: object) -> None:
        if obj is None or not is_value(obj) or type(obj) in self._fresh:
            return
        held = self.objects.setdefault(type(obj), [])
        if len(held) < 3 and all(h is not obj for h in held):
            held.append(obj)

    def instance(self, cls: type) -> object:
        """A held instance of ``cls`` (or of a subclass), else MISSING."""
        if cls is Store:
            cls = self.store_type
        if cls in self._fresh:
            made = self._fresh[cls]()
            if isinstance(made, STORE_TYPES):
                self.stores.append(made)
            return made
        if cls in self.objects:
            return self.objects[cls][0]
        for held_type, held in self.objects.items():
            try:
                if issubclass(held_type, cls):
                    return held[0]
            except TypeError:
                continue
        return MISSING

    def of_type(self, tp: Any, name: str) -> object:
        """A valid value of annotation ``tp`` for a parameter called ``name``, else MISSING."""
        if tp is Any or tp is object or tp is inspect.Parameter.empty:
            return self.by_name(name)
        if isinstance(tp, typing.TypeVar):
            return self.by_name(name)
        origin = _origin(tp)
        if origin is typing.Literal:
            return _args(tp)[0]
        if origin in (typing.Union, types.UnionType):
            options = [a for a in _args(tp) if a is not type(None)]
            for option in options:  # an enum member says more than a name-picked string
                if isinstance(option, type) and issubclass(option, enum.Enum):
                    return self.of_type(option, name)
            named = self.by_name(name)
            if named is not MISSING and any(_fits(named, o) for o in options):
                return named
            for option in options:
                value = self.of_type(option, name)
                if value is not MISSING:
                    return value
            return MISSING
        if origin is typing.Annotated:
            return self.of_type(_args(tp)[0], name)
        if origin is not None:
            return self._generic(tp, origin, name)
        if tp is type(None):
            return None
        if isinstance(tp, typing.NewType):
            return self.of_type(tp.__supertype__, name)
        if not isinstance(tp, type):
            return self.by_name(name)
        if tp is bool:
            return True
        if tp in (int, float, str, Decimal):
            named = self.by_name(name)
            if named is not MISSING and isinstance(named, tp) and not isinstance(named, bool):
                return named
            return {int: 1, float: 0.5, str: "x1", Decimal: Decimal("1.5")}[tp]
        if tp is datetime:
            return T0
        if tp is date:
            return date(2024, 3, 1)
        if tp is timedelta:
            return timedelta(days=7)
        if tp is time:
            return time(9, 0)
        if tp is tzinfo:
            return _TOKYO
        if tp is Money:
            return Money("25.00", "EUR")
        if tp is np.ndarray:
            return self.by_name(name)
        if tp is Store:
            return self.instance(Store)
        if issubclass(tp, enum.Enum):
            return next(iter(tp), MISSING)
        held = self.instance(tp)
        if held is not MISSING:
            return held
        return self.by_name(name)

    def _generic(self, tp: Any, origin: Any, name: str) -> object:
        args = _args(tp)
        if origin is np.ndarray:
            return self.by_name(name)
        if origin is type:
            return args[0] if args and isinstance(args[0], type) else MISSING
        if origin in (tuple,):
            if len(args) == 2 and args[1] is Ellipsis:
                item = self.of_type(args[0], _singular(name))
                return MISSING if item is MISSING else (item,)
            items = tuple(self.of_type(a, name) for a in args)
            return MISSING if MISSING in items else items
        if origin in (list, Sequence, Iterable, typing.Collection, set, frozenset):
            named = self.by_name(name)
            if named is not MISSING:
                return named
            item = self.of_type(args[0], _singular(name)) if args else "x1"
            if item is MISSING:
                return MISSING
            if origin in (set, frozenset):
                try:
                    return origin({item})
                except TypeError:
                    return MISSING
            return [item]
        if origin in (dict, Mapping):
            named = self.by_name(name)
            if named is not MISSING:
                return named
            key = self.of_type(args[0], "key") if args else "k"
            value = self.of_type(args[1], _singular(name)) if args else 1
            return MISSING if MISSING in (key, value) else {key: value}
        if origin is Callable or origin is typing.Callable:
            return self.by_name(name)
        if isinstance(origin, type):
            held = self.instance(origin)
            if held is not MISSING:
                return held
        return self.by_name(name)

    def by_name(self, name: str) -> object:
        pick = self._names.get(name)
        if pick is None:
            for suffix, candidate in self._names.items():
                if suffix.startswith("*") and name.endswith(suffix[1:]):
                    pick = candidate
                    break
        return MISSING if pick is None else pick(self, name)

    def base(self, target: Target, parameter: inspect.Parameter, hint: Any) -> object:
        """The valid value of ``parameter`` in calls of ``target`` (MISSING: use its default).

        In order: the ``BASE`` table; for a class's constructor, the same attribute of an instance
        the pool holds (what a valid object was built from); the default; a value of the type.
        """
        table = self._base.get(target.name, {})
        if parameter.name in table:
            value = table[parameter.name]
            return value.make(self) if isinstance(value, Lazy) else value
        if inspect.isclass(target.obj) and attrs.has(target.obj):
            held = self.objects.get(target.obj)
            fields = {f.alias: f.name for f in attrs.fields(target.obj) if f.init}
            if held and parameter.name in fields:
                return getattr(held[0], fields[parameter.name])
        if parameter.default is not inspect.Parameter.empty:
            return MISSING
        return self.of_type(hint, parameter.name)

    def receiver(self, target: Target) -> object:
        """The instance a method ``target`` is called on: ``BASE[target.name]["self"]`` (a value
        or a [`Lazy`][tests.sweep_kit.Lazy]) when given, else a held instance of its class (the
        first one: a method that needs its object in another state names one there)."""
        given = self._base.get(target.name, {}).get("self", MISSING)
        if given is MISSING:
            assert target.owner is not None
            return self.instance(target.owner)
        return given.make(self) if isinstance(given, Lazy) else given


def _singular(name: str) -> str:
    return name[:-1] if name.endswith("s") and not name.endswith("ss") else name


def _fits(value: object, tp: Any) -> bool:
    try:
        return isinstance(value, tp)
    except TypeError:
        origin = _origin(tp)
        return isinstance(origin, type) and isinstance(value, origin)


# --------------------------------------------------------------------------- calling


class Timeout(BaseException):
    """A call ran past its time limit (a hang on bad input is a defect too)."""


@attrs.define
class Call:
    """A callable with its valid arguments, ready to be called with one argument changed."""

    function: Callable[..., object]
    parameters: list[inspect.Parameter]
    values: dict[str, object]  # the valid value of each parameter given (others: defaults)

    def __call__(self, changed: str | None = None, value: object = None) -> object:
        args: list[object] = []
        kwargs: dict[str, object] = {}
        for parameter in self.parameters:
            name = parameter.name
            if name == changed:
                given = value
            elif name in self.values:
                given = self.values[name]
            else:
                continue
            if parameter.kind is inspect.Parameter.POSITIONAL_ONLY:
                args.append(given)
            else:
                kwargs[name] = given
        return self.function(*args, **kwargs)


def prepare(target: Target, pool: Pool, *, partial: bool = False) -> Call | str:
    """The call of ``target`` with valid arguments, or why none could be built.

    With ``partial``, a parameter with no known valid value gets ``None`` (a *shallow* call:
    the hostile values still meet the first checks, but the body may not be reached).
    """
    function: Callable[..., object] = target.obj
    if target.owner is not None:
        instance = pool.receiver(target)
        if instance is MISSING:
            return f"no instance of {target.owner.__qualname__}"
        function = getattr(instance, target.obj.__name__)
    sig = signature(Target(target.name, function))
    if sig is None:
        return "no signature"
    annotations = hints(target)
    if inspect.isclass(target.obj):
        for name, tp in attrs_field_types(target.obj).items():
            if annotations.get(name, object) is object:
                annotations[name] = tp
    parameters = [
        p for p in sig.parameters.values() if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
    ]
    values: dict[str, object] = {}
    for parameter in parameters:
        hint = annotations.get(parameter.name, inspect.Parameter.empty)
        value = pool.base(target, parameter, hint)
        if value is MISSING:
            if parameter.default is inspect.Parameter.empty:
                if not partial:
                    return f"no valid value for {parameter.name}: {hint}"
                value = None
            else:
                continue
        values[parameter.name] = value
    return Call(function, parameters, values)


def parameter_count(target: Target) -> int:
    """How many parameters the sweep varies (``self`` and ``*args``/``**kwargs`` excluded)."""
    function = target.obj
    try:
        sig = inspect.signature(function)
    except (TypeError, ValueError):
        return 0
    parameters = [
        p for p in sig.parameters.values() if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
    ]
    if target.owner is not None and parameters:
        parameters = parameters[1:]  # self
    return len(parameters)


def takes_store(target: Target) -> bool:
    """Whether calls of ``target`` read or write a store (the sweep then checks its contents)."""
    if target.owner is not None and issubclass(target.owner, STORE_TYPES):
        return True
    return any(h is Store for h in hints(target).values())


@attrs.frozen
class Escape:
    """A non-``CrmError`` exception that left a public callable."""

    target: str
    parameter: str
    hostile: str
    error: str
    where: str

    def __str__(self) -> str:
        return f"{self.target}({self.parameter}={self.hostile}): {self.error} at {self.where}"


@attrs.define
class SweepResult:
    """What sweeping one callable found."""

    calls: int = 0
    escapes: list[Escape] = attrs.Factory(list)
    half_written: list[str] = attrs.Factory(list)


def limited(call: Callable[[], object], seconds: float) -> object:
    """``call()``, interrupted by [`Timeout`][tests.sweep_kit.Timeout] after ``seconds``."""
    previous = signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        return call()
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        close_figures()


def close_figures() -> None:
    """Close matplotlib's figures (a plotting call opens one; hundreds would warn)."""
    pyplot = sys.modules.get("matplotlib.pyplot")
    if pyplot is not None:
        pyplot.close("all")


def _alarm(_signum: int, _frame: object) -> None:
    raise Timeout


def sweep(
    target: Target,
    call: Call,
    *,
    snapshot: Callable[[], object] | None = None,
    seconds: float = 5.0,
) -> SweepResult:
    """Call ``call`` with each hostile value in each parameter, one at a time.

    Records every exception that is not a ``CrmError`` and, with ``snapshot`` (the store's
    committed contents), every refused call that changed the store.
    """
    result = SweepResult()
    # An integer where a path is expected opens that file descriptor: keep copies of the
    # standard streams to put back if a call closes one (and report it as an escape).
    saved = [os.dup(fd) for fd in (0, 1, 2)]
    try:
        for parameter in call.parameters:
            for label, make in hostile_for(target):
                for fd, copy in enumerate(saved):
                    os.dup2(copy, fd)
                before = None if snapshot is None else snapshot()
                result.calls += 1
                try:
                    limited(lambda: call(parameter.name, make()), seconds)  # noqa: B023
                except CrmError:
                    if snapshot is not None and snapshot() != before:
                        result.half_written.append(f"{parameter.name}={label}")
                except Timeout:
                    result.escapes.append(
                        Escape(target.name, parameter.name, label, f"took over {seconds}s", "")
                    )
                except BaseException as error:
                    if isinstance(error, KeyboardInterrupt):
                        raise
                    result.escapes.append(
                        Escape(
                            target.name,
                            parameter.name,
                            label,
                            f"{type(error).__name__}: {str(error)[:200]}",
                            location(error),
                        )
                    )
    finally:
        for fd, copy in enumerate(saved):
            os.dup2(copy, fd)
            os.close(copy)
    return result


def build_pool(
    base: Mapping[str, Mapping[str, object]],
    names: Mapping[str, Pick],
    fresh: Mapping[type, Callable[[], object]],
    world: Iterable[object],
    *,
    seconds: float,
) -> Pool:
    """The pool: the world, then what every callable returns on valid arguments, three rounds
    over (an object made in one round is an argument in the next)."""
    pool = Pool(base, names, fresh)
    pool.store_type = MemoryStore
    for obj in world:
        pool.add(obj)
    done: set[str] = set()
    for _ in range(3):
        for target in public_targets():
            if target.name in done:
                continue
            call = prepare(target, pool)
            if isinstance(call, str):
                continue
            try:
                result = limited(call, seconds)
            except Exception:
                continue
            done.add(target.name)
            for made in unwrap(result):
                pool.add(made)
    return pool


@attrs.define
class Survey:
    """A whole sweep: per target, its escapes and, when no valid call could be built, why."""

    escapes: dict[str, list[Escape]] = attrs.Factory(dict)
    half_written: dict[str, list[str]] = attrs.Factory(dict)
    unreached: dict[str, str] = attrs.Factory(dict)
    calls: int = 0


def survey(
    pool: Pool,
    targets: Iterable[Target],
    snapshots: Callable[[Pool], object],
    *,
    seconds: float,
) -> Survey:
    """Sweep every target as the test does (for ``python -m tests.sweep_escapes``)."""
    found = Survey()
    for target in targets:
        kinds: list[type] = [SqliteStore, MemoryStore] if takes_store(target) else [MemoryStore]
        for store_type in kinds:
            pool.store_type = store_type
            pool.stores.clear()
            call = prepare(target, pool)
            failure = call if isinstance(call, str) else None
            if failure is None:
                try:
                    limited(call, seconds)  # type: ignore[arg-type]
                except BaseException as error:
                    failure = f"{type(error).__name__}: {str(error)[:160]}"
            if failure is not None:
                found.unreached[target.name] = " ".join(failure.split())
            pool.stores.clear()
            call = prepare(target, pool, partial=failure is not None)
            if isinstance(call, str):
                break
            result = sweep(
                target,
                call,
                snapshot=(lambda: snapshots(pool)) if pool.stores else None,
                seconds=seconds,
            )
            for store in pool.stores:
                if isinstance(store, SqliteStore):
                    store.close()
            found.calls += result.calls
            found.escapes.setdefault(target.name, []).extend(result.escapes)
            found.half_written.setdefault(target.name, []).extend(
                f"{h} ({store_type.__name__})" for h in result.half_written
            )
    return found
