//! WebDAV XML: build request bodies, and read `multistatus` answers into a small tree.
//!
//! Reading is defensive: no DTD or custom entity is ever expanded (only the five predefined
//! entities and character references), nesting and size are bounded, and every failure is a
//! typed error rather than a panic. The memory a document's tree takes is bounded by a multiple
//! of the document's size, whatever it holds: an element costs about 120 bytes as a node, so an
//! answer of millions of `<a/>` (4 bytes each) would otherwise take thirty times its size. Element names are compared by namespace + local name, so a
//! server's choice of prefixes never matters.

use std::borrow::Cow;

use quick_xml::NsReader;
use quick_xml::events::Event;
use quick_xml::name::ResolveResult;

pub(crate) const DAV: &str = "DAV:";
pub(crate) const CALDAV: &str = "urn:ietf:params:xml:ns:caldav";
pub(crate) const CS: &str = "http://calendarserver.org/ns/";
pub(crate) const ICAL: &str = "http://apple.com/ns/ical/";

/// Deeper nesting than this is refused (real answers nest about 8 deep).
const MAX_DEPTH: usize = 64;
/// Element count limit of one document.
const MAX_ELEMENTS: usize = 2_000_000;
/// The nodes built from a document (elements, their attributes and names, the responses of a
/// multistatus) may take this many times the document's size, plus [`TREE_SLACK`]. A real
/// answer takes at most about 3 times (a listing of bare etags: three elements in 135 bytes);
/// text is not counted, as it is never longer than the document.
pub(crate) const TREE_BYTES_PER_BYTE: usize = 4;
const TREE_SLACK: usize = 1 << 20;
/// Children of one element in a tree (a `prop` holds a dozen; a list grown by doubling to
/// millions would take up to three times what is counted, while it grows).
const MAX_CHILDREN: usize = 1_000;

#[derive(Debug, thiserror::Error)]
pub enum XmlError {
    #[error("malformed XML at byte {position}: {message}")]
    Malformed { position: u64, message: String },
    #[error("XML nested deeper than {MAX_DEPTH} levels")]
    TooDeep,
    #[error("XML has more than {MAX_ELEMENTS} elements")]
    TooLarge,
    #[error(
        "XML holds more elements than its size warrants: reading it would take more than \
         {limit} bytes of memory"
    )]
    TooCostly { limit: usize },
    #[error("XML element <{name}> has more than {MAX_CHILDREN} child elements")]
    TooManyChildren { name: String },
    #[error("XML uses an entity that is not predefined: &{0};")]
    UnknownEntity(String),
    #[error("XML contains a document type declaration, which is not accepted")]
    Doctype,
    #[error("expected a {expected} element, found {found}")]
    Unexpected {
        expected: &'static str,
        found: String,
    },
}

/// One element: namespace, local name, attributes (local name, value), text, children. The
/// namespaces and names this client asks for are shared, not allocated per element.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Element {
    pub ns: Cow<'static, str>,
    pub name: Cow<'static, str>,
    pub attrs: Vec<(String, String)>,
    pub text: String,
    pub children: Vec<Element>,
}

impl Element {
    pub(crate) fn is(&self, ns: &str, name: &str) -> bool {
        self.ns == ns && self.name == name
    }

    pub(crate) fn child(&self, ns: &str, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.is(ns, name))
    }

    pub(crate) fn children_named<'a>(
        &'a self,
        ns: &'a str,
        name: &'a str,
    ) -> impl Iterator<Item = &'a Element> + 'a {
        self.children.iter().filter(move |c| c.is(ns, name))
    }

    pub(crate) fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The trimmed text of this element.
    pub(crate) fn trimmed(&self) -> &str {
        self.text.trim()
    }
}

/// One step of a document read by [`Reader`].
pub enum Item<'a> {
    /// An element opens (`<a>`); its end comes as [`Item::End`].
    Start(Tag<'a>),
    /// An empty element (`<a/>`): it has no end of its own.
    Empty(Tag<'a>),
    End,
    Eof,
}

/// An element's start tag, its namespace resolved.
pub(crate) struct Tag<'a> {
    ns: Cow<'static, str>,
    start: quick_xml::events::BytesStart<'a>,
}

