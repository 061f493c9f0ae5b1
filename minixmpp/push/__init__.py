"""Push notifications (XEP-0357) with the Tigase AWAY/XA extension (tigase:push:away:0)."""

NS_PUSH = "urn:xmpp:push:0"
NS_PUSH_AWAY = "tigase:push:away:0"
NS_SUMMARY = "urn:xmpp:push:summary"
NS_PUBLISH_OPTIONS = "http://jabber.org/protocol/pubsub#publish-options"
