"""Identity use cases: sign up, log in, tokens and sessions, admin accounts.

Passwords are hashed with argon2id (RFC 9106 parameters; cheap ones only when
``GRASSROOTS_ENV=test``). Tokens are HS256 JWTs carrying the account's
``auth_version``, so they work on every app instance without server-side sessions
and can all be revoked at once by bumping that number.
"""

from __future__ import annotations

import re
import unicodedata
import uuid
from datetime import UTC, datetime, timedelta
from functools import cache, lru_cache
from typing import Any

import anyio.to_thread
import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from email_validator import EmailNotValidError, validate_email
from sqlalchemy import Select

from grassroots.config import Env
from grassroots.identity import repository
from grassroots.identity.models import User
from grassroots.kernel.auth import SIGNUP_ROLES, Principal, Role
from grassroots.kernel.errors import Conflict, Forbidden, Invalid, NotFound, RateLimited, Unauthorized
from grassroots.kernel.ids import new_id
from grassroots.kernel.pagination import PageParams
from grassroots.kernel.uow import UnitOfWork

MIN_PASSWORD = 8
MAX_PASSWORD = 256
HANDLE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.]{1,28}[A-Za-z0-9_]$")
RESERVED_HANDLES = frozenset(
    {
        "admin",
        "administrator",
        "root",
        "system",
        "support",
        "help",
        "grassroots",
        "api",
        "static",
        "login",
        "logout",
        "signup",
        "settings",
        "me",
        "www",
        "mail",
        "official",
        "staff",
        "security",
    }
)
# Handles that would pass for the platform's own people are refused however they are spelt:
# the word alone or followed by a separator or digits ("admin_cn", "Support.Team",
# "ADMlN"), and the platform's name anywhere. "stafford" and "supporter_amy" are people.
RESERVED_PREFIXES = ("admin", "support", "official", "staff", "security", "system")
RESERVED_ANYWHERE = ("grassroots",)
# Letters and digits that read alike in a sans-serif face, one for one.
_LOOKALIKE = str.maketrans({"0": "o", "1": "l", "i": "l", "|": "l", "5": "s"})


def _look(key: str) -> str:
    """How a case-folded handle reads: "ADMlN", "adm1n" and "admin" read alike."""
    return key.translate(_LOOKALIKE)


def _reserved(key: str) -> bool:
    look = _look(key)
    for word in RESERVED_PREFIXES:
        w = _look(word)
        if look.startswith(w) and (len(key) == len(w) or key[len(w)] in "_.0123456789"):
            return True
    return key in RESERVED_HANDLES or any(_look(w) in look.replace("_", "").replace(".", "") for w in RESERVED_ANYWHERE)


COMMON_PASSWORDS = frozenset(
    {
        "password",
        "password1",
        "password123",
        "12345678",
        "123456789",
        "1234567890",
        "qwertyuiop",
        "11111111",
        "00000000",
        "abc12345",
        "iloveyou",
        "passw0rd",
        "qwerty123",
        "1q2w3e4r",
        "88888888",
        "66666666",
        "a1234567",
        "asdfghjk",
        "zxcvbnm1",
        "letmein1",
        "welcome1",
        "admin123",
        "football",
        "baseball",
        "sunshine",
        "princess",
        "superman",
        "trustno1",
        "woaini1314",
        "5201314520",
    }
)
TOKEN_ISSUER = "grassroots"  # noqa: S105


# ---------------------------------------------------------------- validation


def normalize_email(raw: str) -> str:
    try:
        info = validate_email(raw.strip(), check_deliverability=False)
    except EmailNotValidError as exc:
        raise Invalid(
            f"That email address is not valid: {exc}", code="invalid_email", fields={"email": "invalid"}
        ) from None
    # Domain is case-insensitive by standard; local parts are in practice too.
    return str(info.normalized).lower()


def handle_key(handle: str) -> str:
    return unicodedata.normalize("NFKC", handle).casefold()


def validate_handle(raw: str, *, staff: bool = False) -> tuple[str, str]:
    """The handle and its key; ``staff`` (an operator's account) may take the reserved names."""
    handle = raw.strip()
    if not HANDLE_RE.match(handle) or ".." in handle:
        raise Invalid(
            "A handle is 3 to 30 letters, digits, '_' or '.', starting with a letter or digit.",
            code="invalid_handle",
            fields={"handle": "invalid"},
        )
    key = handle_key(handle)
    if not staff and _reserved(key):
        raise Conflict("That handle is not available.", code="handle_taken", fields={"handle": "taken"})
    return handle, key


