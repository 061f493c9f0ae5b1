"""One structural XML assertion: compare elements, namespaces and attributes, never
substrings of serialized XML.

``assert_xml(actual, pattern)``: ``pattern`` is XML saying what must be there. Its
element must have the same name and namespace as ``actual``; each attribute it gives must
have that value (``*``: any value); each child it lists must match a child of ``actual``,
in the same order (other children may stand between); text it gives must be the text.
Everything the pattern leaves out is left free. ``exact=True`` also forbids attributes and
children the pattern does not list.

Stanzas are namespace-neutral inside the server and ``jabber:client`` on the wire: both
compare equal. A pattern may use the ``stream:`` prefix without declaring it
(``<stream:error>``, ``<stream:features>``), as the stream it came on did.
"""

from __future__ import annotations

from twisted.words.xish import domish
from wokkel.generic import stripNamespace

NEUTRAL = (None, "", "jabber:client")
STREAMS = "http://etherx.jabber.org/streams"


def as_element(xml: str | domish.Element) -> domish.Element:
    """An element from its XML text, namespace-neutral as a stanza on a c2s stream;
    ``stream:`` is bound to the streams namespace."""
    if not isinstance(xml, str):
        return xml
    result: list[domish.Element] = []
    stream = domish.elementStream()
    stream.DocumentStartEvent = lambda root: None
    stream.ElementEvent = result.append
    stream.DocumentEndEvent = lambda: None
    stream.parse(f"<r xmlns='jabber:client' xmlns:stream='{STREAMS}'>{xml}</r>".encode())
    element = result[0]
    return stripNamespace(element) if element.uri == "jabber:client" else element


def show(element: domish.Element) -> str:
    """``element`` as it was on the wire (``jabber:client`` implied, ``stream:`` prefixed)."""
    return element.toXml(prefixes={STREAMS: "stream"}, prefixesInScope=["stream"],
                         defaultUri=element.defaultUri if element.uri in NEUTRAL
                         else "jabber:client")


def _uri(element: domish.Element) -> str | None:
    return None if element.uri in NEUTRAL else element.uri


def _text(element: domish.Element) -> str:
    return "".join(c for c in element.children if isinstance(c, str)).strip()


def mismatch(actual: domish.Element, pattern: domish.Element, exact: bool = False,
             path: str = "") -> str | None:
    """Why ``actual`` does not match ``pattern`` (None: it matches)."""
    here = f"{path}/{pattern.name}"
    if actual.name != pattern.name or _uri(actual) != _uri(pattern):
        return f"{here}: expected {{{_uri(pattern)}}}{pattern.name}, got " \
               f"{{{_uri(actual)}}}{actual.name}"
    for key, value in pattern.attributes.items():
        got = actual.attributes.get(key)
        if got is None:
            return f"{here}: attribute {key!r} missing"
        if value != "*" and got != value:
            return f"{here}: attribute {key!r} is {got!r}, expected {value!r}"
    if exact and set(actual.attributes) != set(pattern.attributes):
        extra = sorted(set(actual.attributes) - set(pattern.attributes), key=str)
        return f"{here}: unexpected attributes {extra}"
    text = _text(pattern)
    if text and _text(actual) != text:
        return f"{here}: text is {_text(actual)!r}, expected {text!r}"
    children = [c for c in actual.elements()]
    wanted = [c for c in pattern.elements()]
    if exact and len(children) != len(wanted):
        return f"{here}: {len(children)} children, expected {len(wanted)}"
    position = 0
    for want in wanted:
        reasons = []
        while position < len(children):
            reason = mismatch(children[position], want, exact, here)
            position += 1
            if reason is None:
                break
            reasons.append(reason)
        else:
            detail = f" ({reasons[0]})" if len(reasons) == 1 else ""
            return f"{here}: no child matching <{want.name}/>{detail}"
    return None


def matches(actual: str | domish.Element, pattern: str | domish.Element,
            exact: bool = False) -> bool:
    return mismatch(as_element(actual), as_element(pattern), exact) is None


def assert_xml(actual: str | domish.Element, pattern: str | domish.Element,
               exact: bool = False) -> None:
    """Fail with the place of the first difference and both documents."""
    got, want = as_element(actual), as_element(pattern)
    reason = mismatch(got, want, exact)
    if reason is not None:
        raise AssertionError(f"{reason}\n  got:      {show(got)}\n  expected: {show(want)}")


def find(elements: list[domish.Element] | domish.Element, pattern: str | domish.Element
         ) -> domish.Element | None:
    """The first of ``elements`` (or of an element's children) that matches ``pattern``."""
    want = as_element(pattern)
    if isinstance(elements, domish.Element):
        elements = list(elements.elements())
    return next((e for e in elements if mismatch(e, want) is None), None)


def assert_any(elements: list[domish.Element], pattern: str | domish.Element
               ) -> domish.Element:
    """One of ``elements`` matches ``pattern``: the first that does."""
    found = find(elements, pattern)
    if found is None:
        listed = "".join(f"\n    {show(e)}" for e in elements) or " nothing"
        raise AssertionError(f"none matches {show(as_element(pattern))}; got:{listed}")
    return found


def descendants(element: domish.Element) -> list[domish.Element]:
    """Every element below ``element``, in document order."""
    found = []
    for child in element.elements():
        found.append(child)
        found.extend(descendants(child))
    return found


def child_text(element: domish.Element, pattern: str | domish.Element) -> str:
    """The text of ``element``'s first child that matches ``pattern`` (fails if none)."""
    found = find(element, pattern)
    if found is None:
        raise AssertionError(f"no child matching {pattern}\n  in: {show(element)}")
    return str(found)
