// minixmpp test client: @xmpp/client logs in (STARTTLS, certificate verified through
// NODE_EXTRA_CA_CERTS), sends one chat message, prints the first message it receives.
// usage: node chat.mjs PORT USER PASSWORD TO BODY
import { client, xml } from "@xmpp/client";

const [port, username, password, to, body] = process.argv.slice(2);
const xmpp = client({ service: `xmpp://127.0.0.1:${port}`, domain: "localhost",
                      username, password, resource: "node" });

xmpp.on("error", (err) => { console.log("ERROR", err.message); process.exit(1); });
xmpp.on("stanza", async (stanza) => {
  if (stanza.is("message") && stanza.getChild("body")) {
    console.log("RECEIVED", stanza.attrs.from, stanza.getChildText("body"));
    await xmpp.stop();
    process.exit(0);
  }
});
xmpp.on("online", async (address) => {
  console.log("ONLINE", address.toString());
  await xmpp.send(xml("presence"));
  await xmpp.send(xml("message", { to, type: "chat" }, xml("body", {}, body)));
});
setTimeout(() => { console.log("TIMEOUT"); process.exit(2); }, 20000);
await xmpp.start();
