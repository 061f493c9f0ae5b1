"""What a command is, as plain values: the protocol edge (``protocol.py``) runs it.

A :class:`Command` has a node, a name, who may run it, and at most one stage with a form:
without ``form`` it completes at once; with one, the requester gets the form and
submits it. ``run(requester, values)`` gets the submitted fields as lists of strings
(``forms.multi_values``: clients send them untyped) and returns :class:`Done`, or raises
:class:`Refused` (the edge turns it into a stanza error). :class:`BadPayload` is a form
that cannot be accepted as submitted (XEP-0050 §4.6 ``bad-payload``): the session stays
open for a corrected form.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from twisted.words.protocols.jabber.jid import JID
from twisted.words.xish import domish

Values = Mapping[str, Sequence[str]]


@dataclass(frozen=True)
class Note:
    """XEP-0050 §4.5 ``<note/>``: ``info``, ``warn`` or ``error``."""

    type: str
    text: str


@dataclass(frozen=True)
class Done:
    """A completed command (§3.4): its notes and a result form, if any. A command that
    completes but fails says so in a note of type ``error`` (§4.4)."""

    notes: tuple[Note, ...] = ()
    result: domish.Element | None = None


class Refused(Exception):
    """The command cannot run: ``condition`` (RFC 6120 §8.3.3) with ``text``; the
    session ends (XEP-0133 §5: e.g. ``conflict`` for an account that exists)."""

    def __init__(self, condition: str, text: str, app: str | None = None,
                 kind: str | None = None) -> None:
        super().__init__(condition, text)
        self.condition, self.text, self.app, self.kind = condition, text, app, kind


class BadPayload(Refused):
    """The submitted form lacks a required field or has a value that cannot be used
    (XEP-0050 §4.6 ``bad-request`` + ``bad-payload``, type modify)."""

    def __init__(self, text: str) -> None:
        super().__init__("bad-request", text, "bad-payload", "modify")


@dataclass(frozen=True)
class Command:
    node: str
    name: str
    run: Callable[[JID, Values], Done]
    #: the form of its one stage (a fresh element each time); None: it runs at once
    form: Callable[[], domish.Element] | None = None
    #: only the ``--admin`` accounts may see and run it (XEP-0133 §6)
    admin: bool = False


# -- reading submitted values -----------------------------------------------------------

def single(values: Values, var: str, *, required: bool = False) -> str:
    """The one value of ``var`` (several joined by newlines, as text-multi), stripped;
    ``""`` when absent, or :class:`BadPayload` if it is required."""
    value = "\n".join(values.get(var, ())).strip()
    if required and not value:
        raise BadPayload(f"{var}: a value is required")
    return value


def several(values: Values, var: str, *, required: bool = False) -> list[str]:
    """The non-empty values of a ``*-multi`` field, in order, without repeats."""
    found = list(dict.fromkeys(v.strip() for v in values.get(var, ()) if v.strip()))
    if required and not found:
        raise BadPayload(f"{var}: at least one value is required")
    return found
