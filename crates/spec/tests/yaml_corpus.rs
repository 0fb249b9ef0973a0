//! Every key and item of a seeded corpus of generated YAML documents gets a position, and the text
//! at that position is its own. The generator writes random nested block and flow mappings and
//! sequences, quoted keys, comments, multi-line scalars, anchors, aliases, merge keys, odd
//! indentation and CRLF line ends, and records where it wrote each key and item: positions are
//! compared exactly (merged keys and aliases' parts where the anchored text writes them), and
//! the parsed document's keys and items must be the generated ones.

mod own_text;

use std::collections::BTreeMap;

use optbench_spec::yaml::{self, KeyPath, Position};
use rand::{Rng as _, SeedableRng};
use rand_chacha::ChaCha8Rng;

use own_text::{first_line, own_text_failures, paths, text_at};

/// A seeded stream of choices (ChaCha8: the same documents on every platform and version).
struct Rng(ChaCha8Rng);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0.random_range(0..n)
    }

    fn chance(&mut self, percent: u32) -> bool {
        self.0.random_ratio(percent, 100)
    }

    fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len())]
    }
}

/// What the generator wrote: the structure the parser must find, with the position of every
/// key and item.
#[derive(Clone, Debug)]
enum Expect {
    Leaf,
    Map(Vec<(String, Position, Expect)>),
    Seq(Vec<(Position, Expect)>),
}

impl Expect {
    fn table(&self, at: &KeyPath, out: &mut BTreeMap<KeyPath, Position>) {
        match self {
            Expect::Leaf => {}
            Expect::Map(entries) => {
                for (k, pos, e) in entries {
                    out.insert(at.key(k), *pos);
                    e.table(&at.key(k), out);
                }
            }
            Expect::Seq(items) => {
                for (i, (pos, e)) in items.iter().enumerate() {
                    out.insert(at.index(i), *pos);
                    e.table(&at.index(i), out);
                }
            }
        }
    }
}

/// Keys as written, and as the parsed document names them.
const KEYS: &[(&str, &str)] = &[
    ("lr", "lr"),
    ("name", "name"),
    ("momentum", "momentum"),
    ("a", "a"),
    ("b_c", "b_c"),
    ("x1", "x1"),
    ("dot.key", "dot.key"),
    ("with-dash", "with-dash"),
    ("1", "1"),
    ("\"with space\"", "with space"),
    ("'it''s'", "it's"),
    ("\"colon: x\"", "colon: x"),
    ("'#hash'", "#hash"),
];

/// Scalars that read the same in block and flow context.
const FLOW_SCALARS: &[&str] = &[
    "sgd",
    "0.5",
    "1e-3",
    "12",
    "-3",
    "true",
    "~",
    "'quoted'",
    "\"dq # not a comment\"",
    "'it''s'",
    "two words",
];

/// Scalars for block context only.
const BLOCK_SCALARS: &[&str] = &["a:b", "http://x.y/z?q=1,2", "plain, with comma"];

const MAX_DEPTH: usize = 4;

struct Gen {
    rng: Rng,
    out: String,
    line: usize,
    col: usize,
    /// Anchored nodes so far: name, what they hold, whether a mapping.
    anchors: Vec<(String, Expect, bool)>,
    /// Anchors named so far (an anchor is in `anchors` once its node is complete).
    named: usize,
    depth: usize,
}

impl Gen {
    fn put(&mut self, s: &str) {
        for c in s.chars() {
            if c == '\n' {
                self.line += 1;
                self.col = 0;
            } else {
                self.col += 1;
            }
        }
        self.out.push_str(s);
    }

    fn here(&self) -> Position {
        Position {
            line: self.line,
            column: self.col + 1,
        }
    }

    fn spaces(&mut self, n: usize) {
        self.put(&" ".repeat(n));
    }

    /// A line break, maybe blank lines and comment lines (never deeper than `indent`, so that
    /// they cannot be read as the content of a block scalar), then `indent` spaces.
    fn line_break(&mut self, indent: usize) {
        self.put("\n");
        while self.rng.chance(15) {
            if self.rng.chance(50) {
                let n = self.rng.below(indent + 1);
                self.spaces(n);
                self.put("# a comment: with [brackets], 'quotes' and - dashes");
            }
            self.put("\n");
        }
        self.spaces(indent);
    }

    fn trailing_comment(&mut self) {
        if self.rng.chance(20) {
            self.put("   # trailing: comment");
        }
    }

    fn new_anchor(&mut self) -> String {
        let name = format!("a{}", self.named);
        self.named += 1;
        self.put(&format!("&{name}"));
        name
    }

