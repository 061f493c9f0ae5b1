"""twistd plugin: ``twistd -n minixmpp``. Discovery stays cheap: nothing is imported here."""

from twisted.application.service import ServiceMaker

minixmpp = ServiceMaker(
    "minixmpp",
    "minixmpp.tap",
    "A small, complete XMPP server for development and tests (push notifications included)",
    "minixmpp",
)
