"""A push enable or disable before authentication, answered as the profile says.

By default (and as ejabberd does) any stanza before SASL success ends the stream with
``not-authorized`` (RFC 6120 §6.4.6 territory, the c2s stream's own rule). Prosody
answers the IQ with a ``service-unavailable`` error instead and keeps the stream; the
``prosody`` profile adds this stage in front of that rule (docs/push.md, "Profiles").
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from twisted.words.protocols.jabber import error
from twisted.words.xish import domish

from minixmpp import ns
from minixmpp.c2s.stage import UNAUTHENTICATED, Stage
from minixmpp.push.profiles import Profile


def before_auth_stage(profile: Profile) -> Callable[[Any], Stage] | None:
    """The c2s stage for this profile, or None when the stream's default applies."""
    if profile.enable_before_auth == "not-authorized":
        return None
    condition = profile.enable_before_auth

    class PushBeforeAuth(Stage):
        phases: ClassVar[frozenset[str]] = frozenset({UNAUTHENTICATED})
        order: ClassVar[int] = 80

        def receive(self, element: domish.Element) -> bool:
            if element.name != "iq" or element.getAttribute("type") not in ("get", "set"):
                return False
            if not any(c.uri == ns.PUSH for c in element.elements()):
                return False
            reply = error.StanzaError(condition).toResponse(element)
            reply.attributes.pop("from", None)  # an unauthenticated client has no JID
            self.auth.send(reply)
            return True

    return PushBeforeAuth