impl Tag<'_> {
    pub(crate) fn is(&self, ns: &str, name: &str) -> bool {
        self.ns == ns && self.start.local_name().as_ref() == name.as_bytes()
    }

    pub(crate) fn local_name(&self) -> Cow<'static, str> {
        known_name(self.start.local_name().as_ref())
    }

    /// Without attributes, and of a name not in [`KNOWN_NAMES`].
    fn is_bare_unknown(&self) -> bool {
        let name = self.start.local_name();
        self.start.attributes_raw().trim_ascii().is_empty()
            && !KNOWN_NAMES.iter().any(|k| k.as_bytes() == name.as_ref())
    }

    /// The element, without children or text yet (see [`Reader::element`], which counts it).
    fn into_element(self, position: u64) -> Result<Element, XmlError> {
        let mut el = Element {
            name: self.local_name(),
            ns: self.ns,
            ..Element::default()
        };
        for a in self.start.attributes() {
            let a = a.map_err(|e| malformed(position, &e))?;
            let key = String::from_utf8_lossy(a.key.local_name().as_ref()).into_owned();
            let value = a
                .unescape_value()
                .map_err(|e| malformed(position, &e))?
                .into_owned();
            el.attrs.push((key, value));
        }
        Ok(el)
    }
}

/// Adds a finished child to its parent, up to [`MAX_CHILDREN`].
fn adopt(parent: &mut Element, child: Element) -> Result<(), XmlError> {
    if parent.children.len() >= MAX_CHILDREN {
        return Err(XmlError::TooManyChildren {
            name: parent.name.to_string(),
        });
    }
    parent.children.push(child);
    Ok(())
}

/// A finished element, its children without the room they were grown with (so what is counted
/// against the budget is what it takes), and its text too when that room is large (a 10 MB
/// `calendar-data` grown by doubling holds 16 MB; a small text is left as it is, not copied).
fn done(mut el: Element) -> Element {
    el.children.shrink_to_fit();
    if el.text.capacity() - el.text.len() > 1 << 16 {
        el.text.shrink_to_fit();
    }
    el
}

fn malformed(position: u64, e: &dyn std::fmt::Display) -> XmlError {
    XmlError::Malformed {
        position,
        message: e.to_string(),
    }
}

