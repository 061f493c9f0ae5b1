"""SASL upgrade tasks (XEP-0480) over SASL2, with a raw client written here (no library
has them): an account kept by an older minixmpp in a ``--data-dir`` (SCRAM-SHA-1 and
-256 keys, no -512) logs in with SCRAM-SHA-256, asks for ``UPGR-SCRAM-SHA-512``, gets
``<continue/>``, a salt, sends its SaltedPassword, and from then on logs in with
SCRAM-SHA-512 too; the new keys are in the database."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import sqlite3
from pathlib import Path

import pytest
from scramp import ScramClient

from minixmpp.storage import open_storage
from minixmpp.storage.interfaces import ScramCredentials
from minixmpp.storage.memory import MemoryAccountStore
from tests.helpers import close, login
from tests.rawtext import Raw

SASL2 = "urn:xmpp:sasl:2"
UPGRADE = "urn:xmpp:sasl:upgrade:0"
SCRAM_UPGRADE = "urn:xmpp:scram-upgrade:0"


def b64(data: bytes | str) -> str:
    return base64.b64encode(data.encode() if isinstance(data, str) else data).decode()


def legacy_account(data_dir: Path, user: str, password: str) -> None:
    """An account as an older minixmpp stored it: no SCRAM-SHA-512 keys."""
    storage = open_storage(str(data_dir))
    storage.accounts.create(user, password)
    storage.close()
    db = sqlite3.connect(data_dir / "minixmpp.sqlite3")
    creds = json.loads(db.execute("SELECT credentials FROM accounts WHERE user = ?",
                                  (user,)).fetchone()[0])
    del creds["SCRAM-SHA-512"]
    db.execute("UPDATE accounts SET credentials = ? WHERE user = ?", (json.dumps(creds), user))
    db.commit()
    db.close()


def stored_hashes(data_dir: Path, user: str) -> set[str]:
    db = sqlite3.connect(data_dir / "minixmpp.sqlite3")
    try:
        row = db.execute("SELECT credentials FROM accounts WHERE user = ?", (user,)).fetchone()
    finally:
        db.close()
    return set(json.loads(row[0]))


async def connect(server) -> tuple[Raw, str]:
    raw = await Raw.connect(server)
    features = await raw.open_stream()
    raw.buffer = b""
    return raw, features


async def scram_until(raw: Raw, user: str, password: str, mechanism: str,
                      extra: str = "") -> tuple[str, ScramClient]:
    """SCRAM over SASL2 up to the server's answer to the client-final message."""
    client = ScramClient([mechanism], user, password)
    raw.send(f"<authenticate xmlns='{SASL2}' mechanism='{mechanism}'><initial-response>"
             f"{b64(client.get_client_first())}</initial-response>{extra}</authenticate>")
    text = await raw.read_until("</challenge>|</failure>")
    challenge = re.search(r"<challenge xmlns='urn:xmpp:sasl:2'>([^<]+)</challenge>", text)
    client.set_server_first(base64.b64decode(challenge.group(1)).decode())
    raw.buffer = b""
    raw.send(f"<response xmlns='{SASL2}'>{b64(client.get_client_final())}</response>")
    text = await raw.read_until("</success>|</failure>|</continue>")
    raw.buffer = b""
    return text, client


def asked(*tasks: str) -> str:
    return "".join(f"<upgrade xmlns='{UPGRADE}'>{t}</upgrade>" for t in tasks)


async def upgrade_to_512(raw: Raw, password: str) -> str:
    """§3: <next/>, the salt, our SaltedPassword; the server's final answer."""
    raw.send(f"<next xmlns='{SASL2}' task='UPGR-SCRAM-SHA-512'/>")
    text = await raw.read_until("</task-data>|</failure>")
    found = re.search(rf"<salt xmlns='{SCRAM_UPGRADE}' iterations='(\d+)'>([^<]+)</salt>", text)
    assert found, text
    iterations, salt = int(found.group(1)), base64.b64decode(found.group(2))
    salted = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, iterations)
    raw.buffer = b""
    raw.send(f"<task-data xmlns='{SASL2}'><hash xmlns='{SCRAM_UPGRADE}'>{b64(salted)}</hash>"
             "</task-data>")
    return await raw.read_until("</success>|</failure>|</continue>")


async def test_the_features_offer_the_upgrades_to_everyone(server) -> None:
    raw, features = await connect(server)
    raw.close()
    auth = re.search(r"<authentication xmlns='urn:xmpp:sasl:2'>.*?</authentication>",
                     features).group(0)
    assert f"<upgrade xmlns='{UPGRADE}'>UPGR-SCRAM-SHA-512</upgrade>" in auth
    assert f"<upgrade xmlns='{UPGRADE}'>UPGR-SCRAM-SHA-256</upgrade>" in auth
    assert "UPGR-SCRAM-SHA-1" not in auth and "-PLUS</upgrade>" not in auth


@pytest.mark.server_options(disable=["scram-sha-512"])
async def test_no_upgrade_to_a_mechanism_that_is_off(server) -> None:
    raw, features = await connect(server)
    raw.close()
    assert "UPGR-SCRAM-SHA-512" not in features and "UPGR-SCRAM-SHA-256" in features


