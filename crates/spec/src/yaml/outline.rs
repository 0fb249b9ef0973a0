//! Where the nodes of a YAML text are written, from the events of `saphyr-parser`.
//!
//! [`outline`] walks the parser's events with a stack of open collections and records, for every
//! mapping entry, the position of its key and where its value is, and for every sequence item,
//! the position of its value (after `- `). An alias is recorded at its own text (`*defaults`)
//! and points at the anchored node, so that what lies below it is found in the anchored text;
//! nothing is copied, so the outline stays as small as the text whatever the aliases expand to.
//!
//! The outline knows nothing about keys' names, only their order: [`super::convert`] pairs it
//! entry by entry with the value serde_yaml read from the same text.

use std::collections::HashMap;

use saphyr_parser::{Event, Marker, Parser, ScalarStyle, Span};

use super::Position;

/// Index of a node in [`Outline::nodes`].
pub(super) type NodeId = usize;

/// A node and where its text starts: a key, an item, or an alias standing for an anchored node.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Placed {
    pub pos: Position,
    pub node: NodeId,
}

/// The shape of one node, children in written order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(super) enum Shape {
    #[default]
    Scalar,
    /// Each entry: the position of its key, and its value.
    Map(Vec<(Position, Placed)>),
    Seq(Vec<Placed>),
}

/// The written structure of a document's first node.
#[derive(Clone, Debug, Default)]
pub(super) struct Outline {
    pub nodes: Vec<Shape>,
    pub root: Option<Placed>,
}

impl Outline {
    /// The entries of the mapping at `node`, if it is a mapping of `len` entries.
    pub fn map(&self, node: NodeId, len: usize) -> Option<&[(Position, Placed)]> {
        match self.nodes.get(node)? {
            Shape::Map(entries) if entries.len() == len => Some(entries),
            _ => None,
        }
    }

    /// The items of the sequence at `node`, if it is a sequence of `len` items.
    pub fn seq(&self, node: NodeId, len: usize) -> Option<&[Placed]> {
        match self.nodes.get(node)? {
            Shape::Seq(items) if items.len() == len => Some(items),
            _ => None,
        }
    }
}

/// A collection whose end event has not come yet.
enum Open {
    Map {
        id: NodeId,
        /// The position of a key whose value has not come yet.
        key: Option<Position>,
        entries: Vec<(Position, Placed)>,
    },
    Seq {
        id: NodeId,
        items: Vec<Placed>,
    },
}

/// The outline of `text`'s first document. Never fails: on an error of the parser, what was
/// read up to it is kept (serde_yaml has accepted the text; this parser is only asked where
/// things are).
pub(super) fn outline(text: &str) -> Outline {
    let mut walk = Walk {
        chars: text.chars().collect(),
        nodes: Vec::new(),
        root: None,
        open: Vec::new(),
        anchors: HashMap::new(),
    };
    // Where the previous event ended.
    let mut last_end = None;
    for event in Parser::new_from_str(text) {
        let Ok((event, span)) = event else { break };
        let previous_end = last_end.replace(Cursor::at(&span.end));
        match event {
            Event::Scalar(value, style, anchor, _) => {
                let id = walk.node(anchor);
                let pos = match style {
                    ScalarStyle::Literal | ScalarStyle::Folded => previous_end
                        .and_then(|from| walk.block_scalar_header(from, &span.start))
                        .unwrap_or_else(|| position(&span.start)),
                    ScalarStyle::Plain if value.is_empty() => position(&span.start),
                    _ => walk.content_start(&span, false),
                };
                walk.attach(Placed { pos, node: id });
            }
            Event::Alias(anchor) => {
                let node = match walk.anchors.get(&anchor) {
                    Some(&node) => node,
                    None => walk.node(0),
                };
                let pos = position(&span.start);
                walk.attach(Placed { pos, node });
            }
            Event::MappingStart(anchor, _) | Event::SequenceStart(anchor, _) => {
                let id = walk.node(anchor);
                let pos = walk.content_start(&span, true);
                walk.attach(Placed { pos, node: id });
                walk.open.push(match event {
                    Event::MappingStart(..) => Open::Map {
                        id,
                        key: None,
                        entries: Vec::new(),
                    },
                    _ => Open::Seq {
                        id,
                        items: Vec::new(),
                    },
                });
            }
            Event::MappingEnd | Event::SequenceEnd => walk.close(),
            Event::DocumentEnd => break,
            _ => {}
        }
    }
    while !walk.open.is_empty() {
        walk.close();
    }
    Outline {
        nodes: walk.nodes,
        root: walk.root,
    }
}

