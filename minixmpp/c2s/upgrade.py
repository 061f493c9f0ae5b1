"""SASL upgrade tasks (XEP-0480) in SASL2's ``<continue/>`` (XEP-0388 §2.6.2), as
ejabberd 24.10's mod_scram_upgrade: an account whose stored keys lack a SCRAM hash (made
by an older minixmpp, docs/architecture.md "Passwords") gets them from the client, which
has the password, right after it logged in with another mechanism.

The stream features offer ``UPGR-SCRAM-SHA-512`` and ``UPGR-SCRAM-SHA-256`` (of the SCRAM
mechanisms that are on; §2.1: no ``-PLUS`` names), whoever connects, so they say nothing
about any account. A task the client asks for in ``<authenticate/>`` (§2.2) is run only
when the account lacks those keys; otherwise the login succeeds at once.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import os
from collections.abc import Collection

from twisted.words.xish import domish

from minixmpp import ns
from minixmpp.c2s.sasl import HASHES, SASLFailure
from minixmpp.storage.interfaces import IAccountStore, ScramCredentials
from minixmpp.storage.memory import ITERATIONS

#: task name → the SCRAM mechanism whose keys it stores (§3), strongest first
TASKS = {"UPGR-SCRAM-SHA-512": "SCRAM-SHA-512", "UPGR-SCRAM-SHA-256": "SCRAM-SHA-256"}


def offered(mechanisms: Collection[str]) -> list[str]:
    """The tasks for the SCRAM mechanisms that may be used (``--disable``, ``--auth``)."""
    return [task for task, mechanism in TASKS.items() if mechanism in mechanisms]


def features(mechanisms: Collection[str]) -> list[domish.Element]:
    """§2.1: ``<upgrade xmlns='urn:xmpp:sasl:upgrade:0'>`` children of
    ``<authentication/>``."""
    out = []
    for task in offered(mechanisms):
        element = domish.Element((ns.SASL_UPGRADE, "upgrade"))
        element.addContent(task)
        out.append(element)
    return out


def requested(authenticate: domish.Element, mechanisms: Collection[str]) -> list[str]:
    """§2.2: the offered tasks the client lists in ``<authenticate/>``, in its order."""
    tasks = offered(mechanisms)
    wanted = ["".join(str(c) for c in child.children).strip()
              for child in authenticate.elements()
              if child.uri == ns.SASL_UPGRADE and child.name == "upgrade"]
    return list(dict.fromkeys(task for task in wanted if task in tasks))


def _child(element: domish.Element, uri: str, name: str) -> domish.Element | None:
    return next((c for c in element.elements() if c.uri == uri and c.name == name), None)


class Upgrade:
    """The tasks one login still has to do, one ``<continue/>`` each (§2.3, §3)."""

    def __init__(self, accounts: IAccountStore, user: str, tasks: list[str]) -> None:
        self.accounts = accounts
        self.user = user
        #: the requested tasks whose keys the account lacks, in the client's order
        self.pending = [task for task in tasks if accounts.scram(user, TASKS[task]) is None]
        self.current: str | None = None
        self.salt: bytes | None = None

    def continue_element(self, additional_data: bytes | None) -> domish.Element:
        """``<continue/>`` with the next task alone (§2.2), and the mechanism's additional
        data the first time (XEP-0388 §2.6.2)."""
        self.current, self.salt = self.pending.pop(0), None
        element = domish.Element((ns.SASL2, "continue"))
        if additional_data:
            element.addElement("additional-data",
                               content=base64.b64encode(additional_data).decode())
        element.addElement("tasks").addElement("task", content=self.current)
        element.addElement("text", content=f"this account has no {TASKS[self.current]} "
                           "keys yet: the client may add them")
        return element

    def next(self, element: domish.Element) -> domish.Element:
        """``<next task/>``: §3's ``<task-data><salt iterations/></task-data>`` for it."""
        if element.getAttribute("task") != self.current or self.salt is not None:
            raise SASLFailure("malformed-request", f"the task to do is {self.current}")
        self.salt = os.urandom(16)
        data = domish.Element((ns.SASL2, "task-data"))
        salt = data.addElement((ns.SCRAM_UPGRADE, "salt"),
                               content=base64.b64encode(self.salt).decode())
        salt["iterations"] = str(ITERATIONS)
        return data

    def task_data(self, element: domish.Element) -> None:
        """``<task-data><hash/></task-data>``: the client's SaltedPassword (RFC 5802 §3)
        for our salt, from which the keys are made and stored (the password never
        reaches us); then the task is done."""
        assert self.current is not None
        mechanism = TASKS[self.current]
        digest = HASHES[mechanism]
        given = _child(element, ns.SCRAM_UPGRADE, "hash")
        if self.salt is None or given is None:
            raise SASLFailure("malformed-request", "expected <hash/> after <next/>")
        try:
            salted = base64.b64decode("".join(str(c) for c in given.children).strip(),
                                      validate=True)
        except (binascii.Error, ValueError):
            raise SASLFailure("incorrect-encoding") from None
        if len(salted) != digest().digest_size:
            raise SASLFailure("malformed-request", f"not a {mechanism} SaltedPassword")
        client_key = hmac.new(salted, b"Client Key", digest).digest()
        server_key = hmac.new(salted, b"Server Key", digest).digest()
        self.accounts.set_scram(self.user, mechanism, ScramCredentials(
            self.salt, digest(client_key).digest(), server_key, ITERATIONS))
        self.current = self.salt = None
