"""HTTP File Upload (minixmpp/upload/, XEP-0363)."""
