"""Client connections (minixmpp/c2s/): streams, STARTTLS and Direct TLS, SASL, SASL2/FAST,
SCRAM-PLUS, limits, stream management, BOSH, WebSocket, hostile input, real clients."""
