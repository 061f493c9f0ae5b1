"""HTTP File Upload (XEP-0363): a slot service at upload.DOMAIN and the HTTP resource."""

NS_UPLOAD = "urn:xmpp:http:upload:0"
