"""The HTTP listener (minixmpp/web/): control API, status page, host-meta, web clients."""
