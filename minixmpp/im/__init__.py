"""Instant messaging (RFC 6121) and server-side IQ handlers, one concern per module."""
