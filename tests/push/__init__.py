"""Push notifications (minixmpp/push/, XEP-0357): enabling, the rules, what a notification
says, errors, profiles, Tigase's extensions, external App Servers."""
