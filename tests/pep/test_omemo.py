"""OMEMO-readiness (XEP-0384 node and payload shapes): two devices of alice, one of bob,
each a slixmpp client; no OMEMO library needed."""

from __future__ import annotations

from slixmpp.xmlstream import ElementBase

from tests.helpers import barrier, close
from tests.pep.helpers import ids, notified, options, pep_client

AXOLOTL = "eu.siacs.conversations.axolotl"
DEVICELIST = f"{AXOLOTL}.devicelist"
OMEMO2 = "urn:xmpp:omemo:2"


def devicelist(*devices: int) -> ElementBase:
    import xml.etree.ElementTree as ET

    e = ET.Element(f"{{{AXOLOTL}}}list")
    for d in devices:
        ET.SubElement(e, f"{{{AXOLOTL}}}device", id=str(d))
    return ElementBase(e)


def bundle(device: int) -> ElementBase:
    import xml.etree.ElementTree as ET

    b = ET.Element(f"{{{AXOLOTL}}}bundle")
    ET.SubElement(b, f"{{{AXOLOTL}}}signedPreKeyPublic", signedPreKeyId="1").text = "BQ=="
    ET.SubElement(b, f"{{{AXOLOTL}}}signedPreKeySignature").text = "c2ln"
    ET.SubElement(b, f"{{{AXOLOTL}}}identityKey").text = f"aWQ{device}"
    prekeys = ET.SubElement(b, f"{{{AXOLOTL}}}prekeys")
    for i in range(1, 4):
        ET.SubElement(prekeys, f"{{{AXOLOTL}}}preKeyPublic", preKeyId=str(i)).text = "BQ=="
    return ElementBase(b)


def device_ids(item) -> list[str]:
    return [d.get("id") for d in item["payload"].findall(f"{{{AXOLOTL}}}device")]


async def test_omemo_devicelist_and_bundles_for_two_devices_and_a_stranger(server) -> None:
    phone = await pep_client(server, "alice", "phone", interests=(DEVICELIST,))
    laptop = await pep_client(server, "alice", "laptop", interests=(DEVICELIST,))
    bob = await pep_client(server, "bob", interests=(DEVICELIST,))  # no subscription
    open_ = options({"pubsub#access_model": "open"})
    pep = phone["xep_0163"]
    await pep.publish(devicelist(1001), node=DEVICELIST, id="current", options=open_)
    await pep.publish(bundle(1001), node=f"{AXOLOTL}.bundles:1001", id="current",
                          options=open_)
    # alice's other device hears of the device list through +notify.
    event = await notified(laptop)
    assert event["pubsub_event"]["items"]["node"] == DEVICELIST
    assert device_ids(event["pubsub_event"]["items"]["item"]) == ["1001"]
    # The laptop adds itself; the phone hears of it.
    await laptop["xep_0163"].publish(devicelist(1001, 1002), node=DEVICELIST,
                                         id="current", options=open_)
    await laptop["xep_0163"].publish(bundle(1002), node=f"{AXOLOTL}.bundles:1002",
                                         id="current", options=open_)
    latest = await notified(phone, count=2)
    assert device_ids(latest["pubsub_event"]["items"]["item"]) == ["1001", "1002"]
    # bob, without any subscription, fetches the list and a bundle.
    devices = await bob["xep_0060"].get_items("alice@localhost", DEVICELIST)
    assert ids(devices) == ["current"]
    assert device_ids(list(devices["pubsub"]["items"])[0]) == ["1001", "1002"]
    got = await bob["xep_0060"].get_items("alice@localhost", f"{AXOLOTL}.bundles:1002",
                                              max_items=1)
    payload = list(got["pubsub"]["items"])[0]["payload"]
    assert payload.tag == f"{{{AXOLOTL}}}bundle"
    assert payload.findtext(f"{{{AXOLOTL}}}identityKey") == "aWQ1002"
    assert len(payload.find(f"{{{AXOLOTL}}}prekeys")) == 3
    # No presence subscription: bob gets no notification pushed to him.
    await barrier(bob)
    assert bob.events == []
    await close(phone, laptop, bob)


async def test_omemo_2_bundles_are_one_node_with_an_item_per_device(server) -> None:
    phone = await pep_client(server, "alice", "phone")
    bob = await pep_client(server, "bob")
    import xml.etree.ElementTree as ET

    opts = options({"pubsub#access_model": "open", "pubsub#max_items": "max"})
    for device in ("11", "22"):
        b = ET.Element(f"{{{OMEMO2}}}bundle")
        ET.SubElement(b, f"{{{OMEMO2}}}ik").text = f"ik{device}"
        await phone["xep_0163"].publish(ElementBase(b), node=f"{OMEMO2}:bundles",
                                            id=device, options=opts)
    got = await bob["xep_0060"].get_items("alice@localhost", f"{OMEMO2}:bundles")
    assert ids(got) == ["11", "22"]
    one = await bob["xep_0060"].get_item("alice@localhost", f"{OMEMO2}:bundles", "22")
    assert list(one["pubsub"]["items"])[0]["payload"].findtext(f"{{{OMEMO2}}}ik") == "ik22"
    await close(phone, bob)
