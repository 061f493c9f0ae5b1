"""Instant messaging (minixmpp/im/): messages, presence, roster, carbons and CSI, MAM,
blocking, registration, discovery and the small things a server answers itself."""