    fn map_anchors(&self) -> Vec<usize> {
        (0..self.anchors.len())
            .filter(|&i| self.anchors[i].2)
            .collect()
    }

    /// Keys for a mapping: distinct names, and maybe a merge key first or elsewhere.
    fn entries(&mut self) -> Vec<Option<(&'static str, &'static str)>> {
        let n = 1 + self.rng.below(4);
        let mut keys: Vec<Option<(&str, &str)>> = Vec::new();
        while keys.len() < n {
            let k = *self.rng.pick(KEYS);
            if !keys.contains(&Some(k)) {
                keys.push(Some(k));
            }
        }
        if !self.map_anchors().is_empty() && self.rng.chance(35) {
            let at = self.rng.below(keys.len() + 1);
            keys.insert(at, None);
        }
        keys
    }

    /// Writes the value of a merge key (after `<<:`) and returns the merged mappings in order.
    fn merge_value(&mut self) -> Vec<Expect> {
        let candidates = self.map_anchors();
        let n = if candidates.len() >= 2 && self.rng.chance(40) {
            2
        } else {
            1
        };
        let mut chosen = Vec::new();
        while chosen.len() < n {
            let c = *self.rng.pick(&candidates);
            if !chosen.contains(&c) {
                chosen.push(c);
            }
        }
        let names: Vec<String> = chosen
            .iter()
            .map(|&c| format!("*{}", self.anchors[c].0))
            .collect();
        if n == 1 && self.rng.chance(70) {
            self.put(&names[0]);
        } else {
            self.put(&format!("[{}]", names.join(", ")));
        }
        chosen.iter().map(|&c| self.anchors[c].1.clone()).collect()
    }

    /// A mapping's expectation: its own entries, then merged ones it does not have.
    fn merged(own: Vec<(String, Position, Expect)>, sources: Vec<Expect>) -> Expect {
        let mut entries = own;
        for source in sources {
            if let Expect::Map(merged) = source {
                for (k, pos, e) in merged {
                    if !entries.iter().any(|(own, _, _)| *own == k) {
                        entries.push((k, pos, e));
                    }
                }
            }
        }
        Expect::Map(entries)
    }

    /// A block mapping with its keys at column `indent`. When `inline`, the writer is already
    /// there (after `- `, or at the start of the document). Returns where it starts.
    fn block_map(&mut self, indent: usize, inline: bool) -> (Position, Expect) {
        self.depth += 1;
        let mut start = None;
        let mut own = Vec::new();
        let mut sources = Vec::new();
        for (i, entry) in self.entries().into_iter().enumerate() {
            if i > 0 || !inline {
                self.line_break(indent);
            }
            start.get_or_insert(self.here());
            match entry {
                None => {
                    self.put("<<: ");
                    sources = self.merge_value();
                    self.trailing_comment();
                }
                Some((written, key)) => {
                    let pos = self.here();
                    self.put(written);
                    self.put(":");
                    let e = self.block_value(indent);
                    own.push((key.to_string(), pos, e));
                }
            }
        }
        self.depth -= 1;
        (start.unwrap(), Self::merged(own, sources))
    }

    /// A block sequence with its dashes at column `indent`.
    fn block_seq(&mut self, indent: usize, inline: bool) -> (Position, Expect) {
        self.depth += 1;
        let mut start = None;
        let mut items = Vec::new();
        for i in 0..1 + self.rng.below(4) {
            if i > 0 || !inline {
                self.line_break(indent);
            }
            start.get_or_insert(self.here());
            self.put("-");
            let item = if self.depth < MAX_DEPTH && self.rng.chance(15) {
                // The item's value on the following lines.
                let child = indent + 1 + self.rng.below(4);
                if self.rng.chance(50) {
                    self.block_map(child, false)
                } else {
                    self.block_seq(child, false)
                }
            } else {
                let gap = 1 + self.rng.below(3);
                self.spaces(gap);
                self.item_value(indent, indent + 1 + gap)
            };
            items.push(item);
        }
        self.depth -= 1;
        (start.unwrap(), Expect::Seq(items))
    }

