"""Balance policies: the small, validated TOML documents mandate-holders edit and auditors read.

The schema is documented in ``policies/README.md``. Every rejection names the key and the reason.
"""

from __future__ import annotations

import hashlib
import math
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any, Final, Literal

from triage.errors import InputFileError, TriageError
from triage.schema import GENDERS, UN_REGIONS, VIOLATIONS, countries

__all__ = [
    "DIMENSIONS",
    "Bound",
    "Pacing",
    "Policy",
    "PolicyError",
    "load_policy",
]

Dimension = Literal["un_region", "gender", "violations"]
Period = Literal["week", "month", "quarter"]

#: The groupings a share target can be set on, with their vocabularies. A case belongs to
#: exactly one ``un_region`` and one ``gender`` but counts toward every violation it lists.
DIMENSIONS: Final[Mapping[str, Mapping[str, str]]] = MappingProxyType(
    {"un_region": UN_REGIONS, "gender": GENDERS, "violations": VIOLATIONS}
)
_PARTITIONS: Final = ("un_region", "gender")
_PERIODS_PER_YEAR: Final = {"week": 52, "month": 12, "quarter": 4}
_TOP_KEYS: Final = {
    "name",
    "description",
    "capacity",
    "share",
    "limit",
    "must_include",
    "exploration",
    "pacing",
    "solver",
}


class PolicyError(TriageError):
    """A policy document is refused; the message names the key and the reason."""


@dataclass(frozen=True)
class Bound:
    """A share band on one group: ``min`` and/or ``max``, fractions of the selected cases."""

    min: float | None = None
    max: float | None = None

    def min_count(self, k: int) -> int | None:
        """Return the smallest count that satisfies ``count >= min * k`` (``None`` if no min)."""
        if self.min is None:
            return None
        # The tolerance keeps count/K round-trips exact (a relaxation written as a share).
        return max(0, math.ceil(self.min * k - 1e-9))

    def max_count(self, k: int) -> int | None:
        """Return the largest count that satisfies ``count <= max * k`` (``None`` if no max)."""
        if self.max is None:
            return None
        return max(0, math.floor(self.max * k + 1e-9))


@dataclass(frozen=True)
class Pacing:
    """How a year's capacity is spread over periods in rolling selection.

    ``weights`` has one entry per period of the year (52 weeks, 12 months or 4 quarters);
    ``max_wait`` is how many further periods an unselected case stays a candidate.
    """

    period: Period = "week"
    weights: tuple[float, ...] | None = None
    max_wait: int = 0

    @property
    def n_periods(self) -> int:
        """Number of periods in a year for this pacing."""
        return _PERIODS_PER_YEAR[self.period]

    def cumulative(self) -> tuple[float, ...]:
        """Return the cumulative fraction of the year's capacity due by the end of each period."""
        weights = self.weights or (1.0,) * self.n_periods
        total = float(sum(weights))
        out: list[float] = []
        run = 0.0
        for w in weights:
            run += w
            out.append(run / total)
        out[-1] = 1.0
        return tuple(out)


