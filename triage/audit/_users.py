"""Local users and sessions: a TOML file of users with salted scrypt hashes, and login.

``var/users.toml`` (``TRIAGE_USERS`` moves it) holds one table per user: role, salt, hash and
creation time. ``triage user add`` writes it. With no users file, or with
``TRIAGE_OPEN_DEMO=1``, the app runs in *open demo mode*: no login, and it says so on screen.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
import tomllib
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import tomli_w

from triage._validation import Constraint, check_params, one_of
from triage.audit._privacy import ROLES, Role
from triage.config import var_dir
from triage.errors import InputFileError, TriageError

__all__ = [
    "Session",
    "UserInfo",
    "add_user",
    "authenticate",
    "check_display_name",
    "list_users",
    "lockouts",
    "open_demo_mode",
    "resolve_session",
    "users_file",
]

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")
_CONSTRAINTS = {
    "user": Constraint(
        lambda u: isinstance(u, str) and bool(_NAME.match(u)),
        "1-64 letters, digits or . _ @ - starting with a letter or digit",
    ),
    "role": one_of(ROLES),
}
# scrypt with n=2**14, r=8 costs ~16 MB and tens of milliseconds: slow for guessing, fast for login.
_SCRYPT = {"n": 2**14, "r": 8, "p": 1, "dklen": 32}
_MIN_SECRET = 8


@dataclass(frozen=True)
class Session:
    """Who is acting: a user name, a role, whether this is an unauthenticated demo session,
    and how the actor signed in (``demo``, ``password`` or ``token``; stored in each record)."""

    user: str
    role: Role
    demo: bool = False
    auth: str = ""

    def __post_init__(self) -> None:
        if not self.auth:
            object.__setattr__(self, "auth", "demo" if self.demo else "password")


@dataclass(frozen=True)
class UserInfo:
    """One user as listed (never the hash): name, role and creation time (UTC ISO 8601)."""

    user: str
    role: Role
    created_at: str


def users_file() -> Path:
    """Return the users file: ``TRIAGE_USERS`` or ``var/users.toml``."""
    return Path(os.environ.get("TRIAGE_USERS", var_dir() / "users.toml"))


def open_demo_mode(path: str | Path | None = None) -> bool:
    """Return True when the app must run without login (``TRIAGE_OPEN_DEMO=1`` or no users file)."""
    flag = os.environ.get("TRIAGE_OPEN_DEMO", "").strip().lower()
    if flag in ("1", "true", "yes", "on"):
        return True
    return not (Path(path) if path is not None else users_file()).exists()


def _hash(secret: str, salt: bytes) -> str:
    return hashlib.scrypt(secret.encode("utf-8"), salt=salt, **_SCRYPT).hex()  # type: ignore[arg-type]


def _read(path: Path) -> dict[str, dict[str, str]]:
    if not path.exists():
        return {}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InputFileError(f"{path}: not a valid users file ({exc}).") from exc
    users = data.get("users", {})
    if not isinstance(users, dict):
        raise InputFileError(f"{path}: `users` must be a table of users.")
    for name, entry in users.items():
        if not isinstance(entry, dict) or not {"role", "salt", "hash"} <= set(entry):
            raise InputFileError(f"{path}: user {name!r} must have role, salt and hash.")
        if entry["role"] not in ROLES:
            raise InputFileError(
                f"{path}: user {name!r} has role {entry['role']!r}; roles are {', '.join(ROLES)}."
            )
    return users


def check_display_name(user: str, registry: object | None = None) -> str:
    """Return ``user`` if it may be shown to others: 1-64 letters, digits or ``. _ @ -`` (no
    markdown, no HTML), and no defender name, source contact, e-mail address or phone number.

    Raises ``TriageError`` otherwise, without repeating what it found.
    """
    from triage.audit._names import check_free_text

    if not isinstance(user, str) or not _NAME.match(user):
        raise TriageError(
            "a user name must be 1-64 letters, digits or . _ @ - starting with a letter or digit."
        )
    check_free_text(registry, user.replace("_", " ").replace(".", " "), what="the user name")
    return user


def add_user(
    user: str,
    *,
    role: Role,
    password: str | None = None,
    path: str | Path | None = None,
    replace: bool = False,
    registry: object | None = None,
) -> str:
    """Create (or with ``replace`` reset) a user in the users file and return the secret.

    Parameters
    ----------
    user : str
        Login name: letters, digits and ``. _ @ -``, at most 64 characters.
    role : {"staff", "mandate_holder", "auditor"}
        The role of every session of this user.
    password : str, optional
        At least 8 characters. When omitted, a random token is generated and returned; it is
        shown once and only its hash is kept.
    path : str or Path, optional
        The users file (default ``users_file()``).
    replace : bool, default False
        Allow overwriting an existing user.
    registry : Registry, optional
        Check the name against the registry's defender names and source contacts.

    Returns
    -------
    str
        The password or generated token.
    """
    check_params(_CONSTRAINTS, user=user, role=role)
    check_display_name(user, registry)
    if password is not None and len(password) < _MIN_SECRET:
        raise ValueError(
            f"`password` must have at least {_MIN_SECRET} characters. Got {len(password)} instead."
        )
    secret = password if password is not None else secrets.token_urlsafe(24)
    target = Path(path) if path is not None else users_file()
    users = _read(target)
    if user in users and not replace:
        raise TriageError(f"user {user!r} already exists in {target}; pass --replace to reset it.")
    salt = secrets.token_bytes(16)
    users[user] = {
        "role": role,
        "kind": "password" if password is not None else "token",
        "salt": salt.hex(),
        "hash": _hash(secret, salt),
        "created_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    _secure_parent(target)
    tmp = target.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        tomli_w.dump({"users": dict(sorted(users.items()))}, fh)
    os.replace(tmp, target)
    return secret


def list_users(path: str | Path | None = None) -> list[UserInfo]:
    """Return every user of the users file, sorted by name (no hashes)."""
    target = Path(path) if path is not None else users_file()
    return [
        UserInfo(name, entry["role"], entry.get("created_at", ""))  # type: ignore[arg-type]
        for name, entry in sorted(_read(target).items())
    ]


def authenticate(user: str, password: str, *, path: str | Path | None = None) -> Session:
    """Check a user's password or token and return their ``Session``.

    Raises
    ------
    TriageError
        With the same message for an unknown user and a wrong password, so the answer does
        not reveal which user names exist.
    """
    target = Path(path) if path is not None else users_file()
    locked = _locked_until(target, user)
    if locked is not None:
        raise TriageError(
            f"too many failed sign-ins for this user: locked until {locked} UTC.", exit_code=3
        )
    entry = _read(target).get(user)
    # Hash even for unknown users so the time taken does not reveal which names exist.
    salt = bytes.fromhex(entry["salt"]) if entry else b"\0" * 16
    computed = _hash(password or "", salt)
    if entry is None or not hmac.compare_digest(computed, entry["hash"]):
        _failed(target, user)
        raise TriageError("unknown user or wrong password.", exit_code=3)
    _succeeded(target, user)
    kind = entry.get("kind", "password")
    return Session(
        user=user,
        role=entry["role"],  # type: ignore[arg-type]
        auth=kind if kind in ("password", "token") else "password",
    )


#: Failed sign-ins within ``LOCKOUT_WINDOW`` seconds that lock a user out for ``LOCKOUT_SECONDS``.
LOCKOUT_AFTER = 5
LOCKOUT_WINDOW = 15 * 60
LOCKOUT_SECONDS = 15 * 60


def _secure_parent(target: Path) -> None:
    from triage.audit._signing import secure_dir

    if target.parent == var_dir():
        secure_dir(target.parent)
    else:
        target.parent.mkdir(parents=True, exist_ok=True)


def _failures_file(target: Path) -> Path:
    return target.with_name(target.name + ".signins.json")


def _load_failures(target: Path) -> dict[str, dict[str, float]]:
    import json

    path = _failures_file(target)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _save_failures(target: Path, data: dict[str, dict[str, float]]) -> None:
    import json

    path = _failures_file(target)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(data, fh)
    os.replace(tmp, path)


def _now() -> float:
    import time

    return time.time()


def _stamp(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%d %H:%M:%S")


def _locked_until(target: Path, user: str) -> str | None:
    entry = _load_failures(target).get(user)
    if entry and float(entry.get("locked_until", 0)) > _now():
        return _stamp(float(entry["locked_until"]))
    return None


def _failed(target: Path, user: str) -> None:
    data = _load_failures(target)
    now = _now()
    entry = data.get(user, {})
    if now - float(entry.get("first", 0)) > LOCKOUT_WINDOW:
        entry = {"first": now, "count": 0}
    entry["count"] = float(entry.get("count", 0)) + 1
    if entry["count"] >= LOCKOUT_AFTER:
        entry["locked_until"] = now + LOCKOUT_SECONDS
        entry["count"] = 0
        entry["first"] = now
        _log_lockout(target, user, now, entry["locked_until"])
    data[user] = entry
    _save_failures(target, data)


def _succeeded(target: Path, user: str) -> None:
    data = _load_failures(target)
    if user in data:
        del data[user]
        _save_failures(target, data)


def _log_lockout(target: Path, user: str, now: float, until: float) -> None:
    """Append the lockout to ``var/audit/signins.jsonl`` (0600): who, when, until when."""
    import json

    from triage.audit._signing import secure_dir

    folder = secure_dir(var_dir() / "audit")
    line = json.dumps(
        {
            "event": "lockout",
            "user": user,
            "at": _stamp(now),
            "until": _stamp(until),
            "failed_signins": LOCKOUT_AFTER,
        },
        sort_keys=True,
    )
    fd = os.open(folder / "signins.jsonl", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    with os.fdopen(fd, "a", encoding="utf-8") as fh:
        fh.write(line + "\n")


def lockouts() -> list[dict[str, str]]:
    """Every recorded lockout (``var/audit/signins.jsonl``), oldest first."""
    import json

    path = var_dir() / "audit" / "signins.jsonl"
    if not path.exists():
        return []
    return [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines() if x.strip()]


def resolve_session(
    user: str | None = None,
    role: Role | None = None,
    password: str | None = None,
    *,
    path: str | Path | None = None,
) -> Session:
    """Return the session of a command-line or app action.

    In open demo mode (see ``open_demo_mode``) no password is needed: the session is
    ``user`` (default ``demo``) with ``role`` (default ``staff``) and ``demo=True``. Otherwise the
    user must authenticate with ``password`` (or the ``TRIAGE_PASSWORD`` environment variable),
    and a ``role`` given must be the user's own.

    Raises
    ------
    TriageError
        No user or password given, wrong password, or a role the user does not have.
    """
    if role is not None and role not in ROLES:
        raise TriageError(f"role must be one of {', '.join(ROLES)}. Got {role!r} instead.")
    if open_demo_mode(path):
        name = user or "demo"
        existing = Path(path) if path is not None else users_file()
        if name in _read(existing):
            secret = password if password is not None else os.environ.get("TRIAGE_PASSWORD")
            if secret:
                session = authenticate(name, secret, path=path)
                if role is not None and role != session.role:
                    raise TriageError(
                        f"user {name!r} has role {session.role!r}, not {role!r}.", exit_code=3
                    )
                return session
            raise TriageError(
                f"user {name!r} exists: open demo mode cannot act as a real user; sign in with "
                "their password or token (--password or TRIAGE_PASSWORD).",
                exit_code=3,
            )
        check_display_name(name)
        return Session(user=name, role=role or "staff", demo=True)
    if not user:
        raise TriageError(
            "log in: pass --user NAME (users are listed by `triage user list`).", exit_code=3
        )
    secret = password if password is not None else os.environ.get("TRIAGE_PASSWORD")
    if not secret:
        raise TriageError(
            f"log in: give the password or token of {user!r} (--password or TRIAGE_PASSWORD).",
            exit_code=3,
        )
    session = authenticate(user, secret, path=path)
    if role is not None and role != session.role:
        raise TriageError(f"user {user!r} has role {session.role!r}, not {role!r}.", exit_code=3)
    return session
