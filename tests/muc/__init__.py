"""Group chat (XEP-0045) tests, one file per section of the XEP."""
