"""The room configuration form (XEP-0045 §10.2, §15.5.3 ``muc#roomconfig``) and the
``muc#roominfo`` extended disco form (§15.5.4)."""

from __future__ import annotations

from dataclasses import replace

from twisted.words.xish import domish
from wokkel import data_form

from minixmpp import forms, ns
from minixmpp.muc.room import ALLOW_PM, WHOIS, MucError, Room, RoomConfig

P = "muc#roomconfig_"
#: form field -> (RoomConfig attribute, kind, label)
FIELDS: tuple[tuple[str, str, str, str], ...] = (
    (P + "roomname", "name", "text-single", "Name"),
    (P + "roomdesc", "description", "text-single", "Description"),
    (P + "persistentroom", "persistent", "boolean", "Persistent (kept when empty)"),
    (P + "publicroom", "public", "boolean", "Listed in the room directory"),
    (P + "membersonly", "members_only", "boolean", "Members only"),
    (P + "moderatedroom", "moderated", "boolean", "Moderated (visitors have no voice)"),
    (P + "passwordprotectedroom", "password_protected", "boolean", "Password protected"),
    (P + "roomsecret", "password", "text-private", "Password"),
    (P + "maxusers", "max_users", "list-single", "Most occupants (0: the service's limit)"),
    (P + "whois", "whois", "list-single", "Who may see real JIDs"),
    (P + "allowpm", "allow_pm", "list-single", "Who may send private messages"),
    (P + "changesubject", "change_subject", "boolean", "Participants may change the subject"),
    (P + "historylength", "history_length", "text-single", "History messages sent on join"),
    (P + "allowinvites", "allow_invites", "boolean", "Members may invite"),
    (P + "enablearchiving", "archiving", "boolean", "Archive messages (XEP-0313)"),
    (P + "lang", "language", "text-single", "Language of the room (xml:lang)"),
)
#: older or other servers' names for the same settings
ALIASES = {"muc#maxhistoryfetch": P + "historylength",
           P + "allowprivatemessages": P + "allowpm",
           P + "enablelogging": P + "enablearchiving"}
OPTIONS = {P + "whois": WHOIS, P + "allowpm": ALLOW_PM,
           P + "maxusers": ("0", "10", "20", "30", "50", "100")}
TRUE, FALSE = ("1", "true"), ("0", "false")


def _text(value: object) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    return str(value)


#: §10.2, §15.5.3: the full lists of admins and owners (jid-multi), by affiliation
LISTS = {P + "roomadmins": ("admin", "Full list of room admins"),
         P + "roomowners": ("owner", "Full list of room owners")}


def form(config: RoomConfig, max_history: int,
         affiliations: dict[str, str] | None = None) -> domish.Element:
    """§10.2 Example 165: the form the owner fills in, with the current values and the
    full lists of admins and owners."""
    x = forms.form(ns.MUC_ROOMCONFIG, "form", "Room configuration")
    for var, attribute, kind, label in FIELDS:
        if var == P + "historylength":
            label = f"{label} (at most {max_history})"
        forms.field(x, var, kind, [_text(getattr(config, attribute))], label,
                    options=OPTIONS.get(var, ()))
    for var, (affiliation, label) in LISTS.items():
        forms.field(x, var, "jid-multi", sorted(
            j for j, a in (affiliations or {}).items() if a == affiliation), label)
    return x


def lists(x: domish.Element) -> dict[str, list[str]]:
    """The admin and owner lists a submitted form gives, by affiliation (a field left out
    changes nothing; a field without values empties its list). The JIDs as sent."""
    values = forms.multi_values(x)
    return {affiliation: [v.strip() for v in values[var] if v.strip()]
            for var, (affiliation, _) in LISTS.items() if var in values}


def submitted(x: domish.Element, config: RoomConfig, max_history: int,
              max_users: int) -> RoomConfig:
    """The configuration after a submitted form (§10.2): unknown fields are ignored, bad
    values are ``not-acceptable``."""
    if x.getAttribute("type") != "submit":
        raise MucError("bad-request", "expected a submitted form")
    if forms.form_type(x) not in (None, ns.MUC_ROOMCONFIG):
        raise MucError("bad-request", f"the form's FORM_TYPE must be {ns.MUC_ROOMCONFIG}")
    kinds = {var: (attribute, kind) for var, attribute, kind, _ in FIELDS}
    new = replace(config)
    for var, value in forms.values(x).items():
        var = ALIASES.get(var, var)
        if var not in kinds:
            continue
        attribute, kind = kinds[var]
        value = value.strip() if kind != "text-private" else value
        if kind == "boolean":
            if value.lower() not in TRUE + FALSE:
                raise MucError("not-acceptable", f"{var} must be a boolean")
            setattr(new, attribute, value.lower() in TRUE)
        elif attribute in ("max_users", "history_length"):
            try:
                number = int(value or "0")
            except ValueError:
                raise MucError("not-acceptable", f"{var} must be a number") from None
            if number < 0 or (attribute == "max_users" and max_users and number > max_users):
                raise MucError("not-acceptable", f"{var} is out of range")
            setattr(new, attribute, min(number, max_history)
                    if attribute == "history_length" else number)
        elif var in OPTIONS and attribute != "max_users":
            if value not in OPTIONS[var]:
                raise MucError("not-acceptable", f"{var} must be one of "
                                                 f"{', '.join(OPTIONS[var])}")
            setattr(new, attribute, value)
        else:
            setattr(new, attribute, value)
    if new.password_protected and not new.password:
        raise MucError("not-acceptable", "a password-protected room needs a password")
    if not new.password_protected:
        new.password = ""
    return new


def roominfo(room: Room) -> data_form.Form:
    """§15.5.4: the ``muc#roominfo`` form in the room's disco#info (XEP-0128)."""
    form = data_form.Form("result", formNamespace=ns.MUC_ROOMINFO)
    for var, kind, value, label in (
            ("muc#roominfo_description", "text-single", room.config.description,
             "Description"),
            (P + "roomname", "text-single", room.config.name, "Name"),
            ("muc#roominfo_occupants", "text-single", str(len(room.occupants)),
             "Number of occupants"),
            ("muc#roominfo_subject", "text-single", room.subject, "Subject"),
            (P + "changesubject", "boolean", room.config.change_subject,
             "Participants may change the subject"),
            (P + "allowinvites", "boolean", room.config.allow_invites,
             "Members may invite"),
            ("muc#roominfo_lang", "text-single", room.config.language, "Language")):
        form.addField(data_form.Field(kind, var, value, label=label))
    if room.avatar_hashes:  # XEP-0486 §3.3, §4: only when the room has an avatar
        form.addField(data_form.Field("text-multi", "muc#roominfo_avatarhash",
                                      values=list(room.avatar_hashes), label="Avatar hash"))
    return form


def features(room: Room) -> list[str]:
    """§6.4 / §15.6: the ``muc_*`` features that describe the room."""
    c = room.config
    return ["muc_public" if c.public else "muc_hidden",
            "muc_persistent" if c.persistent else "muc_temporary",
            "muc_membersonly" if c.members_only else "muc_open",
            "muc_moderated" if c.moderated else "muc_unmoderated",
            "muc_nonanonymous" if c.whois == "anyone" else "muc_semianonymous",
            "muc_passwordprotected" if c.password_protected else "muc_unsecured"]