def check_password(password: str, *, email: str = "", handle: str = "") -> None:
    reason = None
    if len(password) < MIN_PASSWORD:
        reason = f"at least {MIN_PASSWORD} characters"
    elif len(password) > MAX_PASSWORD:
        reason = f"at most {MAX_PASSWORD} characters"
    elif password.lower() in COMMON_PASSWORDS or len(set(password)) < 3:
        reason = "not a common or repetitive password"
    elif password.lower() in {email.lower(), handle.lower(), email.split("@")[0].lower()}:
        reason = "different from your email and handle"
    if reason:
        raise Invalid(f"The password must be {reason}.", code="weak_password", fields={"password": reason})


# ---------------------------------------------------------------- passwords


@cache
def _hasher(env: Env) -> PasswordHasher:
    if env == Env.test:
        return PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    return PasswordHasher()  # argon2id, RFC 9106 low-memory profile


@cache
def _dummy_hash(env: Env) -> str:
    return _hasher(env).hash("not-a-real-password-" + env.value)


def _nfc(password: str) -> str:
    # "é" typed as one character or as e + accent (some phones send the second) is one password.
    return unicodedata.normalize("NFC", password)


async def hash_password(env: Env, password: str) -> str:
    return await anyio.to_thread.run_sync(_hasher(env).hash, _nfc(password))


async def verify_password(env: Env, stored: str, password: str) -> bool:
    return await _matching_form(env, stored, password) is not None


async def _matching_form(env: Env, stored: str, password: str) -> str | None:
    """Which form of the password the hash was made from: NFC, or (a hash made before
    passwords were normalised) as typed or decomposed; None: none of them."""
    nfc = _nfc(password)
    tries = list(dict.fromkeys((nfc, password, unicodedata.normalize("NFD", password))))

    def check() -> str | None:
        for attempt in tries:
            try:
                if _hasher(env).verify(stored, attempt):
                    return attempt
            except (VerifyMismatchError, VerificationError, InvalidHashError):
                continue
        return None

    return await anyio.to_thread.run_sync(check)


# ---------------------------------------------------------------- tokens


ACCESS = "access"
SESSION = "session"


def issue_token(secret: str, user: User, kind: str, ttl_seconds: int) -> str:
    # Real time, not the platform clock: moving the test clock must not log people out.
    now = datetime.now(UTC)
    claims: dict[str, Any] = {
        "sub": str(user.id),
        "ver": user.auth_version,
        "typ": kind,
        "iss": TOKEN_ISSUER,
        "iat": now,
        "exp": now + timedelta(seconds=ttl_seconds),
    }
    return jwt.encode(claims, secret, algorithm="HS256")


@lru_cache(maxsize=16_384)
def _verified_claims(secret: str, token: str) -> tuple[uuid.UUID, int, str, float] | None:
    """Signature and claim checks of a token, done once per token string (tokens are
    immutable; expiry is re-checked on every use by ``decode_token``)."""
    try:
        claims = jwt.decode(
            token,
            secret,
            algorithms=["HS256"],
            issuer=TOKEN_ISSUER,
            options={"require": ["sub", "exp", "ver", "typ"]},
        )
        return uuid.UUID(str(claims["sub"])), int(claims["ver"]), str(claims["typ"]), float(claims["exp"])
    except (jwt.PyJWTError, ValueError, TypeError):
        return None


def decode_token(secret: str, token: str, kind: str) -> tuple[uuid.UUID, int] | None:
    if len(token) > 2048:
        return None
    verified = _verified_claims(secret, token)
    if verified is None:
        return None
    user_id, version, typ, expires = verified
    if typ != kind or expires <= datetime.now(UTC).timestamp():
        return None
    return user_id, version


def principal_of(user: User, *, via_cookie: bool = False) -> Principal:
    return Principal(id=user.id, role=user.role, handle=user.handle, email=user.email, via_cookie=via_cookie)


async def principal_from_token(uow: UnitOfWork, token: str, kind: str) -> Principal | None:
    decoded = decode_token(uow.platform.secret_key, token, kind)
    if decoded is None:
        return None
    user_id, version = decoded
    found = await repository.auth_facts(uow.session, user_id)
    if found is None:
        return None
    role, handle, email, auth_version, disabled = found
    if disabled or auth_version != version:
        return None
    return Principal(id=user_id, role=role, handle=handle, email=email, via_cookie=kind == SESSION)


# ---------------------------------------------------------------- use cases