@dataclass(frozen=True)
class Policy:
    """A balance policy: capacity, share bands, country limits and the extras users need.

    Build one with :func:`load_policy` or :meth:`Policy.from_toml`; both validate every key.
    """

    name: str
    capacity: int
    description: str = ""
    shares: Mapping[str, Mapping[str, Bound]] = field(default_factory=dict)
    max_per_country: int | None = None
    per_country: Mapping[str, int] = field(default_factory=dict)
    must_include: tuple[str, ...] = ()
    exploration_share: float = 0.0
    exploration_seed: int = 0
    pacing: Pacing = field(default_factory=Pacing)
    time_limit: float | None = None

    # ------------------------------------------------------------------ reading
    @classmethod
    def from_toml(cls, text: str, *, source: str = "policy") -> Policy:
        """Parse and validate a policy document.

        Parameters
        ----------
        text : str
            The TOML text.
        source : str, default "policy"
            Shown in error messages (usually the file name).

        Raises
        ------
        PolicyError
            On a syntax error, an unknown key or code, a band with min > max, or a bound outside
            [0, 1]; the message names the key and the reason.
        """
        try:
            raw = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise PolicyError(f"{source}: not valid TOML ({exc}).") from exc
        return _parse(raw, source)

    def to_toml(self) -> str:
        """Return the canonical TOML text of this policy (keys in a fixed order)."""
        import tomli_w

        doc: dict[str, Any] = {"name": self.name}
        if self.description:
            doc["description"] = self.description
        doc["capacity"] = self.capacity
        share: dict[str, Any] = {}
        for dim in DIMENSIONS:
            bands = self.shares.get(dim, {})
            if bands:
                share[dim] = {
                    code: {k: v for k, v in (("min", b.min), ("max", b.max)) if v is not None}
                    for code, b in sorted(bands.items())
                }
        if share:
            doc["share"] = share
        limit: dict[str, Any] = {}
        if self.max_per_country is not None:
            limit["max_per_country"] = self.max_per_country
        if self.per_country:
            limit["per_country"] = dict(sorted(self.per_country.items()))
        if limit:
            doc["limit"] = limit
        if self.must_include:
            doc["must_include"] = {"case_ids": sorted(self.must_include)}
        if self.exploration_share:
            doc["exploration"] = {"share": self.exploration_share, "seed": self.exploration_seed}
        pacing: dict[str, Any] = {"period": self.pacing.period, "max_wait": self.pacing.max_wait}
        if self.pacing.weights is not None:
            pacing["weights"] = list(self.pacing.weights)
        doc["pacing"] = pacing
        if self.time_limit is not None:
            doc["solver"] = {"time_limit": self.time_limit}
        return tomli_w.dumps(doc)

    @property
    def sha256(self) -> str:
        """SHA-256 of the canonical TOML (comments and layout of the file do not change it)."""
        return hashlib.sha256(self.to_toml().encode("utf-8")).hexdigest()

    # ------------------------------------------------------------------ editing
    def with_bound(
        self, dimension: str, code: str, *, min: float | None = None, max: float | None = None
    ) -> Policy:
        """Return a copy with the band on ``dimension=code`` replaced (both ``None`` removes it)."""
        shares = {d: dict(b) for d, b in self.shares.items()}
        bands = shares.setdefault(dimension, {})
        if min is None and max is None:
            bands.pop(code, None)
        else:
            bands[code] = Bound(min=min, max=max)
        return _revalidate(replace(self, shares=_freeze(shares)))

    def with_changes(self, **changes: Any) -> Policy:
        """Return a validated copy with top-level fields replaced (``capacity=500``...)."""
        return _revalidate(replace(self, **changes))

    def check_for(self, k: int, *, source: str = "policy") -> None:
        """Reject bands that cannot hold when exactly ``k`` cases are selected.

        Raises
        ------
        PolicyError
            If a band leaves no integer count (``ceil(min*k) > floor(max*k)``) or the minimums of
            one partition (regions, genders) need more than ``k`` cases, or its maximums allow
            fewer than ``k``.
        """
        for dim, bands in self.shares.items():
            for code, b in bands.items():
                lo, hi = b.min_count(k), b.max_count(k)
                if lo is not None and hi is not None and lo > hi:
                    raise PolicyError(
                        f"{source}: share.{dim}.{code}: no whole number of cases lies between "
                        f"min {b.min} and max {b.max} of {k} selected cases "
                        f"(at least {lo}, at most {hi})."
                    )
            if dim in _PARTITIONS:
                need = sum(b.min_count(k) or 0 for b in bands.values())
                if need > k:
                    raise PolicyError(
                        f"{source}: share.{dim}: the minimums add up to {need} cases, more than "
                        f"the {k} selected."
                    )
                codes = DIMENSIONS[dim]
                if all(c in bands and bands[c].max is not None for c in codes):
                    room = sum(bands[c].max_count(k) or 0 for c in codes)
                    if room < k:
                        raise PolicyError(
                            f"{source}: share.{dim}: the maximums allow only {room} cases, fewer "
                            f"than the {k} to select."
                        )


