"""Data forms (XEP-0004) built and read in one place.

Reading accepts forms as clients really send them: wokkel's ``Form.fromElement``
recognises ``FORM_TYPE`` only on a field of type ``hidden``, while XEP-0357 §5 (and
clients such as Conversations) send it without a type in submit forms, which XEP-0068 §3
allows. Building makes ``<x xmlns='jabber:x:data'/>`` with its hidden ``FORM_TYPE`` and
fields in one step each (a push summary is built per push, on the push path); wokkel's
``data_form.Form`` stays the shape for disco extensions (XEP-0128), which wokkel renders.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping

from twisted.words.xish import domish

from minixmpp import ns


def child(parent: domish.Element, uri: str | None, name: str,
          attributes: dict[str, str] | None = None, text: str = "") -> domish.Element:
    """Append ``<name xmlns=uri attributes>text</name>`` to ``parent``, built in one step
    (``addElement`` costs several calls per element)."""
    element = domish.Element((uri, name), uri, attributes)
    element.parent = parent
    parent.children.append(element)
    if text:
        element.children.append(text)
    return element


# -- building ------------------------------------------------------------------------------

def form(form_type: str | None, kind: str = "form", title: str | None = None
         ) -> domish.Element:
    """``<x type=kind>`` (§3.1) with a hidden ``FORM_TYPE`` (XEP-0068 §3) and a title."""
    x = domish.Element((ns.X_DATA, "x"), ns.X_DATA, {"type": kind})
    if title:
        child(x, ns.X_DATA, "title", None, title)
    if form_type is not None:
        field(x, "FORM_TYPE", "hidden", [form_type])
    return x


def field(x: domish.Element, var: str, kind: str | None = None,
          values: Iterable[str] = (), label: str | None = None, *, required: bool = False,
          options: Iterable[str] = ()) -> domish.Element:
    """Append a ``<field/>`` (§3.2) with its values, options and ``<required/>``."""
    attributes = {"var": var}
    if kind:
        attributes["type"] = kind
    if label:
        attributes["label"] = label
    element = child(x, ns.X_DATA, "field", attributes)
    if required:
        child(element, ns.X_DATA, "required")
    for value in values:
        child(element, ns.X_DATA, "value", None, value)
    for option in options:
        child(child(element, ns.X_DATA, "option"), ns.X_DATA, "value", None, option)
    return element


def submit(form_type: str, values: Mapping[str, str], kind: str = "submit",
           labels: Mapping[str, str] | None = None) -> domish.Element:
    """A filled-in form: one field per value (an empty value: a field without
    ``<value/>``), labelled from ``labels``."""
    x = form(form_type, kind)
    for var, value in values.items():
        label = labels.get(var) if labels else None
        field(x, var, None, [value] if value != "" else [], label)
    return x


# -- reading -------------------------------------------------------------------------------

def _fields(x: domish.Element) -> Iterator[tuple[str | None, list[str]]]:
    for f in x.elements(ns.X_DATA, "field"):
        yield f.getAttribute("var"), [str(v) for v in f.elements(ns.X_DATA, "value")]


def form_type(x: domish.Element) -> str | None:
    """The ``FORM_TYPE`` value of a form, typed hidden or not."""
    for var, vals in _fields(x):
        if var == "FORM_TYPE":
            return vals[0].strip() if vals else None
    return None


def values(x: domish.Element) -> dict[str, str]:
    """Field values by var (multiple values joined by newlines), ``FORM_TYPE`` left out."""
    return {var: "\n".join(vals) for var, vals in _fields(x) if var and var != "FORM_TYPE"}


def multi_values(x: domish.Element | None) -> dict[str, list[str]]:
    """Every field's values as a list, by var (``FORM_TYPE`` included)."""
    if x is None:
        return {}
    return {var or "": vals for var, vals in _fields(x)}


def find(parent: domish.Element, namespace: str) -> domish.Element | None:
    """The first ``<x xmlns='jabber:x:data'/>`` child of ``parent`` with that FORM_TYPE."""
    for x in parent.elements(ns.X_DATA, "x"):
        if form_type(x) == namespace:
            return x
    return None