async def test_a_legacy_account_upgrades_to_scram_sha_512(server_factory, tmp_path) -> None:
    legacy_account(tmp_path, "dave", "dave-pw")
    server = server_factory(data_dir=str(tmp_path))
    # before: SCRAM-SHA-512 fails like a wrong password
    raw, _ = await connect(server)
    client = ScramClient(["SCRAM-SHA-512"], "dave", "dave-pw")
    raw.send(f"<authenticate xmlns='{SASL2}' mechanism='SCRAM-SHA-512'><initial-response>"
             f"{b64(client.get_client_first())}</initial-response></authenticate>")
    text = await raw.read_until("</challenge>")
    client.set_server_first(base64.b64decode(re.search(
        r"<challenge xmlns='urn:xmpp:sasl:2'>([^<]+)<", text).group(1)).decode())
    raw.buffer = b""
    raw.send(f"<response xmlns='{SASL2}'>{b64(client.get_client_final())}</response>")
    assert "<not-authorized" in await raw.read_until("</failure>")
    raw.close()
    # the upgrade: SCRAM-SHA-256 asking for UPGR-SCRAM-SHA-512
    raw, _ = await connect(server)
    text, client = await scram_until(raw, "dave", "dave-pw", "SCRAM-SHA-256",
                                     asked("UPGR-SCRAM-SHA-512", "UPGR-SCRAM-SHA-256"))
    assert "<continue xmlns='urn:xmpp:sasl:2'>" in text, text
    assert "<task>UPGR-SCRAM-SHA-512</task>" in text  # -256 keys exist: not asked for
    data = re.search(r"<additional-data>([^<]+)</additional-data>", text).group(1)
    client.set_server_final(base64.b64decode(data).decode())  # the server proved itself
    assert not server.sessions.of("dave")
    success = await upgrade_to_512(raw, "dave-pw")
    assert "<success xmlns='urn:xmpp:sasl:2'>" in success, success
    assert "<authorization-identifier>dave@localhost</authorization-identifier>" in success
    assert "<additional-data>" not in success  # it came with <continue/>
    raw.send("<iq type='set' id='b1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></iq>")
    assert "dave@localhost/" in await raw.read_until("</iq>")
    raw.close()
    assert "SCRAM-SHA-512" in stored_hashes(tmp_path, "dave")
    # after: slixmpp logs in with SCRAM-SHA-512; the next SASL2 login has no task
    dave = await login(server, "dave", "dave-pw", mech="SCRAM-SHA-512")
    await close(dave)
    raw, _ = await connect(server)
    text, _ = await scram_until(raw, "dave", "dave-pw", "SCRAM-SHA-256",
                                asked("UPGR-SCRAM-SHA-512"))
    raw.close()
    assert "<success" in text and "<continue" not in text


async def test_an_account_with_every_key_gets_no_task(server) -> None:
    raw, _ = await connect(server)
    text, _ = await scram_until(raw, "alice", "alice", "SCRAM-SHA-1",
                                asked("UPGR-SCRAM-SHA-512", "UPGR-SCRAM-SHA-256"))
    raw.close()
    assert "<success" in text and "<continue" not in text


async def test_task_refusals_store_nothing(server_factory, tmp_path) -> None:
    legacy_account(tmp_path, "dave", "dave-pw")
    server = server_factory(data_dir=str(tmp_path))
    # the wrong task
    raw, _ = await connect(server)
    text, _ = await scram_until(raw, "dave", "dave-pw", "SCRAM-SHA-256",
                                asked("UPGR-SCRAM-SHA-512"))
    assert "<continue" in text
    raw.send(f"<next xmlns='{SASL2}' task='UPGR-SCRAM-SHA-256'/>")
    assert "<malformed-request" in await raw.read_until("</failure>")
    raw.close()
    # a hash of the wrong size
    raw, _ = await connect(server)
    await scram_until(raw, "dave", "dave-pw", "SCRAM-SHA-256", asked("UPGR-SCRAM-SHA-512"))
    raw.send(f"<next xmlns='{SASL2}' task='UPGR-SCRAM-SHA-512'/>")
    await raw.read_until("</task-data>")
    raw.send(f"<task-data xmlns='{SASL2}'><hash xmlns='{SCRAM_UPGRADE}'>{b64(b'x' * 20)}"
             "</hash></task-data>")
    assert "<malformed-request" in await raw.read_until("</failure>")
    raw.close()
    # a new <authenticate/> after <continue/> is a stream error (XEP-0388 §4)
    raw, _ = await connect(server)
    await scram_until(raw, "dave", "dave-pw", "SCRAM-SHA-256", asked("UPGR-SCRAM-SHA-512"))
    raw.send(f"<authenticate xmlns='{SASL2}' mechanism='PLAIN'/>")
    assert "<policy-violation" in await raw.read_to_close()
    assert "SCRAM-SHA-512" not in stored_hashes(tmp_path, "dave")


@pytest.mark.parametrize("backend", ["memory", "sqlite"])
def test_set_scram_adds_one_hash_beside_the_others(backend, tmp_path) -> None:
    accounts = (MemoryAccountStore() if backend == "memory"
                else open_storage(str(tmp_path)).accounts)
    accounts.create("erin", "pw")
    sha1 = accounts.scram("erin", "SCRAM-SHA-1")
    new = ScramCredentials(b"salt" * 4, b"s" * 64, b"k" * 64, 4096)
    accounts.set_scram("erin", "SCRAM-SHA-512", new)
    assert accounts.scram("erin", "SCRAM-SHA-512") == new
    assert accounts.scram("erin", "SCRAM-SHA-1") == sha1
    assert accounts.check_password("erin", "pw")