async def signup(
    uow: UnitOfWork,
    *,
    email: str,
    password: str,
    handle: str,
    role: Role,
    ip: str | None = None,
    allow_admin: bool = False,
    password_hash: str | None = None,
) -> User:
    """Create an account. ``password_hash`` may carry a hash of ``password`` made earlier
    by ``hash_password`` (seeding many accounts with one password hashes it once)."""
    if role == Role.admin and not allow_admin:
        raise Invalid(
            "Admin accounts are created by an operator, not by sign-up.",
            code="role_not_allowed",
            fields={"role": "not allowed"},
        )
    if role not in SIGNUP_ROLES and role != Role.admin:
        raise Invalid("Unknown role.", code="role_not_allowed", fields={"role": "unknown"})
    s = uow.settings
    if ip is not None:
        decision = await uow.state.limiter.hit(f"signup:ip:{ip}", s.signup_ip_limit, s.signup_ip_window_seconds)
        if not decision.allowed:
            raise RateLimited(
                "Too many sign-ups from this address; try later.", retry_after=int(decision.retry_after) + 1
            )
    email_n = normalize_email(email)
    handle_n, key = validate_handle(handle, staff=role == Role.admin)
    check_password(password, email=email_n, handle=handle_n)
    if await repository.email_exists(uow.session, email_n):
        raise Conflict("An account with that email already exists.", code="email_taken", fields={"email": "taken"})
    if await repository.handle_exists(uow.session, key):
        raise Conflict("That handle is taken.", code="handle_taken", fields={"handle": "taken"})
    user = User(
        id=new_id(),
        email=email_n,
        handle=handle_n,
        handle_key=key,
        role=role,
        password_hash=password_hash or await hash_password(s.env, password),
        auth_version=1,
        created_at=uow.now(),
    )
    clash = await repository.add(uow.session, user)  # the constraint settles concurrent sign-ups
    if clash == "handle_key":
        raise Conflict("That handle is taken.", code="handle_taken", fields={"handle": "taken"})
    if clash == "email":
        raise Conflict("An account with that email already exists.", code="email_taken", fields={"email": "taken"})
    uow.emit("identity.user_signed_up", {"user_id": user.id, "role": user.role.value})
    return user


def _invalid_credentials() -> Unauthorized:
    return Unauthorized("Wrong email or password.", code="invalid_credentials")


async def login(uow: UnitOfWork, *, email: str, password: str, ip: str) -> User:
    """The account for these credentials. Unknown email and wrong password get the same
    answer in about the same time. Every attempt takes a slot from the client address's
    limiter and from the account's, *before* the password is checked, so concurrent
    guesses cannot outrun the limit; a successful login clears the account's count."""
    s = uow.settings
    limiter = uow.state.limiter
    decision = await limiter.hit(f"login:ip:{ip}", s.login_ip_limit, s.login_ip_window_seconds)
    if not decision.allowed:
        raise RateLimited(
            "Too many login attempts from this address; try later.", retry_after=int(decision.retry_after) + 1
        )
    try:
        email_n = normalize_email(email)
    except Invalid:
        await verify_password(s.env, _dummy_hash(s.env), password)
        raise _invalid_credentials() from None
    account_key = f"login:account:{email_n}"
    decision = await limiter.hit(account_key, s.login_account_limit, s.login_account_window_seconds)
    if not decision.allowed:
        raise RateLimited(
            "Too many login attempts for this account; try later.", retry_after=int(decision.retry_after) + 1
        )
    user = await repository.get_by_email(uow.session, email_n)
    matched = await _matching_form(s.env, user.password_hash if user else _dummy_hash(s.env), password)
    if user is None or matched is None:
        raise _invalid_credentials()
    if user.disabled_at is not None:  # told only to whoever knows the password
        raise Forbidden("This account is suspended; contact the platform's operators.", code="account_suspended")
    await limiter.reset(account_key)
    # Remade from the NFC form when it was made from another (or with weaker settings).
    if _hasher(s.env).check_needs_rehash(user.password_hash) or matched != _nfc(password):
        user_id, platform = user.id, uow.platform

        async def rehash() -> None:
            # Its own unit of work after this one: a login stays a read.
            async with platform.unit_of_work() as later:
                stored = await repository.get(later.session, user_id)
                if stored is not None:
                    stored.password_hash = await hash_password(s.env, password)

        uow.after_commit(rehash)
    return user


async def get_user(uow: UnitOfWork, user_id: uuid.UUID) -> User:
    user = await repository.get(uow.session, user_id)
    if user is None:
        raise NotFound("No such user.", code="user_not_found")
    return user


async def find_by_handle(uow: UnitOfWork, handle: str) -> User:
    user = await repository.get_by_handle_key(uow.session, handle_key(handle.strip().lstrip("@")))
    if user is None:
        raise NotFound("No such user.", code="user_not_found")
    return user


async def handles(uow: UnitOfWork, ids: list[uuid.UUID]) -> dict[uuid.UUID, str]:
    """Handles for display, by user id."""
    return {uid: u.handle for uid, u in (await repository.get_many(uow.session, ids)).items()}


