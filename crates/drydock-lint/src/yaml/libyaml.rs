//! libyaml's event parser behind a safe, owned API.
//!
//! The parser is unsafe-libyaml: a mechanical Rust translation of libyaml 0.2.5, the C parser that
//! go-yaml (kubectl's and Compose's YAML) was ported from, so a stream is accepted or refused as
//! they accept or refuse it. A safe port (libyaml-safer) was tried first and dropped: it panics on
//! valid input (a tag followed by `,` in a flow collection) where libyaml carries on. The unsafe
//! code is confined to this file: the parser reads a borrowed byte slice that outlives it, and
//! every event is copied out and freed before the next is asked for.

use std::ffi::CStr;
use std::marker::PhantomData;
use std::mem::MaybeUninit;

use unsafe_libyaml as unsafe_sys;

/// A position: byte offset, 0-based line and 0-based column (in characters).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Mark {
    pub index: usize,
    pub line: usize,
    pub column: usize,
}

impl From<unsafe_sys::yaml_mark_t> for Mark {
    fn from(m: unsafe_sys::yaml_mark_t) -> Mark {
        Mark {
            index: m.index as usize,
            line: m.line as usize,
            column: m.column as usize,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    Plain,
    SingleQuoted,
    DoubleQuoted,
    Literal,
    Folded,
}

#[derive(Debug)]
pub enum EventKind {
    StreamStart,
    StreamEnd,
    DocumentStart,
    DocumentEnd,
    Alias {
        anchor: String,
    },
    Scalar {
        anchor: Option<String>,
        tag: Option<String>,
        value: String,
        style: Style,
    },
    SequenceStart {
        anchor: Option<String>,
        /// `[…]` rather than a block sequence.
        flow: bool,
    },
    SequenceEnd,
    MappingStart {
        anchor: Option<String>,
        /// `{…}` rather than a block mapping.
        flow: bool,
    },
    MappingEnd,
}

#[derive(Debug)]
pub struct Event {
    pub kind: EventKind,
    pub start: Mark,
    pub end: Mark,
}

/// What libyaml reports when it stops.
#[derive(Debug)]
pub struct ParseError {
    pub problem: String,
    /// Where the problem is (scanner and parser errors).
    pub mark: Option<Mark>,
    /// What was being read, and where it started.
    pub context: Option<(String, Mark)>,
    /// The byte offset of a reader error (bad encoding, a forbidden character).
    pub offset: usize,
}

/// The events of one YAML stream.
pub struct Parser<'input> {
    parser: Box<MaybeUninit<unsafe_sys::yaml_parser_t>>,
    _input: PhantomData<&'input [u8]>,
}

impl<'input> Parser<'input> {
    pub fn new(input: &'input [u8]) -> Parser<'input> {
        let mut parser = Box::new(MaybeUninit::<unsafe_sys::yaml_parser_t>::uninit());
        // SAFETY: initialize fills the struct (it fails only when allocation fails, which
        // aborts in Rust); the input slice outlives the parser by the 'input borrow.
        unsafe {
            let p = parser.as_mut_ptr();
            if unsafe_sys::yaml_parser_initialize(p).fail {
                std::process::abort();
            }
            unsafe_sys::yaml_parser_set_input_string(p, input.as_ptr(), input.len() as _);
        }
        Parser {
            parser,
            _input: PhantomData,
        }
    }

    /// The next event; after an error or the stream's end, do not call again.
    pub fn next_event(&mut self) -> Result<Event, ParseError> {
        let p = self.parser.as_mut_ptr();
        let mut ev = MaybeUninit::<unsafe_sys::yaml_event_t>::uninit();
        // SAFETY: the parser is initialised; a successful parse fills the event, which is read
        // according to its type (the union's matching field) and then deleted once.
        unsafe {
            if unsafe_sys::yaml_parser_parse(p, ev.as_mut_ptr()).fail {
                return Err(self.error());
            }
            let e = ev.as_mut_ptr();
            let kind = match (*e).type_ {
                unsafe_sys::YAML_STREAM_START_EVENT => EventKind::StreamStart,
                unsafe_sys::YAML_STREAM_END_EVENT => EventKind::StreamEnd,
                unsafe_sys::YAML_DOCUMENT_START_EVENT => EventKind::DocumentStart,
                unsafe_sys::YAML_DOCUMENT_END_EVENT => EventKind::DocumentEnd,
                unsafe_sys::YAML_ALIAS_EVENT => EventKind::Alias {
                    anchor: c_string((*e).data.alias.anchor).unwrap_or_default(),
                },
                unsafe_sys::YAML_SCALAR_EVENT => {
                    let s = (*e).data.scalar;
                    let bytes = if s.value.is_null() {
                        &[][..]
                    } else {
                        std::slice::from_raw_parts(s.value, s.length as usize)
                    };
                    EventKind::Scalar {
                        anchor: c_string(s.anchor),
                        tag: c_string(s.tag),
                        value: String::from_utf8_lossy(bytes).into_owned(),
                        style: match s.style {
                            unsafe_sys::YAML_SINGLE_QUOTED_SCALAR_STYLE => Style::SingleQuoted,
                            unsafe_sys::YAML_DOUBLE_QUOTED_SCALAR_STYLE => Style::DoubleQuoted,
                            unsafe_sys::YAML_LITERAL_SCALAR_STYLE => Style::Literal,
                            unsafe_sys::YAML_FOLDED_SCALAR_STYLE => Style::Folded,
                            _ => Style::Plain,
                        },
                    }
                }
                unsafe_sys::YAML_SEQUENCE_START_EVENT => EventKind::SequenceStart {
                    anchor: c_string((*e).data.sequence_start.anchor),
                    flow: (*e).data.sequence_start.style == unsafe_sys::YAML_FLOW_SEQUENCE_STYLE,
                },
                unsafe_sys::YAML_SEQUENCE_END_EVENT => EventKind::SequenceEnd,
                unsafe_sys::YAML_MAPPING_START_EVENT => EventKind::MappingStart {
                    anchor: c_string((*e).data.mapping_start.anchor),
                    flow: (*e).data.mapping_start.style == unsafe_sys::YAML_FLOW_MAPPING_STYLE,
                },
                unsafe_sys::YAML_MAPPING_END_EVENT => EventKind::MappingEnd,
                // YAML_NO_EVENT: libyaml gives it only after the stream's end.
                _ => EventKind::StreamEnd,
            };
            let (start, end) = ((*e).start_mark.into(), (*e).end_mark.into());
            unsafe_sys::yaml_event_delete(e);
            Ok(Event { kind, start, end })
        }
    }

    fn error(&self) -> ParseError {
        // SAFETY: after a failed parse the parser's error fields are set; problem and context
        // are static C strings or null.
        unsafe {
            let p = &*self.parser.as_ptr();
            let problem = c_string(p.problem as *mut u8).unwrap_or_else(|| "invalid YAML".into());
            let has_mark = matches!(
                p.error,
                unsafe_sys::YAML_SCANNER_ERROR | unsafe_sys::YAML_PARSER_ERROR
            );
            ParseError {
                problem,
                mark: has_mark.then(|| p.problem_mark.into()),
                context: c_string(p.context as *mut u8)
                    .filter(|_| has_mark)
                    .map(|c| (c, p.context_mark.into())),
                offset: p.problem_offset as usize,
            }
        }
    }
}

impl Drop for Parser<'_> {
    fn drop(&mut self) {
        // SAFETY: initialised in new and deleted only here.
        unsafe { unsafe_sys::yaml_parser_delete(self.parser.as_mut_ptr()) }
    }
}

/// A NUL-terminated string from libyaml, or None for a null pointer.
unsafe fn c_string(p: *mut u8) -> Option<String> {
    if p.is_null() {
        None
    } else {
        Some(
            CStr::from_ptr(p as *const std::ffi::c_char)
                .to_string_lossy()
                .into_owned(),
        )
    }
}