    /// A sequence item's value, written at column `col` of a sequence at column `indent`.
    fn item_value(&mut self, indent: usize, col: usize) -> (Position, Expect) {
        let deep = self.depth >= MAX_DEPTH;
        match self.rng.below(if deep { 4 } else { 9 }) {
            0 | 1 => {
                let pos = self.here();
                self.scalar(true);
                self.trailing_comment();
                (pos, Expect::Leaf)
            }
            2 => self.multi_line_scalar(col),
            3 if !self.anchors.is_empty() => {
                let pos = self.here();
                let (name, e, _) = self.rng.pick(&self.anchors).clone();
                self.put(&format!("*{name}"));
                (pos, e)
            }
            3 | 4 => {
                let r = self.flow(indent + 1);
                self.trailing_comment();
                r
            }
            5 => {
                let name = self.new_anchor();
                self.put(" ");
                let (pos, e, is_map) = if self.rng.chance(50) {
                    let pos = self.here();
                    self.scalar(true);
                    (pos, Expect::Leaf, false)
                } else {
                    let (pos, e) = self.flow(indent + 1);
                    let is_map = matches!(e, Expect::Map(_));
                    (pos, e, is_map)
                };
                self.anchors.push((name, e.clone(), is_map));
                (pos, e)
            }
            6 => self.block_seq(col, true),
            _ => self.block_map(col, true),
        }
    }

    /// A mapping value, after `key:`, in a mapping at column `indent`.
    fn block_value(&mut self, indent: usize) -> Expect {
        let deep = self.depth >= MAX_DEPTH;
        match self.rng.below(if deep { 5 } else { 10 }) {
            0 | 1 => {
                self.put(" ");
                self.scalar(true);
                self.trailing_comment();
                Expect::Leaf
            }
            2 => {
                self.put(" ");
                self.multi_line_scalar(indent + 1).1
            }
            3 if !self.anchors.is_empty() => {
                let (name, e, _) = self.rng.pick(&self.anchors).clone();
                self.put(&format!(" *{name}"));
                self.trailing_comment();
                e
            }
            3 => {
                self.trailing_comment();
                Expect::Leaf // an empty value: null
            }
            4 => {
                self.put(" ");
                let e = self.flow(indent + 1).1;
                self.trailing_comment();
                e
            }
            5 | 6 => {
                self.trailing_comment();
                {
                    let child = indent + 1 + self.rng.below(4);
                    self.block_map(child, false).1
                }
            }
            7 => {
                self.trailing_comment();
                {
                    let child = indent + self.rng.below(4);
                    self.block_seq(child, false).1
                }
            }
            _ => {
                // An anchored block collection, for aliases and merge keys further down.
                self.put(" ");
                let name = self.new_anchor();
                self.trailing_comment();
                let is_map = self.rng.chance(75);
                let e = if is_map {
                    {
                        let child = indent + 1 + self.rng.below(4);
                        self.block_map(child, false).1
                    }
                } else {
                    {
                        let child = indent + self.rng.below(4);
                        self.block_seq(child, false).1
                    }
                };
                self.anchors.push((name, e.clone(), is_map));
                e
            }
        }
    }

    fn scalar(&mut self, block: bool) {
        let s = if block && self.rng.chance(20) {
            *self.rng.pick(BLOCK_SCALARS)
        } else {
            *self.rng.pick(FLOW_SCALARS)
        };
        self.put(s);
    }

    /// A block scalar, a plain scalar or a double-quoted scalar over several lines, starting
    /// here; continuation lines at column `cont` or deeper.
    fn multi_line_scalar(&mut self, cont: usize) -> (Position, Expect) {
        let pos = self.here();
        let lines = 2 + self.rng.below(2);
        match self.rng.below(3) {
            0 => {
                let header = *self.rng.pick(&["|", ">", "|-", ">+"]);
                self.put(header);
                let indent = cont + self.rng.below(3);
                for i in 0..lines {
                    self.put("\n");
                    let deeper = i > 0 && self.rng.chance(20);
                    self.spaces(indent + usize::from(deeper));
                    self.put("text: with # and 'quotes'");
                }
            }
            1 => {
                self.put("first words");
                self.continuation_lines(lines - 1, cont, "more words");
            }
            _ => {
                self.put("\"first");
                self.continuation_lines(lines - 1, cont, "next, \\\"escaped\\\"");
                self.put("\"");
            }
        }
        (pos, Expect::Leaf)
    }

    /// `n` lines of `text` at column `cont` or a little deeper.
    fn continuation_lines(&mut self, n: usize, cont: usize, text: &str) {
        for _ in 0..n {
            self.put("\n");
            let extra = self.rng.below(3);
            self.spaces(cont + extra);
            self.put(text);
        }
    }