/// Reads a document a step at a time, with this module's rules: no DTD, only predefined
/// entities and character references, bounded nesting and element count, one root. Callers
/// that need only parts of a document (a multistatus' hrefs and etags) build only those.
pub(crate) struct Reader<'a> {
    xml: NsReader<&'a [u8]>,
    depth: usize,
    count: usize,
    root_closed: bool,
    /// Bytes the nodes built from this document may still take.
    budget: usize,
    limit: usize,
    /// Keeps empty elements of every name (an error body, whose preconditions are empty
    /// elements of names this client does not read otherwise).
    keep_every_element: bool,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(body: &'a [u8]) -> Self {
        let mut xml = NsReader::from_reader(body);
        xml.config_mut().trim_text(false);
        let limit = body
            .len()
            .saturating_mul(TREE_BYTES_PER_BYTE)
            .saturating_add(TREE_SLACK);
        Self {
            xml,
            depth: 0,
            count: 0,
            root_closed: false,
            budget: limit,
            limit,
            keep_every_element: false,
        }
    }

    /// Counts `bytes` of nodes built from this document against its budget.
    pub(crate) fn charge(&mut self, bytes: usize) -> Result<(), XmlError> {
        self.budget = self
            .budget
            .checked_sub(bytes)
            .ok_or(XmlError::TooCostly { limit: self.limit })?;
        Ok(())
    }

    /// The element a start tag opens (without children or text yet), counted against the
    /// budget: its node, an owned name or namespace, its attributes.
    pub(crate) fn element(&mut self, tag: Tag<'_>) -> Result<Element, XmlError> {
        let mut el = tag.into_element(self.position())?;
        el.attrs.shrink_to_fit();
        let owned = |c: &Cow<'static, str>| match c {
            Cow::Owned(s) => s.len(),
            Cow::Borrowed(_) => 0,
        };
        let attrs: usize = el
            .attrs
            .iter()
            .map(|(k, v)| std::mem::size_of::<(String, String)>() + k.len() + v.len())
            .sum();
        self.charge(std::mem::size_of::<Element>() + owned(&el.ns) + owned(&el.name) + attrs)?;
        Ok(el)
    }

    /// Where the reader is, for error messages.
    pub(crate) fn position(&self) -> u64 {
        self.xml.buffer_position()
    }

    /// The next item. Text is appended to `text` when one is given, dropped otherwise.
    pub(crate) fn next(&mut self, text: Option<&mut String>) -> Result<Item<'a>, XmlError> {
        let mut text = text;
        loop {
            let position = self.xml.buffer_position();
            // Events borrow from the body: nothing is copied into a buffer first.
            let (ns, event) = self
                .xml
                .read_resolved_event()
                .map_err(|e| malformed(position, &e))?;
            let ns = match ns {
                ResolveResult::Bound(n) => known_namespace(n.as_ref()),
                _ => Cow::Borrowed(""),
            };
            match event {
                Event::Start(_) | Event::Empty(_) if self.root_closed => {
                    return Err(malformed(position, &"content after the root element"));
                }
                Event::Start(start) => {
                    self.open()?;
                    self.depth += 1;
                    return Ok(Item::Start(Tag { ns, start }));
                }
                Event::Empty(start) => {
                    self.open()?;
                    self.root_closed |= self.depth == 0;
                    return Ok(Item::Empty(Tag { ns, start }));
                }
                Event::End(_) => {
                    self.depth = self
                        .depth
                        .checked_sub(1)
                        .ok_or_else(|| malformed(position, &"unbalanced end tag"))?;
                    self.root_closed |= self.depth == 0;
                    return Ok(Item::End);
                }
                Event::Text(t) => {
                    if let Some(text) = text.as_deref_mut() {
                        text.push_str(&t.decode().map_err(|e| malformed(position, &e))?);
                    }
                }
                Event::CData(t) => {
                    if let Some(text) = text.as_deref_mut() {
                        // Strict like text: a lossy read would put U+FFFD where the user's
                        // bytes were, and a later write would store that.
                        let t = std::str::from_utf8(&t).map_err(|e| malformed(position, &e))?;
                        text.push_str(t);
                    }
                }
                Event::GeneralRef(r) => {
                    // Character references are frequent (`&#13;` ends every line of calendar
                    // data from some servers): appended as they are, without a string of their
                    // own. Unknown entities are refused even where the text is not kept.
                    if r.is_char_ref() {
                        let ch = r.resolve_char_ref().map_err(|e| malformed(position, &e))?;
                        if let (Some(text), Some(ch)) = (text.as_deref_mut(), ch) {
                            text.push(ch);
                        }
                    } else {
                        let name = r.decode().map_err(|e| malformed(position, &e))?;
                        let Some(s) = quick_xml::escape::resolve_predefined_entity(&name) else {
                            return Err(XmlError::UnknownEntity(name.into_owned()));
                        };
                        if let Some(text) = text.as_deref_mut() {
                            text.push_str(s);
                        }
                    }
                }
                Event::DocType(_) => return Err(XmlError::Doctype),
                Event::Eof if self.depth > 0 => {
                    return Err(malformed(position, &"document ends inside an element"));
                }
                Event::Eof => return Ok(Item::Eof),
                _ => {}
            }
        }
    }

    fn open(&mut self) -> Result<(), XmlError> {
        self.count += 1;
        if self.count > MAX_ELEMENTS {
            return Err(XmlError::TooLarge);
        }
        if self.depth >= MAX_DEPTH {
            return Err(XmlError::TooDeep);
        }
        Ok(())
    }

    /// Reads the rest of an element whose start was just read (its children and text),
    /// appending it to `el`.
    pub(crate) fn finish(&mut self, el: &mut Element) -> Result<(), XmlError> {
        let mut stack: Vec<Element> = Vec::new();
        loop {
            let top = stack.last_mut().unwrap_or(&mut *el);
            match self.next(Some(&mut top.text))? {
                Item::Start(tag) => stack.push(self.element(tag)?),
                // Nothing reads an empty element of a name this client does not know (a
                // server's `<CS:shared-owner/>`), and an answer of millions of `<a/>` should
                // cost nothing: it is not kept.
                Item::Empty(tag) if !self.keep_every_element && tag.is_bare_unknown() => {}
                Item::Empty(tag) => {
                    let child = self.element(tag)?;
                    adopt(stack.last_mut().unwrap_or(&mut *el), child)?;
                }
                Item::End => match stack.pop() {
                    Some(child) => adopt(stack.last_mut().unwrap_or(&mut *el), done(child))?,
                    None => {
                        let whole = done(std::mem::take(el));
                        *el = whole;
                        return Ok(());
                    }
                },
                Item::Eof => {
                    return Err(malformed(
                        self.position(),
                        &"document ends inside an element",
                    ));
                }
            }
        }
    }

    /// Skips the rest of an element whose start was just read.
    pub(crate) fn skip(&mut self) -> Result<(), XmlError> {
        self.rest(None)
    }

    /// The rest of an element whose start was just read: its own text (not its children's).
    pub(crate) fn text(&mut self) -> Result<String, XmlError> {
        let mut text = String::new();
        self.rest(Some(&mut text))?;
        Ok(text)
    }

    fn rest(&mut self, mut text: Option<&mut String>) -> Result<(), XmlError> {
        let mut depth = 0usize;
        loop {
            let own = if depth == 0 {
                text.as_deref_mut()
            } else {
                None
            };
            match self.next(own)? {
                Item::Start(_) => depth += 1,
                Item::End if depth == 0 => return Ok(()),
                Item::End => depth -= 1,
                Item::Empty(_) => {}
                Item::Eof => {
                    return Err(malformed(
                        self.position(),
                        &"document ends inside an element",
                    ));
                }
            }
        }
    }
}