struct Walk {
    /// The text, indexed as the parser's marks index it (by character).
    chars: Vec<char>,
    nodes: Vec<Shape>,
    root: Option<Placed>,
    open: Vec<Open>,
    /// The parser's anchor ids (1, 2, ...; 0 is "no anchor") to the nodes they name.
    anchors: HashMap<usize, NodeId>,
}

impl Walk {
    /// A new node, named by `anchor` when it is not 0. Its shape is written when it closes.
    fn node(&mut self, anchor: usize) -> NodeId {
        let id = self.nodes.len();
        self.nodes.push(Shape::Scalar);
        if anchor != 0 {
            self.anchors.insert(anchor, id);
        }
        id
    }

    /// Records `placed` in the innermost open collection: as a key, a key's value or an item.
    fn attach(&mut self, placed: Placed) {
        match self.open.last_mut() {
            None => {
                self.root.get_or_insert(placed);
            }
            Some(Open::Map { key, entries, .. }) => match key.take() {
                None => *key = Some(placed.pos),
                Some(key_pos) => entries.push((key_pos, placed)),
            },
            Some(Open::Seq { items, .. }) => items.push(placed),
        }
    }

    fn close(&mut self) {
        match self.open.pop() {
            Some(Open::Map { id, entries, .. }) => self.nodes[id] = Shape::Map(entries),
            Some(Open::Seq { id, items }) => self.nodes[id] = Shape::Seq(items),
            None => {}
        }
    }

    /// Where a node's content starts: its span starts at its properties (`&anchor`, `!tag`)
    /// when it has some; skip them and the separation after them, as long as that stays inside
    /// the span (a collection's span may end where its content starts; a block mapping's
    /// empty span at its first key belongs to that key's properties, which are then kept).
    fn content_start(&self, span: &Span, collection: bool) -> Position {
        let start = Cursor::at(&span.start);
        let content = self.skip_properties(start);
        let end = span.end.index();
        let inside = content.index < end || (collection && content.index == end);
        position_of(if inside { content } else { start })
    }

    /// Where a block scalar's header (`|`, `>-`, ...) is: its span starts at its content, or at
    /// its properties. The header is the first `|` or `>` after the previous event, past
    /// indicators, properties and comments.
    fn block_scalar_header(&self, from: Cursor, content: &Marker) -> Option<Position> {
        let mut at = from;
        while at.index < content.index() {
            match self.char(at.index)? {
                '|' | '>' => return Some(position_of(at)),
                '&' | '!' => at = self.skip_properties(at),
                '#' => {
                    while let Some(c) = self.char(at.index).filter(|c| !matches!(c, '\n' | '\r')) {
                        at.step(c, None);
                    }
                }
                c => at.step(c, self.char(at.index + 1)),
            }
        }
        None
    }

    fn skip_properties(&self, mut at: Cursor) -> Cursor {
        while let Some('&' | '!') = self.char(at.index) {
            let verbatim_tag = self.char(at.index + 1) == Some('<');
            while let Some(c) = self.char(at.index) {
                let ends = if verbatim_tag {
                    c == '>'
                } else {
                    c.is_whitespace() || matches!(c, ',' | '[' | ']' | '{' | '}')
                };
                if ends {
                    break;
                }
                at.step(c, self.char(at.index + 1));
            }
            if verbatim_tag && self.char(at.index) == Some('>') {
                at.step('>', self.char(at.index + 1));
            }
            self.skip_separation(&mut at);
        }
        at
    }

    /// Spaces, tabs, comments and line breaks.
    fn skip_separation(&self, at: &mut Cursor) {
        let mut in_comment = false;
        while let Some(c) = self.char(at.index) {
            match c {
                '\n' | '\r' => in_comment = false,
                '#' => in_comment = true,
                ' ' | '\t' => {}
                _ if in_comment => {}
                _ => return,
            }
            at.step(c, self.char(at.index + 1));
        }
    }

    fn char(&self, index: usize) -> Option<char> {
        self.chars.get(index).copied()
    }
}

/// A place in the text: character index, 1-based line, 0-based column (the parser's marks).
#[derive(Clone, Copy)]
struct Cursor {
    index: usize,
    line: usize,
    col: usize,
}

impl Cursor {
    fn at(m: &Marker) -> Self {
        Cursor {
            index: m.index(),
            line: m.line(),
            col: m.col(),
        }
    }

    /// Moves past `c` (followed by `next`): `\n`, `\r\n` and a lone `\r` end a line.
    fn step(&mut self, c: char, next: Option<char>) {
        self.index += 1;
        if c == '\n' || (c == '\r' && next != Some('\n')) {
            self.line += 1;
            self.col = 0;
        } else {
            self.col += 1;
        }
    }
}

fn position(m: &Marker) -> Position {
    position_of(Cursor::at(m))
}

fn position_of(c: Cursor) -> Position {
    Position {
        line: c.line,
        column: c.col + 1,
    }
}
