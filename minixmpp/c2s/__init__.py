"""Client-to-server streams (RFC 6120): stream, STARTTLS, SASL, resource binding."""