/// The element names this client asks for and reads, without a string of their own. An empty
/// element without attributes of any other name is not kept in a tree ([`Reader::finish`]): a
/// name read as a marker (as `collection` is in `resourcetype`) must be listed here.
const KNOWN_NAMES: &[&str] = &[
    "supported-report-set",
    "supported-report",
    "report",
    "sync-collection",
    "multistatus",
    "response",
    "href",
    "propstat",
    "prop",
    "status",
    "getetag",
    "calendar-data",
    "sync-token",
    "getctag",
    "resourcetype",
    "collection",
    "calendar",
    "displayname",
    "current-user-principal",
    "calendar-home-set",
    "supported-calendar-component-set",
    "comp",
    "calendar-color",
    "calendar-timezone",
    "error",
];

fn known_name(name: &[u8]) -> Cow<'static, str> {
    KNOWN_NAMES
        .iter()
        .find(|k| k.as_bytes() == name)
        .map_or_else(
            || Cow::Owned(String::from_utf8_lossy(name).into_owned()),
            |k| Cow::Borrowed(*k),
        )
}

/// The namespaces this client asks for, without a string of their own.
fn known_namespace(ns: &[u8]) -> Cow<'static, str> {
    [DAV, CALDAV, CS, ICAL]
        .into_iter()
        .find(|k| k.as_bytes() == ns)
        .map_or_else(
            || Cow::Owned(String::from_utf8_lossy(ns).into_owned()),
            Cow::Borrowed,
        )
}

#[cfg(test)]
/// Parses a whole document into its root element.
pub fn parse(body: &[u8]) -> Result<Element, XmlError> {
    parse_with(Reader::new(body))
}

