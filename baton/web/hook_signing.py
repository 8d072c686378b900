"""What a deploy webhook request must carry to be believed, and the memory that believes it once.

baton's own signature, for CI (the README shows it with curl and openssl)::

    X-Baton-Timestamp: 1767225600            seconds since the epoch (date +%s)
    X-Baton-Delivery: 9f86d081884c7d65...    a new id per request (openssl rand -hex 16)
    X-Baton-Signature: sha256=<hex HMAC-SHA256, with the secret, of
                       "POST\\n/hooks/deploy/APP\\nTIMESTAMP\\nDELIVERY\\n" + the raw body>

The signature binds the request to its application (the path), its moment (refused more than
:data:`WINDOW` seconds either way from this server's clock) and its delivery id (refused the
second time). A captured request is good for one delivery, within five minutes, to one
application.

GitHub's ``X-Hub-Signature-256: sha256=<HMAC of the raw body>`` is still believed, as Git
hosting services send it, but only with an ``X-GitHub-Delivery`` id not seen before and a body
not seen before: that signature covers neither a time nor the path nor the id (a replay may
carry any id), so the memory of ids and bodies is all that stops a replay, and it lasts
:data:`MEMORY` seconds, as long as ``baton serve`` runs. Neither signature can be passed off
as the other: baton's signed text starts with ``POST``, which no JSON body (nor an empty one) does.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections import OrderedDict
from dataclasses import dataclass

from baton.clock import Clock

SIGNATURE = "X-Baton-Signature"
TIMESTAMP = "X-Baton-Timestamp"
DELIVERY = "X-Baton-Delivery"
HUB_SIGNATURE = "X-Hub-Signature-256"
HUB_DELIVERY = "X-GitHub-Delivery"

WINDOW = 300
"""Seconds a signed timestamp may be from this server's clock, either way."""
MEMORY = 24 * 3600
"""Seconds a delivery id (and a GitHub-signed body) is remembered."""
REMEMBERED = 100_000
"""At most this many are remembered; beyond it, the oldest is forgotten first."""
DELIVERY_ID = re.compile(r"[A-Za-z0-9._:-]{8,128}")
SECONDS = re.compile(r"[0-9]{1,12}")
"""A timestamp: ASCII digits only (``str.isdigit`` takes "²", which ``int`` refuses)."""
UNSIGNED = (
    f"send {TIMESTAMP}, {DELIVERY} and {SIGNATURE} (or {HUB_SIGNATURE} with {HUB_DELIVERY}); "
    "see the README's deploy webhook section"
)


class Refused(Exception):
    """A request answered with ``code`` and ``detail``; nothing deployed."""

    def __init__(self, code: int, detail: str) -> None:
        super().__init__(detail)
        self.code = code


@dataclass(frozen=True)
class HookHeaders:
    """The signing headers of one request, as sent (None: absent)."""

    signature: str | None = None
    timestamp: str | None = None
    delivery: str | None = None
    hub_signature: str | None = None
    hub_delivery: str | None = None


def signed_text(application: str, timestamp: str, delivery: str, body: bytes) -> bytes:
    """What ``X-Baton-Signature`` is the HMAC of: method, path, timestamp and delivery id,
    one a line, then the raw body."""
    return f"POST\n/hooks/deploy/{application}\n{timestamp}\n{delivery}\n".encode() + body


def baton_signature(
    secret: bytes, application: str, timestamp: str, delivery: str, body: bytes
) -> str:
    """The ``X-Baton-Signature`` value a sender computes."""
    text = signed_text(application, timestamp, delivery, body)
    return "sha256=" + hmac.new(secret, text, hashlib.sha256).hexdigest()


def hub_signature(secret: bytes, body: bytes) -> str:
    """The ``X-Hub-Signature-256`` value Git hosting services send: the body's HMAC only."""
    return "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()


class Deliveries:
    """What signed requests already delivered (ids, GitHub-signed bodies): each kept MEMORY
    seconds, at most REMEMBERED of them. Only a request whose signature holds is remembered,
    so no stranger can fill it."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._seen: OrderedDict[str, float] = OrderedDict()

    def first_time(self, *keys: str) -> bool:
        """Remember ``keys``; False (remembering nothing) if any was seen already."""
        now = self._clock.monotonic()
        while self._seen and next(iter(self._seen.values())) <= now - MEMORY:
            self._seen.popitem(last=False)
        if any(key in self._seen for key in keys):
            return False
        for key in keys:
            self._seen[key] = now
        while len(self._seen) > REMEMBERED:
            self._seen.popitem(last=False)
        return True


@dataclass(frozen=True)
class HookSigning:
    """The webhook's secret, the clock its timestamps are held to and what it remembers."""

    secret: bytes
    clock: Clock
    deliveries: Deliveries

    def admit(self, application: str, body: bytes, headers: HookHeaders) -> None:
        """Return if the request is signed, fresh and new; raise :class:`Refused` if not."""
        if headers.signature is not None:
            self._baton(application, body, headers)
        elif headers.hub_signature is not None:
            self._hub(body, headers)
        else:
            raise Refused(401, f"unsigned: {UNSIGNED}")

    def _baton(self, application: str, body: bytes, headers: HookHeaders) -> None:
        timestamp, delivery = headers.timestamp, _delivery_id(DELIVERY, headers.delivery)
        if timestamp is None or not SECONDS.fullmatch(timestamp):
            raise Refused(401, f"{TIMESTAMP}: expected seconds since the epoch (date +%s)")
        expected = baton_signature(self.secret, application, timestamp, delivery, body)
        _compare(SIGNATURE, headers.signature, expected, f"the lines of {_LINES} and the body")
        skew = int(self.clock.time()) - int(timestamp)
        if abs(skew) > WINDOW:
            raise Refused(
                401,
                f"{TIMESTAMP} is {abs(skew)}s {'behind' if skew > 0 else 'ahead of'} this "
                f"server's clock (at most {WINDOW}s either way): sign just before sending",
            )
        self._once(f"delivery {delivery}", said=f"delivery {delivery} was")

    def _hub(self, body: bytes, headers: HookHeaders) -> None:
        delivery = _delivery_id(HUB_DELIVERY, headers.hub_delivery)
        expected = hub_signature(self.secret, body)
        _compare(HUB_SIGNATURE, headers.hub_signature, expected, "the raw body")
        said = f"delivery {delivery} (or this body, signed with {HUB_SIGNATURE} only) was"
        self._once(f"delivery {delivery}", f"body {expected}", said=said)

    def _once(self, *keys: str, said: str) -> None:
        if not self.deliveries.first_time(*keys):
            raise Refused(
                409,
                f"{said} received before: nothing deployed; a retry is a new request (a new "
                "delivery id, signed again)",
            )


_LINES = "POST, the path, the timestamp, the delivery id"
"""What X-Baton-Signature covers besides the body, as a refusal names it."""


def _delivery_id(header: str, value: str | None) -> str:
    if value is None or not DELIVERY_ID.fullmatch(value):
        raise Refused(
            401,
            f"{header}: a new id per request, 8 to 128 letters, digits, '.', '_', ':' or '-' "
            "(openssl rand -hex 16)",
        )
    return value


def _compare(header: str, sent: str | None, expected: str, covering: str) -> None:
    if sent is None or not hmac.compare_digest(sent.strip().encode(), expected.encode()):
        raise Refused(
            401,
            f"wrong {header}: sha256=<hex HMAC-SHA256 of {covering}, with the webhook's "
            "secret>; nothing deployed",
        )
