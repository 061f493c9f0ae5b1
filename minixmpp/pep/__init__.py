"""Personal Eventing Protocol (XEP-0163) on every account's bare JID, and what is built
on it: private XML (XEP-0049), bookmarks (XEP-0402/XEP-0048), vCard-temp (XEP-0054) and
avatars (XEP-0084, XEP-0398, XEP-0153).

Three layers, as in Idavoll: wokkel's ``PubSubService`` parses (``service.py``), the PEP
resource decides (``resource.py``: ownership, access models, +notify recipients) and
storage keeps (``IPepStore``).
"""

NS_CAPS = "http://jabber.org/protocol/caps"
NS_PUBLISH_OPTIONS = "http://jabber.org/protocol/pubsub#publish-options"
NS_PUBSUB_ERRORS = "http://jabber.org/protocol/pubsub#errors"