async def users_by_id(uow: UnitOfWork, ids: list[uuid.UUID]) -> dict[uuid.UUID, User]:
    return await repository.get_many(uow.session, ids)


async def list_users(
    uow: UnitOfWork,
    params: PageParams,
    role: Role | None = None,
    *,
    suspended: bool | None = None,
    q: str | None = None,
) -> tuple[list[User], str | None]:
    """Accounts by id; ``q`` keeps those whose handle or email holds it ("@mei" finds mei)."""
    wanted = (q or "").strip().lstrip("@").lower() or None
    return await repository.page(uow.session, params, role, suspended=suspended, q=wanted)


async def suspended_count(uow: UnitOfWork) -> int:
    return await repository.count_suspended(uow.session)


async def role_counts(uow: UnitOfWork) -> dict[Role, int]:
    return await repository.count_by_role(uow.session)


async def revoke_sessions(uow: UnitOfWork, user_id: uuid.UUID) -> None:
    """Invalidate every token and session cookie of the account."""
    user = await get_user(uow, user_id)
    user.auth_version += 1


MAX_SUSPENSION_REASON = 500


async def suspend(uow: UnitOfWork, admin: Principal, user_id: uuid.UUID, reason: str) -> User:
    """Suspend an account: it cannot sign in and every token and session of it ends at once;
    other domains take its goods off sale, hide its profile, showcase and posts, and stop
    paying it commission on new orders (on ``identity.user_suspended``). Suspending an
    account already suspended changes nothing. What it earned stays in the ledger."""
    reason = reason.strip()
    if not reason:
        raise Invalid("Say why the account is suspended.", code="reason_required", fields={"reason": "required"})
    if len(reason) > MAX_SUSPENSION_REASON:
        raise Invalid(
            f"The reason is at most {MAX_SUSPENSION_REASON} characters.",
            code="reason_too_long",
            fields={"reason": "too_long"},
        )
    if user_id == admin.id:
        raise Conflict("An operator cannot suspend their own account.", code="cannot_suspend_self")
    await get_user(uow, user_id)
    if await repository.mark_suspended(uow.session, user_id, uow.now(), reason, admin.id):
        uow.emit("identity.user_suspended", {"user_id": user_id, "by": admin.id})
    return await repository.fresh(uow.session, user_id)


async def reinstate(uow: UnitOfWork, admin: Principal, user_id: uuid.UUID) -> User:
    """Lift a suspension: the account signs in again (with a new session: the old ones stay
    ended) and its goods that the suspension took off sale are back on sale."""
    await get_user(uow, user_id)
    if await repository.clear_suspension(uow.session, user_id):
        uow.emit("identity.user_reinstated", {"user_id": user_id, "by": admin.id})
    return await repository.fresh(uow.session, user_id)


async def suspended_among(uow: UnitOfWork, ids: list[uuid.UUID]) -> set[uuid.UUID]:
    """Which of these accounts are suspended (one query; none for no ids)."""
    return await repository.suspended_among(uow.session, ids)


def suspended_ids() -> Select[uuid.UUID]:
    """The ids of suspended accounts, as a subquery other domains can filter by in SQL
    (so a page of people leaves them out and stays full, and counts leave them out)."""
    return repository.suspended_ids()


async def is_suspended(uow: UnitOfWork, user_id: uuid.UUID, *, lock: bool = False) -> bool:
    """Whether the account is suspended now; ``lock`` (for handlers that follow the state)
    makes a concurrent suspension or reinstatement of it wait for this transaction."""
    return await repository.is_suspended(uow.session, user_id, lock=lock)


async def active_handles(uow: UnitOfWork, ids: list[uuid.UUID]) -> dict[uuid.UUID, str]:
    """Handles of the accounts that are not suspended: what may be shown as theirs."""
    users = await repository.get_many(uow.session, ids)
    return {uid: u.handle for uid, u in users.items() if u.disabled_at is None}


def handle_from_email(email: str) -> str:
    local = re.sub(r"[^A-Za-z0-9_]", "_", email.split("@")[0])[:24].strip("_") or "user"
    return local if len(local) >= 3 else f"{local}_user"


async def create_admin(uow: UnitOfWork, *, email: str, password: str, handle: str | None = None) -> User:
    base = handle or handle_from_email(email)
    candidate = base
    n = 1
    while handle is None and (
        handle_key(candidate) in RESERVED_HANDLES or await repository.handle_exists(uow.session, handle_key(candidate))
    ):
        n += 1
        candidate = f"{base[:26]}_{n}"
    return await signup(uow, email=email, password=password, handle=candidate, role=Role.admin, allow_admin=True)
