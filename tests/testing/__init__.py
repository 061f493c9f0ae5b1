"""The pytest plugin (minixmpp/testing/), the command line, the benchmarks smoke tests and
this suite's own tools."""
