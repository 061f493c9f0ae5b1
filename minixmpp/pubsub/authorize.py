"""Subscription approval (XEP-0060 §8.6): the ``subscribe_authorization`` form the
service sends each owner of an ``authorize`` node, and the owner's answer."""

from __future__ import annotations

import uuid

from twisted.words.protocols.jabber import jid
from twisted.words.xish import domish
from wokkel import data_form

from minixmpp import addressing, ns
from minixmpp.forms import form_type, multi_values


def request(service: str, owner: str, node: str, subscriber: str) -> domish.Element:
    """§8.6 example 178: the message asking ``owner`` about ``subscriber``."""
    message = domish.Element((None, "message"))
    message["from"], message["to"], message["id"] = service, owner, uuid.uuid4().hex[:12]
    form = data_form.Form("form", title="PubSub subscriber request",
                          instructions=["To approve this entity's subscription request, "
                                        "submit the form with pubsub#allow true."],
                          formNamespace=ns.SUBSCRIBE_AUTHORIZATION)
    form.addField(data_form.Field("text-single", var="pubsub#node", value=node,
                                  label="Node ID"))
    form.addField(data_form.Field("jid-single", var="pubsub#subscriber_jid",
                                  value=jid.JID(subscriber), label="Subscriber Address"))
    form.addField(data_form.Field("boolean", var="pubsub#allow", value=False,
                                  label="Allow this JID to subscribe to this pubsub node?"))
    message.addChild(form.toElement())
    return message


def answer(message: domish.Element) -> tuple[str, str, bool] | None:
    """(node, subscriber JID, allowed) of a submitted form; None for anything else (a
    cancelled form leaves the request pending, §8.6)."""
    for x in message.elements(ns.X_DATA, "x"):
        if form_type(x) != ns.SUBSCRIBE_AUTHORIZATION or x.getAttribute("type") != "submit":
            continue
        values = multi_values(x)
        node = (values.get("pubsub#node") or [""])[0]
        subscriber = (values.get("pubsub#subscriber_jid") or [""])[0]
        allow = (values.get("pubsub#allow") or [""])[0].strip().lower() in ("1", "true")
        try:
            subscriber = addressing.parse(subscriber).full()
        except jid.InvalidFormat:
            return None
        return (node, subscriber, allow) if node else None
    return None
