"""Every XML namespace minixmpp speaks, defined once (names follow the specs' registries).

``from minixmpp import ns`` and write ``ns.PING``; a module never spells a namespace string
itself. Grouped by the document that defines it.
"""

from __future__ import annotations

# -- RFC 6120 / RFC 6121 / RFC 7395 --------------------------------------------------------
CLIENT = "jabber:client"
COMPONENT = "jabber:component:accept"  # XEP-0114
STREAMS = "http://etherx.jabber.org/streams"
STREAM_ERRORS = "urn:ietf:params:xml:ns:xmpp-streams"
STANZAS = "urn:ietf:params:xml:ns:xmpp-stanzas"
TLS = "urn:ietf:params:xml:ns:xmpp-tls"
SASL = "urn:ietf:params:xml:ns:xmpp-sasl"
BIND = "urn:ietf:params:xml:ns:xmpp-bind"
SESSION = "urn:ietf:params:xml:ns:xmpp-session"
FRAMING = "urn:ietf:params:xml:ns:xmpp-framing"
ROSTER = "jabber:iq:roster"
ROSTERVER = "urn:xmpp:features:rosterver"
PREAPPROVAL = "urn:xmpp:features:pre-approval"

# -- stream negotiation extensions ---------------------------------------------------------
SM = "urn:xmpp:sm:3"  # XEP-0198
CSI = "urn:xmpp:csi:0"  # XEP-0352
SASL2 = "urn:xmpp:sasl:2"  # XEP-0388
SASL_UPGRADE = "urn:xmpp:sasl:upgrade:0"  # XEP-0480
SCRAM_UPGRADE = "urn:xmpp:scram-upgrade:0"  # XEP-0480 §3
BIND2 = "urn:xmpp:bind:0"  # XEP-0386
FAST = "urn:xmpp:fast:0"  # XEP-0484
SASL_CB = "urn:xmpp:sasl-cb:0"  # XEP-0440
STREAM_LIMITS = "urn:xmpp:stream-limits:0"  # XEP-0478
REGISTER_FEATURE = "http://jabber.org/features/iq-register"  # XEP-0077 §4
HTTPBIND = "http://jabber.org/protocol/httpbind"  # XEP-0124
XBOSH = "urn:xmpp:xbosh"  # XEP-0206

# -- discovery and capabilities ------------------------------------------------------------
DISCO_INFO = "http://jabber.org/protocol/disco#info"  # XEP-0030
DISCO_ITEMS = "http://jabber.org/protocol/disco#items"
CAPS = "http://jabber.org/protocol/caps"  # XEP-0115
SERVERINFO = "http://jabber.org/network/serverinfo"  # XEP-0157
EXTDISCO = "urn:xmpp:extdisco:2"  # XEP-0215
SOS = "urn:xmpp:sos:0"  # XEP-0455
X_DATA = "jabber:x:data"  # XEP-0004
COMMANDS = "http://jabber.org/protocol/commands"  # XEP-0050
ADMIN = "http://jabber.org/protocol/admin"  # XEP-0133 (FORM_TYPE; nodes are ADMIN#name)
X_DATA_VALIDATE = "http://jabber.org/protocol/xdata-validate"  # XEP-0122

# -- IM extensions -------------------------------------------------------------------------
PING = "urn:xmpp:ping"  # XEP-0199
VERSION = "jabber:iq:version"  # XEP-0092
TIME = "urn:xmpp:time"  # XEP-0202
LAST = "jabber:iq:last"  # XEP-0012
REGISTER = "jabber:iq:register"  # XEP-0077
PRIVATE = "jabber:iq:private"  # XEP-0049
VCARD = "vcard-temp"  # XEP-0054
VCARD_UPDATE = "vcard-temp:x:update"  # XEP-0153
BLOCKING = "urn:xmpp:blocking"  # XEP-0191
BLOCKING_ERRORS = "urn:xmpp:blocking:errors"
CARBONS = "urn:xmpp:carbons:2"  # XEP-0280
CARBONS_RULES = "urn:xmpp:carbons:rules:0"  # XEP-0280 §6.2
FORWARD = "urn:xmpp:forward:0"  # XEP-0297
HINTS = "urn:xmpp:hints"  # XEP-0334
DELAY = "urn:xmpp:delay"  # XEP-0203
CHATSTATES = "http://jabber.org/protocol/chatstates"  # XEP-0085
RECEIPTS = "urn:xmpp:receipts"  # XEP-0184
CHAT_MARKERS = "urn:xmpp:chat-markers:0"  # XEP-0333
MAM = "urn:xmpp:mam:2"  # XEP-0313 (and XEP-0441 preferences)
MAM_EXTENDED = MAM + "#extended"  # XEP-0313 §7: before-id, after-id, ids, flip-page, metadata
SID = "urn:xmpp:sid:0"  # XEP-0359
RSM = "http://jabber.org/protocol/rsm"  # XEP-0059
UPLOAD = "urn:xmpp:http:upload:0"  # XEP-0363
BYTESTREAMS = "http://jabber.org/protocol/bytestreams"  # XEP-0065
JINGLE_MESSAGE = "urn:xmpp:jingle-message:0"  # XEP-0353
JINGLE_RTP = "urn:xmpp:jingle:apps:rtp:1"  # XEP-0167
FALLBACK = "urn:xmpp:fallback:0"  # XEP-0428
FASTEN = "urn:xmpp:fasten:0"  # XEP-0422
SERVER = "jabber:server"  # RFC 6120 §4.8.3 (server-to-server)
ENCRYPTED = "jabber:x:encrypted"  # XEP-0027
OMEMO_LEGACY = "eu.siacs.conversations.axolotl"  # XEP-0384 0.3
OMEMO = "urn:xmpp:omemo:2"  # XEP-0384
OPENPGP = "urn:xmpp:openpgp:0"  # XEP-0373