    /// A flow collection (or, deep down, a scalar) starting here; continuation lines at column
    /// `cont` or deeper.
    fn flow(&mut self, cont: usize) -> (Position, Expect) {
        let pos = self.here();
        if self.depth >= MAX_DEPTH + 2 {
            self.scalar(false);
            return (pos, Expect::Leaf);
        }
        self.depth += 1;
        let e = if self.rng.chance(50) {
            self.put("{");
            let mut own = Vec::new();
            let mut sources = Vec::new();
            let entries = if self.rng.chance(10) {
                Vec::new()
            } else {
                self.entries()
            };
            for (i, entry) in entries.into_iter().enumerate() {
                self.flow_separator(i, cont);
                match entry {
                    None => {
                        self.put("<<: ");
                        sources = self.merge_value();
                    }
                    Some((written, key)) => {
                        let key_pos = self.here();
                        self.put(written);
                        self.put(": ");
                        let e = self.flow_item(cont);
                        own.push((key.to_string(), key_pos, e.1));
                    }
                }
            }
            let close = if self.rng.chance(50) { " }" } else { "}" };
            self.put(close);
            Self::merged(own, sources)
        } else {
            self.put("[");
            let mut items = Vec::new();
            for i in 0..self.rng.below(4) {
                self.flow_separator(i, cont);
                items.push(self.flow_item(cont));
            }
            self.put("]");
            Expect::Seq(items)
        };
        self.depth -= 1;
        (pos, e)
    }

    fn flow_separator(&mut self, i: usize, cont: usize) {
        if i > 0 {
            self.put(",");
        }
        if self.rng.chance(20) {
            self.put("\n");
            let extra = self.rng.below(3);
            self.spaces(cont + extra);
        } else if i > 0 || self.rng.chance(30) {
            self.put(" ");
        }
    }

    fn flow_item(&mut self, cont: usize) -> (Position, Expect) {
        if !self.anchors.is_empty() && self.rng.chance(10) {
            let pos = self.here();
            let (name, e, _) = self.rng.pick(&self.anchors).clone();
            self.put(&format!("*{name}"));
            return (pos, e);
        }
        if self.rng.chance(35) {
            return self.flow(cont);
        }
        let pos = self.here();
        self.scalar(false);
        (pos, Expect::Leaf)
    }
}

/// A document from `seed`: its text and what it holds.
fn generate(seed: u64) -> (String, Expect) {
    let mut g = Gen {
        rng: Rng(ChaCha8Rng::seed_from_u64(seed)),
        out: String::new(),
        line: 1,
        col: 0,
        anchors: Vec::new(),
        named: 0,
        depth: 0,
    };
    if g.rng.chance(20) {
        g.put("# a document\n");
    }
    if g.rng.chance(20) {
        g.put("---\n");
    }
    let (_, expect) = g.block_map(0, true);
    g.put("\n");
    let crlf = g.rng.chance(30);
    let text = if crlf {
        g.out.replace('\n', "\r\n")
    } else {
        g.out
    };
    (text, expect)
}

#[test]
fn every_key_and_item_of_a_generated_corpus_points_at_its_own_text() {
    let mut keys_and_items = 0;
    let mut merged_documents = 0;
    let mut crlf_documents = 0;
    for seed in 0..500u64 {
        let (text, expect) = generate(seed);
        let show = || format!("seed {seed}:\n{text}");
        let doc = yaml::parse(&text).unwrap_or_else(|e| panic!("{e:?}\n{}", show()));
        let mut want = BTreeMap::new();
        expect.table(&KeyPath::root(), &mut want);
        let mut found = Vec::new();
        paths(&doc.value, &KeyPath::root(), &mut found);
        let found_paths: Vec<&KeyPath> = found.iter().map(|(p, _)| p).collect();
        let want_paths: Vec<&KeyPath> = want.keys().collect();
        let mut found_sorted = found_paths.clone();
        found_sorted.sort();
        assert_eq!(found_sorted, want_paths, "{}", show());
        for (path, pos) in &want {
            assert_eq!(
                doc.locate_exact(path),
                Some(*pos),
                "{path}: text there `{}`\n{}",
                first_line(text_at(&text, *pos)),
                show()
            );
        }
        let failures = own_text_failures(&text, &doc);
        assert!(failures.is_empty(), "{}\n{}", failures.join("\n"), show());
        keys_and_items += want.len();
        merged_documents += usize::from(text.contains("<<"));
        crlf_documents += usize::from(text.contains('\r'));
    }
    // The corpus is what it claims to be.
    assert!(keys_and_items > 10_000, "{keys_and_items}");
    assert!(merged_documents > 100, "{merged_documents}");
    assert!(crlf_documents > 60, "{crlf_documents}");
}
