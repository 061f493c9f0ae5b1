"""Personal eventing (minixmpp/pep/, XEP-0163) and what is built on it."""
