"""Reading data forms (XEP-0004) as clients really send them.

wokkel's ``Form.fromElement`` recognises ``FORM_TYPE`` only on a field of type
``hidden``; XEP-0357 §5 (and clients such as Conversations) send it without a type in
submit forms, which XEP-0068 §3 allows. These helpers accept both.
"""

from __future__ import annotations

from twisted.words.xish import domish

NS_X_DATA = "jabber:x:data"


def _fields(x: domish.Element):
    for field in x.elements(NS_X_DATA, "field"):
        values = [str(v) for v in field.elements(NS_X_DATA, "value")]
        yield field.getAttribute("var"), values


def form_type(x: domish.Element) -> str | None:
    """The ``FORM_TYPE`` value of a form, typed hidden or not."""
    for var, values in _fields(x):
        if var == "FORM_TYPE":
            return values[0].strip() if values else None
    return None


def values(x: domish.Element) -> dict[str, str]:
    """Field values by var (multiple values joined by newlines), ``FORM_TYPE`` left out."""
    return {var: "\n".join(vals) for var, vals in _fields(x) if var and var != "FORM_TYPE"}


def find(parent: domish.Element, namespace: str) -> domish.Element | None:
    """The first ``<x xmlns='jabber:x:data'/>`` child of ``parent`` with that FORM_TYPE."""
    for x in parent.elements(NS_X_DATA, "x"):
        if form_type(x) == namespace:
            return x
    return None