# -- publish-subscribe, PEP and what is built on it ----------------------------------------
PUBSUB = "http://jabber.org/protocol/pubsub"  # XEP-0060
PUBSUB_EVENT = PUBSUB + "#event"
PUBSUB_OWNER = PUBSUB + "#owner"
PUBSUB_ERRORS = PUBSUB + "#errors"
PUBLISH_OPTIONS = PUBSUB + "#publish-options"
NODE_CONFIG = PUBSUB + "#node_config"
SUBSCRIBE_OPTIONS = PUBSUB + "#subscribe_options"
SUBSCRIBE_AUTHORIZATION = PUBSUB + "#subscribe_authorization"
BOOKMARKS = "urn:xmpp:bookmarks:1"  # XEP-0402
BOOKMARKS_LEGACY = "storage:bookmarks"  # XEP-0048
AVATAR_DATA = "urn:xmpp:avatar:data"  # XEP-0084
AVATAR_METADATA = "urn:xmpp:avatar:metadata"
PEP_VCARD_CONVERSION = "urn:xmpp:pep-vcard-conversion:0"  # XEP-0398

# -- push (XEP-0357) and Tigase's extensions -----------------------------------------------
PUSH = "urn:xmpp:push:0"
PUSH_SUMMARY = "urn:xmpp:push:summary"
PUSH_AWAY = "tigase:push:away:0"
PUSH_PRIORITY = "tigase:push:priority:0"
PUSH_MUTED = "tigase:push:filter:muted:0"
PUSH_GROUPCHAT = "tigase:push:filter:groupchat:0"
PUSH_IGNORE_UNKNOWN = "tigase:push:filter:ignore-unknown:0"
PUSH_ENCRYPT = "tigase:push:encrypt:0"
PUSH_ENCRYPT_AES_128_GCM = "tigase:push:encrypt:aes-128-gcm"
PUSH_JINGLE = "tigase:push:jingle:0"
PUSH_ACCOUNT_EVENT = "http://tigase.org/protocol/account#event"  # Tigase's account removal

# -- group chat (XEP-0045) and its companions ----------------------------------------------
MUC = "http://jabber.org/protocol/muc"
MUC_USER = MUC + "#user"
MUC_ADMIN = MUC + "#admin"
MUC_OWNER = MUC + "#owner"
MUC_ROOMCONFIG = MUC + "#roomconfig"
MUC_ROOMINFO = MUC + "#roominfo"
MUC_REQUEST = MUC + "#request"
MUC_REGISTER = MUC + "#register"
MUC_STABLE_ID = MUC + "#stable_id"  # §7.4: the room reflects a message's id
MUC_SELF_PING = MUC + "#self-ping-optimization"  # XEP-0410 §3.2
CONFERENCE = "jabber:x:conference"  # XEP-0249
OCCUPANT_ID = "urn:xmpp:occupant-id:0"  # XEP-0421
MODERATE = "urn:xmpp:message-moderate:1"  # XEP-0425
MODERATE_0 = "urn:xmpp:message-moderate:0"
RETRACT = "urn:xmpp:message-retract:1"  # XEP-0424
RETRACT_0 = "urn:xmpp:message-retract:0"
TIGASE_MUC = "http://tigase.org/protocol/muc"
CHANNEL_SEARCH_BASE = "urn:xmpp:channel-search:0"  # XEP-0433
CHANNEL_SEARCH = CHANNEL_SEARCH_BASE + ":search"
CHANNEL_SEARCH_PARAMS = CHANNEL_SEARCH_BASE + ":search-params"
CHANNEL_SEARCH_ORDER = CHANNEL_SEARCH_BASE + ":order"
CHANNEL_SEARCH_ERROR = CHANNEL_SEARCH_BASE + ":error"
CHANNEL_SEARCH_ANONYMITY = CHANNEL_SEARCH_BASE + ":anonymity"

# -- XEP-0156 link relations (host-meta): not XML namespaces, but XMPP URNs all the same ----
ALT_CONNECTIONS_XBOSH = "urn:xmpp:alt-connections:xbosh"
ALT_CONNECTIONS_WEBSOCKET = "urn:xmpp:alt-connections:websocket"
