"""An idle BOSH session keeps only what it still uses (issue 22: BOSH sessions cost 2.7x
Prosody's memory): no XML parser between requests, no negotiation stages once bound;
and it works as before (the next request gets a fresh parser, messages reach it)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from minixmpp.c2s.framed import RELEASED
from tests.c2s.bosh import Bosh
from tests.helpers import close, login

ROOT = Path(__file__).resolve().parent.parent.parent


async def test_an_idle_bound_bosh_session_holds_no_parser_and_no_negotiation_stages(server):
    bosh = Bosh(server)
    await bosh.login("alice", "idle")
    session = server.service("bosh").sessions[bosh.sid]
    xs = session.xs
    assert xs.stream is RELEASED, "no expat parser between requests"
    assert [type(s).__name__ for s in xs.authenticator.stages] == [
        "SMStage", "ClientState", "StanzaChecks"], "only the bound phase's stages"
    # the next request parses with a fresh parser, without restarting the stream
    text = await bosh.send_text("<iq xmlns='jabber:client' type='get' id='p' to='localhost'>"
                                "<ping xmlns='urn:xmpp:ping'/></iq>"
                                "<presence xmlns='jabber:client'/>")
    assert "id='p'" in text and "stream:features" not in text, text
    assert xs.stream is RELEASED
    bob = await login(server, "bob")
    bob.send_message(mto="alice@localhost/idle", mbody="to an idle session", mtype="chat")
    await bosh.receive("to an idle session")
    await close(bob)


@pytest.mark.launch
def test_the_bosh_memory_benchmark_scenario_holds_sessions(tmp_path: Path) -> None:
    """benchmarks.scenarios.bosh_idle (the row beside Prosody's) against the real twistd:
    sessions logged in, bound and holding a request, then let go."""
    code = """
import multiprocessing, sys
from pathlib import Path
from benchmarks import scenarios
from benchmarks.servers import Minixmpp
with Minixmpp(Path(sys.argv[1]), ["bench1", "bench2", "bench3"], False) as server:
    ours, theirs = multiprocessing.get_context("fork").Pipe()
    proc = multiprocessing.get_context("fork").Process(
        target=scenarios.run_bosh_idle, args=(server.http_port, 3, 0, theirs), daemon=True)
    proc.start()
    opened = ours.recv()
    assert opened == {"open": 3, "errors": 0}, opened
    ours.send("close")
    assert ours.recv()[0] == "done"
    proc.join(10)
print("ok")
"""
    result = subprocess.run([sys.executable, "-c", code, str(tmp_path)], cwd=ROOT,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0 and "ok" in result.stdout, result.stderr[-3000:]
