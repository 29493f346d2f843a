//! WebDAV XML: build request bodies, and read `multistatus` answers into a small tree.
//!
//! Reading is defensive: no DTD or custom entity is ever expanded (only the five predefined
//! entities and character references), nesting and size are bounded, and every failure is a
//! typed error rather than a panic. Element names are compared by namespace + local name, so a
//! server's choice of prefixes never matters.

use quick_xml::NsReader;
use quick_xml::events::Event;
use quick_xml::name::ResolveResult;

pub const DAV: &str = "DAV:";
pub const CALDAV: &str = "urn:ietf:params:xml:ns:caldav";
pub const CS: &str = "http://calendarserver.org/ns/";
pub const ICAL: &str = "http://apple.com/ns/ical/";

/// Deeper nesting than this is refused (real answers nest about 8 deep).
const MAX_DEPTH: usize = 64;
/// Element count limit of one document.
const MAX_ELEMENTS: usize = 2_000_000;

#[derive(Debug, thiserror::Error)]
pub enum XmlError {
    #[error("malformed XML at byte {position}: {message}")]
    Malformed { position: u64, message: String },
    #[error("XML nested deeper than {MAX_DEPTH} levels")]
    TooDeep,
    #[error("XML has more than {MAX_ELEMENTS} elements")]
    TooLarge,
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

/// One element: namespace, local name, attributes (local name, value), text, children.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Element {
    pub ns: String,
    pub name: String,
    pub attrs: Vec<(String, String)>,
    pub text: String,
    pub children: Vec<Element>,
}

impl Element {
    pub fn is(&self, ns: &str, name: &str) -> bool {
        self.ns == ns && self.name == name
    }

    pub fn child(&self, ns: &str, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.is(ns, name))
    }

    pub fn children_named<'a>(
        &'a self,
        ns: &'a str,
        name: &'a str,
    ) -> impl Iterator<Item = &'a Element> + 'a {
        self.children.iter().filter(move |c| c.is(ns, name))
    }

    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The trimmed text of this element.
    pub fn trimmed(&self) -> &str {
        self.text.trim()
    }
}

/// Parses a whole document into its root element.
pub fn parse(body: &[u8]) -> Result<Element, XmlError> {
    let mut reader = NsReader::from_reader(body);
    reader.config_mut().trim_text(false);
    let mut stack: Vec<Element> = Vec::new();
    let mut root: Option<Element> = None;
    let mut count = 0usize;
    loop {
        let position = reader.buffer_position();
        let malformed = |e: &dyn std::fmt::Display| XmlError::Malformed {
            position,
            message: e.to_string(),
        };
        // Events borrow from `body`: nothing is copied into a buffer first.
        let (ns, event) = reader.read_resolved_event().map_err(|e| malformed(&e))?;
        let ns = match ns {
            ResolveResult::Bound(n) => String::from_utf8_lossy(n.as_ref()).into_owned(),
            _ => String::new(),
        };
        match event {
            Event::Start(ref e) | Event::Empty(ref e) => {
                if root.is_some() {
                    return Err(malformed(&"content after the root element"));
                }
                count += 1;
                if count > MAX_ELEMENTS {
                    return Err(XmlError::TooLarge);
                }
                if stack.len() >= MAX_DEPTH {
                    return Err(XmlError::TooDeep);
                }
                let mut el = Element {
                    ns,
                    name: String::from_utf8_lossy(e.local_name().as_ref()).into_owned(),
                    ..Element::default()
                };
                for a in e.attributes() {
                    let a = a.map_err(|e| malformed(&e))?;
                    let key = String::from_utf8_lossy(a.key.local_name().as_ref()).into_owned();
                    let value = a.unescape_value().map_err(|e| malformed(&e))?.into_owned();
                    el.attrs.push((key, value));
                }
                if matches!(event, Event::Empty(_)) {
                    match stack.last_mut() {
                        Some(parent) => parent.children.push(el),
                        None => root = Some(el),
                    }
                } else {
                    stack.push(el);
                }
            }
            Event::End(_) => {
                let el = stack
                    .pop()
                    .ok_or_else(|| malformed(&"unbalanced end tag"))?;
                match stack.last_mut() {
                    Some(parent) => parent.children.push(el),
                    None => root = Some(el),
                }
            }
            Event::Text(t) => {
                if let Some(top) = stack.last_mut() {
                    top.text.push_str(&t.decode().map_err(|e| malformed(&e))?);
                }
            }
            Event::CData(t) => {
                if let Some(top) = stack.last_mut() {
                    // Strict like text: a lossy read would put U+FFFD where the user's bytes were,
                    // and a later write would store that.
                    let text = std::str::from_utf8(&t).map_err(|e| malformed(&e))?;
                    top.text.push_str(text);
                }
            }
            Event::GeneralRef(r) => {
                // Character references are frequent (`&#13;` ends every line of calendar data
                // from some servers): appended as they are, without a string of their own.
                let top = stack.last_mut();
                if r.is_char_ref() {
                    let ch = r.resolve_char_ref().map_err(|e| malformed(&e))?;
                    if let (Some(top), Some(ch)) = (top, ch) {
                        top.text.push(ch);
                    }
                } else {
                    let name = r.decode().map_err(|e| malformed(&e))?;
                    let Some(s) = quick_xml::escape::resolve_predefined_entity(&name) else {
                        return Err(XmlError::UnknownEntity(name.into_owned()));
                    };
                    if let Some(top) = top {
                        top.text.push_str(s);
                    }
                }
            }
            Event::DocType(_) => return Err(XmlError::Doctype),
            Event::Eof => break,
            _ => {}
        }
    }
    if !stack.is_empty() {
        return Err(XmlError::Malformed {
            position: reader.buffer_position(),
            message: "document ends inside an element".into(),
        });
    }
    root.ok_or(XmlError::Malformed {
        position: 0,
        message: "no root element".into(),
    })
}