/// Parses a whole document keeping empty elements of every name: for a small error body
/// (`DAV:error`), whose preconditions are exactly such elements.
pub(crate) fn parse_keeping_every_element(body: &[u8]) -> Result<Element, XmlError> {
    let mut reader = Reader::new(body);
    reader.keep_every_element = true;
    parse_with(reader)
}

fn parse_with(mut reader: Reader<'_>) -> Result<Element, XmlError> {
    let root = match reader.next(None)? {
        Item::Start(tag) => {
            let mut root = reader.element(tag)?;
            reader.finish(&mut root)?;
            root
        }
        Item::Empty(tag) => reader.element(tag)?,
        Item::End | Item::Eof => {
            return Err(XmlError::Malformed {
                position: 0,
                message: "no root element".into(),
            });
        }
    };
    // Only comments and processing instructions may follow.
    match reader.next(None)? {
        Item::Eof => Ok(root),
        _ => Err(malformed(
            reader.position(),
            &"content after the root element",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::caldav::client::Multistatus;

    /// A multistatus of one response whose `prop` holds a `getetag` and then `filler` `n` times.
    fn one_prop_of(filler: &str, n: usize) -> Vec<u8> {
        let mut doc = String::from(
            "<multistatus xmlns=\"DAV:\"><response><href>/c/x.ics</href><propstat><prop>\
             <getetag>\"1\"</getetag>",
        );
        doc.push_str(&filler.repeat(n));
        doc.push_str("</prop><status>HTTP/1.1 200 OK</status></propstat></response></multistatus>");
        doc.into_bytes()
    }

    #[test]
    fn an_answer_of_millions_of_empty_unknown_elements_builds_no_node_for_them() {
        // 1.9 million: under the element count limit, which alone let them take 230 MB.
        let ms = Multistatus::parse(&one_prop_of("<a/>", 1_900_000)).unwrap();
        let prop = &ms.responses[0].propstats[0].1;
        assert_eq!(prop.children.len(), 1, "only the etag is kept");
        assert_eq!(ms.responses[0].etag().unwrap().0, "\"1\"");
    }

    #[test]
    fn millions_of_empty_elements_of_a_known_name_are_refused_at_a_bounded_cost() {
        // In one element: refused at its thousandth child.
        let e = Multistatus::parse(&one_prop_of("<href/>", 1_900_000)).unwrap_err();
        assert!(
            matches!(&e, XmlError::TooManyChildren { name } if name == "prop"),
            "{e}"
        );
        // Spread over responses of ten each: refused once the nodes would take more than four
        // times the answer (each response is 1,400 bytes of nodes for 150 of XML).
        let response = format!(
            "<response><href/><propstat><prop>{}</prop></propstat></response>",
            "<href/>".repeat(10)
        );
        let body = format!(
            "<multistatus xmlns=\"DAV:\">{}</multistatus>",
            response.repeat(100_000)
        );
        let e = Multistatus::parse(body.as_bytes()).unwrap_err();
        let limit = body.len() * TREE_BYTES_PER_BYTE + TREE_SLACK;
        assert!(
            matches!(e, XmlError::TooCostly { limit: l } if l == limit),
            "{e}"
        );
    }

    #[test]
    fn a_real_listing_fits_the_budget_of_its_answer() {
        // The densest real answer: a listing of bare etags (PROPFIND Depth 1, getetag and
        // resourcetype), short hrefs and etags, no whitespace.
        let response = "<response><href>/c/1.ics</href><propstat><prop><getetag>\"1\"</getetag>\
                        <resourcetype/></prop><status>HTTP/1.1 200 OK</status></propstat>\
                        </response>";
        let body = format!(
            "<multistatus xmlns=\"DAV:\">{}</multistatus>",
            response.repeat(50_000)
        );
        let ms = Multistatus::parse(body.as_bytes()).unwrap();
        assert_eq!(ms.responses.len(), 50_000);
        assert!(
            ms.responses
                .iter()
                .all(|r| r.prop(DAV, "resourcetype").is_some())
        );
    }
}
