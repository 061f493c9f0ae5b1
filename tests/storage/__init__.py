"""Storage (minixmpp/storage/): every backend, and state that survives a restart."""