def load_policy(path: str | Path) -> Policy:
    """Read and validate a policy file (``policies/*.toml``).

    Raises
    ------
    InputFileError
        If the file is missing or unreadable.
    PolicyError
        If the document is invalid; the message names the file, the key and the reason.
    """
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise InputFileError(f"{p}: no such policy file.") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise InputFileError(f"{p}: cannot be read ({exc}).") from exc
    return Policy.from_toml(text, source=str(p))


# ---------------------------------------------------------------------- validation helpers
def _freeze(shares: Mapping[str, Mapping[str, Bound]]) -> Mapping[str, Mapping[str, Bound]]:
    return MappingProxyType(
        {d: MappingProxyType(dict(sorted(b.items()))) for d, b in shares.items() if b}
    )


def _revalidate(policy: Policy) -> Policy:
    return Policy.from_toml(policy.to_toml(), source=policy.name)


def _unknown(
    source: str, where: str, keys: set[str], allowed: set[str] | Mapping[str, Any]
) -> None:
    extra = sorted(set(keys) - set(allowed))
    if extra:
        raise PolicyError(
            f"{source}: {where}{extra[0]}: unknown key. Allowed keys here: "
            f"{', '.join(sorted(allowed))}."
        )


def _number(source: str, key: str, value: Any, *, lo: float, hi: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise PolicyError(f"{source}: {key}: must be a number. Got {value!r} instead.")
    if not lo <= value <= hi:
        raise PolicyError(f"{source}: {key}: must lie between {lo:g} and {hi:g}. Got {value!r}.")
    return float(value)


def _integer(source: str, key: str, value: Any, *, lo: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise PolicyError(f"{source}: {key}: must be a whole number. Got {value!r} instead.")
    if value < lo:
        raise PolicyError(f"{source}: {key}: must be at least {lo}. Got {value!r}.")
    return int(value)


def _table(source: str, key: str, value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise PolicyError(f"{source}: {key}: must be a table. Got {value!r} instead.")
    return value


def _parse(raw: dict[str, Any], source: str) -> Policy:
    _unknown(source, "", set(raw), _TOP_KEYS)
    name = raw.get("name")
    if not isinstance(name, str) or not name.strip():
        raise PolicyError(f"{source}: name: a non-empty text is required.")
    description = raw.get("description", "")
    if not isinstance(description, str):
        raise PolicyError(f"{source}: description: must be text. Got {description!r} instead.")
    if "capacity" not in raw:
        raise PolicyError(f"{source}: capacity: required (the number of cases to select).")
    capacity = _integer(source, "capacity", raw["capacity"], lo=1)

    shares: dict[str, dict[str, Bound]] = {}
    share_raw = _table(source, "share", raw.get("share", {}))
    _unknown(source, "share.", set(share_raw), DIMENSIONS)
    for dim, bands_raw in share_raw.items():
        vocab = DIMENSIONS[dim]
        bands_raw = _table(source, f"share.{dim}", bands_raw)
        for code, spec in bands_raw.items():
            key = f"share.{dim}.{code}"
            if code not in vocab:
                raise PolicyError(
                    f"{source}: {key}: unknown {dim} code {code!r}. Known codes: "
                    f"{', '.join(vocab)}."
                )
            spec = _table(source, key, spec)
            _unknown(source, f"{key}.", set(spec), {"min", "max"})
            if not spec:
                raise PolicyError(f"{source}: {key}: give a min and/or a max.")
            lo = _number(source, f"{key}.min", spec["min"], lo=0, hi=1) if "min" in spec else None
            hi = _number(source, f"{key}.max", spec["max"], lo=0, hi=1) if "max" in spec else None
            if lo is not None and hi is not None and lo > hi:
                raise PolicyError(f"{source}: {key}: min {lo:g} is greater than max {hi:g}.")
            shares.setdefault(dim, {})[code] = Bound(min=lo, max=hi)
    for dim in _PARTITIONS:
        bands = shares.get(dim, {})
        total_min = sum(b.min or 0.0 for b in bands.values())
        if total_min > 1 + 1e-9:
            raise PolicyError(
                f"{source}: share.{dim}: the minimums add up to {total_min:g}, more than 1; "
                "every case belongs to exactly one group, so they cannot all hold."
            )
        if all(c in bands and bands[c].max is not None for c in DIMENSIONS[dim]):
            total_max = sum(bands[c].max or 0.0 for c in DIMENSIONS[dim])
            if total_max < 1 - 1e-9:
                raise PolicyError(
                    f"{source}: share.{dim}: the maximums add up to {total_max:g}, less than 1; "
                    "the selection could not be filled."
                )

    limit = _table(source, "limit", raw.get("limit", {}))
    _unknown(source, "limit.", set(limit), {"max_per_country", "per_country"})
    max_per_country = (
        _integer(source, "limit.max_per_country", limit["max_per_country"], lo=0)
        if "max_per_country" in limit
        else None
    )
    per_country: dict[str, int] = {}
    known = countries()
    for iso3, value in _table(source, "limit.per_country", limit.get("per_country", {})).items():
        if iso3 not in known:
            raise PolicyError(
                f"{source}: limit.per_country.{iso3}: unknown country code (use ISO 3166 alpha-3)."
            )
        per_country[iso3] = _integer(source, f"limit.per_country.{iso3}", value, lo=0)

    must = _table(source, "must_include", raw.get("must_include", {}))
    _unknown(source, "must_include.", set(must), {"case_ids"})
    ids = must.get("case_ids", [])
    if not isinstance(ids, list) or not all(isinstance(i, str) and i.strip() for i in ids):
        raise PolicyError(f"{source}: must_include.case_ids: must be a list of case ids (text).")
    if len(set(ids)) != len(ids):
        dup = sorted({i for i in ids if ids.count(i) > 1})[0]
        raise PolicyError(f"{source}: must_include.case_ids: {dup!r} is listed twice.")
    if len(ids) > capacity:
        raise PolicyError(
            f"{source}: must_include.case_ids: {len(ids)} cases must be included but capacity "
            f"is {capacity}."
        )

    explore = _table(source, "exploration", raw.get("exploration", {}))
    _unknown(source, "exploration.", set(explore), {"share", "seed"})
    exploration_share = (
        _number(source, "exploration.share", explore["share"], lo=0, hi=0.5)
        if "share" in explore
        else 0.0
    )
    exploration_seed = (
        _integer(source, "exploration.seed", explore["seed"], lo=0) if "seed" in explore else 0
    )

    pacing_raw = _table(source, "pacing", raw.get("pacing", {}))
    _unknown(source, "pacing.", set(pacing_raw), {"period", "weights", "max_wait"})
    period = pacing_raw.get("period", "week")
    if period not in _PERIODS_PER_YEAR:
        raise PolicyError(
            f"{source}: pacing.period: must be one of week, month, quarter. Got {period!r}."
        )
    weights = pacing_raw.get("weights")
    if weights is not None:
        n = _PERIODS_PER_YEAR[period]
        if not isinstance(weights, list) or len(weights) != n:
            raise PolicyError(
                f"{source}: pacing.weights: must list {n} numbers, one per {period}. "
                f"Got {weights!r}."
            )
        weights = tuple(
            _number(source, f"pacing.weights[{i}]", w, lo=0, hi=math.inf)
            for i, w in enumerate(weights)
        )
        if sum(weights) <= 0:
            raise PolicyError(f"{source}: pacing.weights: at least one weight must be positive.")
    max_wait = _integer(source, "pacing.max_wait", pacing_raw.get("max_wait", 0), lo=0)

    solver = _table(source, "solver", raw.get("solver", {}))
    _unknown(source, "solver.", set(solver), {"time_limit"})
    time_limit = (
        _number(source, "solver.time_limit", solver["time_limit"], lo=0.01, hi=86400)
        if "time_limit" in solver
        else None
    )

    return Policy(
        name=name.strip(),
        capacity=capacity,
        description=description,
        shares=_freeze(shares),
        max_per_country=max_per_country,
        per_country=MappingProxyType(dict(sorted(per_country.items()))),
        must_include=tuple(sorted(ids)),
        exploration_share=exploration_share,
        exploration_seed=exploration_seed,
        pacing=Pacing(period=period, weights=weights, max_wait=max_wait),
        time_limit=time_limit,
    )
