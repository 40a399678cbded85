//! A small regular-expression engine for the `pattern` keyword, so the crate needs no regex
//! dependency.
//!
//! It evaluates the ECMAScript subset that API specs use: literals and escapes, `.`, classes
//! (`[a-z0-9_]`, `[^…]`, `\d \w \s` and their negations), groups (`(…)`, `(?:…)`,
//! `(?<name>…)`), alternation, the anchors `^` and `$`, and the quantifiers `* + ? {n}
//! {n,} {n,m}` (lazy or greedy, which does not change whether a string matches). Matching is
//! a Pike VM: linear in the input, with no catastrophic backtracking.
//!
//! Anything else (back-references, lookaround, `\b`, Unicode property classes, flags) makes
//! the pattern *unsupported*: it is then skipped, and [`Pattern::matches`] answers `None`.
//! Plaid's spec has one pattern (`^$|^[A-Za-z0-9]{2,4}$`, a request's account mask), which is
//! supported.

/// How many VM instructions a compiled pattern may have (counted repetitions are unrolled).
const MAX_PROGRAM: usize = 10_000;
/// How deeply groups may nest.
const MAX_NESTING: usize = 64;

/// A `pattern` keyword: its source, and the compiled program when the subset covers it.
#[derive(Debug, Clone)]
pub(crate) struct Pattern {
    /// The pattern as written in the spec.
    pub source: String,
    compiled: Option<Compiled>,
}

#[derive(Debug, Clone)]
struct Compiled {
    ast: Node,
    program: Vec<Inst>,
    classes: Vec<Class>,
}

#[derive(Debug, Clone, PartialEq)]
enum Node {
    Literal(char),
    Any,
    Class(Class),
    Start,
    End,
    Concat(Vec<Node>),
    Alt(Vec<Node>),
    Repeat {
        node: Box<Node>,
        min: u32,
        max: Option<u32>,
    },
}

#[derive(Debug, Clone, PartialEq)]
struct Class {
    negated: bool,
    items: Vec<Item>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Item {
    Range(char, char),
    Digit(bool),
    Word(bool),
    Space(bool),
}

fn is_word(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

fn is_space(c: char) -> bool {
    c.is_whitespace() || c == '\u{feff}'
}

fn is_line_terminator(c: char) -> bool {
    matches!(c, '\n' | '\r' | '\u{2028}' | '\u{2029}')
}

impl Item {
    fn matches(self, c: char) -> bool {
        match self {
            Item::Range(a, b) => a <= c && c <= b,
            Item::Digit(neg) => c.is_ascii_digit() != neg,
            Item::Word(neg) => is_word(c) != neg,
            Item::Space(neg) => is_space(c) != neg,
        }
    }
}

impl Class {
    fn matches(&self, c: char) -> bool {
        self.items.iter().any(|i| i.matches(c)) != self.negated
    }

    /// A character the class accepts, preferring readable ones.
    fn sample(&self) -> Option<char> {
        if !self.negated {
            for item in &self.items {
                let c = match item {
                    Item::Range(a, _) => *a,
                    Item::Digit(false) => '0',
                    Item::Word(false) => 'a',
                    Item::Space(false) => ' ',
                    Item::Digit(true) | Item::Word(true) => '-',
                    Item::Space(true) => 'a',
                };
                if self.matches(c) {
                    return Some(c);
                }
            }
        }
        "a0A_-x. Z9".chars().find(|c| self.matches(*c))
    }
}

#[derive(Debug, Clone, Copy)]
enum Inst {
    Char(char),
    Any,
    Class(usize),
    Split(usize, usize),
    Jmp(usize),
    Start,
    End,
    Match,
}

/// Why a pattern is not evaluated.
#[derive(Debug)]
struct Unsupported;

struct Parser<'a> {
    chars: std::iter::Peekable<std::str::Chars<'a>>,
    depth: usize,
}

impl Parser<'_> {
    fn alternation(&mut self) -> Result<Node, Unsupported> {
        let mut branches = vec![self.concat()?];
        while self.chars.peek() == Some(&'|') {
            self.chars.next();
            branches.push(self.concat()?);
        }
        Ok(if branches.len() == 1 {
            branches.pop().unwrap_or(Node::Concat(Vec::new()))
        } else {
            Node::Alt(branches)
        })
    }

    fn concat(&mut self) -> Result<Node, Unsupported> {
        let mut items = Vec::new();
        while let Some(&c) = self.chars.peek() {
            if c == '|' || c == ')' {
                break;
            }
            let atom = self.atom()?;
            items.push(self.quantified(atom)?);
        }
        Ok(Node::Concat(items))
    }

    fn number(&mut self) -> Option<u32> {
        let mut n: Option<u32> = None;
        while let Some(d) = self.chars.peek().and_then(|c| c.to_digit(10)) {
            self.chars.next();
            n = Some(n.unwrap_or(0).checked_mul(10)?.checked_add(d)?);
        }
        n
    }

    fn quantified(&mut self, atom: Node) -> Result<Node, Unsupported> {
        let (min, max) = match self.chars.peek() {
            Some('*') => {
                self.chars.next();
                (0, None)
            }
            Some('+') => {
                self.chars.next();
                (1, None)
            }
            Some('?') => {
                self.chars.next();
                (0, Some(1))
            }
            Some('{') => {
                // `{n}`, `{n,}`, `{n,m}`; anything else is a literal brace (Annex B).
                let saved = self.chars.clone();
                self.chars.next();
                let parsed = (|| {
                    let min = self.number()?;
                    let max = if self.chars.peek() == Some(&',') {
                        self.chars.next();
                        if self.chars.peek() == Some(&'}') {
                            None
                        } else {
                            Some(self.number()?)
                        }
                    } else {
                        Some(min)
                    };
                    (self.chars.next() == Some('}')).then_some((min, max))
                })();
                match parsed {
                    Some((min, max)) => {
                        if max.is_some_and(|m| m < min) {
                            return Err(Unsupported);
                        }
                        (min, max)
                    }
                    None => {
                        self.chars = saved;
                        return Ok(atom);
                    }
                }
            }
            _ => return Ok(atom),
        };
        if self.chars.peek() == Some(&'?') {
            self.chars.next(); // lazy: the same strings match
        }
        if matches!(atom, Node::Start | Node::End) {
            return Err(Unsupported);
        }
        Ok(Node::Repeat {
            node: Box::new(atom),
            min,
            max,
        })
    }

    fn atom(&mut self) -> Result<Node, Unsupported> {
        let c = self.chars.next().ok_or(Unsupported)?;
        Ok(match c {
            '^' => Node::Start,
            '$' => Node::End,
            '.' => Node::Any,
            '(' => {
                if self.chars.peek() == Some(&'?') {
                    self.chars.next();
                    match self.chars.next() {
                        Some(':') => {}
                        Some('<') => {
                            // A named group; `(?<=` and `(?<!` are lookbehind.
                            match self.chars.peek() {
                                Some('=') | Some('!') | None => return Err(Unsupported),
                                _ => {}
                            }
                            loop {
                                match self.chars.next() {
                                    Some('>') => break,
                                    Some(ch) if is_word(ch) || ch == '$' => {}
                                    _ => return Err(Unsupported),
                                }
                            }
                        }
                        _ => return Err(Unsupported),
                    }
                }
                self.depth += 1;
                if self.depth > MAX_NESTING {
                    return Err(Unsupported);
                }
                let inner = self.alternation()?;
                self.depth -= 1;
                if self.chars.next() != Some(')') {
                    return Err(Unsupported);
                }
                inner
            }
            ')' | '*' | '+' | '?' => return Err(Unsupported),
            '[' => Node::Class(self.class()?),
            '\\' => match self.escape(false)? {
                Escaped::Char(ch) => Node::Literal(ch),
                Escaped::Item(item) => Node::Class(Class {
                    negated: false,
                    items: vec![item],
                }),
            },
            other => Node::Literal(other),
        })
    }

    fn class(&mut self) -> Result<Class, Unsupported> {
        let mut class = Class {
            negated: false,
            items: Vec::new(),
        };
        if self.chars.peek() == Some(&'^') {
            self.chars.next();
            class.negated = true;
        }
        loop {
            let c = self.chars.next().ok_or(Unsupported)?;
            let start = match c {
                ']' => return Ok(class),
                '\\' => match self.escape(true)? {
                    Escaped::Char(ch) => ch,
                    Escaped::Item(item) => {
                        class.items.push(item);
                        continue;
                    }
                },
                other => other,
            };
            // A range `a-z`, unless the `-` is the last character of the class.
            let mut ahead = self.chars.clone();
            if ahead.next() == Some('-') && !matches!(ahead.peek(), Some(']') | None) {
                self.chars.next();
                let end = match self.chars.next().ok_or(Unsupported)? {
                    '\\' => match self.escape(true)? {
                        Escaped::Char(ch) => ch,
                        Escaped::Item(_) => return Err(Unsupported),
                    },
                    other => other,
                };
                if end < start {
                    return Err(Unsupported);
                }
                class.items.push(Item::Range(start, end));
            } else {
                class.items.push(Item::Range(start, start));
            }
        }
    }

    fn hex(&mut self, digits: usize) -> Result<char, Unsupported> {
        let mut n = 0u32;
        for _ in 0..digits {
            let d = self
                .chars
                .next()
                .and_then(|c| c.to_digit(16))
                .ok_or(Unsupported)?;
            n = n * 16 + d;
        }
        char::from_u32(n).ok_or(Unsupported)
    }

    fn escape(&mut self, in_class: bool) -> Result<Escaped, Unsupported> {
        let c = self.chars.next().ok_or(Unsupported)?;
        Ok(match c {
            'd' => Escaped::Item(Item::Digit(false)),
            'D' => Escaped::Item(Item::Digit(true)),
            'w' => Escaped::Item(Item::Word(false)),
            'W' => Escaped::Item(Item::Word(true)),
            's' => Escaped::Item(Item::Space(false)),
            'S' => Escaped::Item(Item::Space(true)),
            't' => Escaped::Char('\t'),
            'n' => Escaped::Char('\n'),
            'r' => Escaped::Char('\r'),
            'f' => Escaped::Char('\u{c}'),
            'v' => Escaped::Char('\u{b}'),
            '0' => Escaped::Char('\0'),
            'b' if in_class => Escaped::Char('\u{8}'),
            'x' => Escaped::Char(self.hex(2)?),
            'u' => Escaped::Char(self.hex(4)?),
            // Word boundaries, back-references, Unicode properties, control escapes.
            'b' | 'B' | '1'..='9' | 'k' | 'p' | 'P' | 'c' => return Err(Unsupported),
            other => Escaped::Char(other),
        })
    }
}

enum Escaped {
    Char(char),
    Item(Item),
}

struct Emitter {
    program: Vec<Inst>,
    classes: Vec<Class>,
}

impl Emitter {
    fn push(&mut self, inst: Inst) -> Result<usize, Unsupported> {
        if self.program.len() >= MAX_PROGRAM {
            return Err(Unsupported);
        }
        self.program.push(inst);
        Ok(self.program.len() - 1)
    }

    fn set(&mut self, at: usize, inst: Inst) {
        if let Some(slot) = self.program.get_mut(at) {
            *slot = inst;
        }
    }

    fn emit(&mut self, node: &Node) -> Result<(), Unsupported> {
        match node {
            Node::Literal(c) => {
                self.push(Inst::Char(*c))?;
            }
            Node::Any => {
                self.push(Inst::Any)?;
            }
            Node::Class(class) => {
                self.classes.push(class.clone());
                self.push(Inst::Class(self.classes.len() - 1))?;
            }
            Node::Start => {
                self.push(Inst::Start)?;
            }
            Node::End => {
                self.push(Inst::End)?;
            }
            Node::Concat(items) => {
                for item in items {
                    self.emit(item)?;
                }
            }
            Node::Alt(branches) => {
                let mut jumps = Vec::new();
                for (i, branch) in branches.iter().enumerate() {
                    if i + 1 < branches.len() {
                        let split = self.push(Inst::Split(0, 0))?;
                        self.emit(branch)?;
                        jumps.push(self.push(Inst::Jmp(0))?);
                        let next = self.program.len();
                        self.set(split, Inst::Split(split + 1, next));
                    } else {
                        self.emit(branch)?;
                    }
                }
                let end = self.program.len();
                for j in jumps {
                    self.set(j, Inst::Jmp(end));
                }
            }
            Node::Repeat { node, min, max } => {
                for _ in 0..*min {
                    self.emit(node)?;
                }
                match max {
                    None => {
                        let split = self.push(Inst::Split(0, 0))?;
                        self.emit(node)?;
                        self.push(Inst::Jmp(split))?;
                        let end = self.program.len();
                        self.set(split, Inst::Split(split + 1, end));
                    }
                    Some(max) => {
                        let mut splits = Vec::new();
                        for _ in *min..*max {
                            splits.push(self.push(Inst::Split(0, 0))?);
                            self.emit(node)?;
                        }
                        let end = self.program.len();
                        for s in splits {
                            self.set(s, Inst::Split(s + 1, end));
                        }
                    }
                }
            }
        }
        Ok(())
    }
}

/// A set of program counters: those that consume a character, in insertion order, and every
/// one visited.
struct Threads {
    dense: Vec<usize>,
    visited: Vec<usize>,
    present: Vec<bool>,
}

impl Threads {
    fn new(n: usize) -> Self {
        Threads {
            dense: Vec::with_capacity(n),
            visited: Vec::with_capacity(n),
            present: vec![false; n],
        }
    }

    fn clear(&mut self) {
        self.dense.clear();
        for pc in self.visited.drain(..) {
            if let Some(p) = self.present.get_mut(pc) {
                *p = false;
            }
        }
    }
}

impl Compiled {
    /// Adds `pc` and everything reachable from it without input; true when that reaches a
    /// match.
    fn add(&self, threads: &mut Threads, pc: usize, pos: usize, len: usize) -> bool {
        let mut stack = vec![pc];
        while let Some(pc) = stack.pop() {
            match threads.present.get(pc) {
                Some(false) => {}
                _ => continue,
            }
            if let Some(p) = threads.present.get_mut(pc) {
                *p = true;
                threads.visited.push(pc);
            }
            match self.program.get(pc) {
                Some(Inst::Match) => return true,
                Some(Inst::Jmp(to)) => stack.push(*to),
                Some(Inst::Split(a, b)) => {
                    stack.push(*b);
                    stack.push(*a);
                }
                Some(Inst::Start) if pos == 0 => stack.push(pc + 1),
                Some(Inst::End) if pos == len => stack.push(pc + 1),
                Some(Inst::Start | Inst::End) => {}
                Some(_) => threads.dense.push(pc),
                None => {}
            }
        }
        false
    }

    /// Whether the pattern matches somewhere in `input` (ECMAScript `test`).
    fn is_match(&self, input: &str) -> bool {
        let chars: Vec<char> = input.chars().collect();
        let len = chars.len();
        let n = self.program.len();
        let mut current = Threads::new(n);
        let mut next = Threads::new(n);
        for pos in 0..=len {
            if self.add(&mut current, 0, pos, len) {
                return true;
            }
            let Some(&c) = chars.get(pos) else {
                break;
            };
            next.clear();
            for &pc in &current.dense {
                let step = match self.program.get(pc) {
                    Some(Inst::Char(x)) => *x == c,
                    Some(Inst::Any) => !is_line_terminator(c),
                    Some(Inst::Class(i)) => self.classes.get(*i).is_some_and(|k| k.matches(c)),
                    _ => false,
                };
                if step && self.add(&mut next, pc + 1, pos + 1, len) {
                    return true;
                }
            }
            std::mem::swap(&mut current, &mut next);
        }
        false
    }
}

/// Writes a string the node matches: each repetition `extra` times more than its minimum
/// (within its maximum), each alternation's first or last branch.
fn generate(node: &Node, extra: u32, last_branch: bool, out: &mut String) -> Option<()> {
    match node {
        Node::Literal(c) => out.push(*c),
        Node::Any => out.push('a'),
        Node::Class(class) => out.push(class.sample()?),
        Node::Start | Node::End => {}
        Node::Concat(items) => {
            for item in items {
                generate(item, extra, last_branch, out)?;
            }
        }
        Node::Alt(branches) => {
            let branch = if last_branch {
                branches.last()
            } else {
                branches.first()
            }?;
            generate(branch, extra, last_branch, out)?;
        }
        Node::Repeat { node, min, max } => {
            let mut count = min.saturating_add(extra);
            if let Some(max) = max {
                count = count.min(*max);
            }
            for _ in 0..count.min(256) {
                generate(node, extra, last_branch, out)?;
            }
        }
    }
    Some(())
}

impl Pattern {
    /// Parses `source`; a pattern outside the subset is kept, unsupported.
    pub(crate) fn new(source: &str) -> Pattern {
        let compiled = (|| {
            let mut parser = Parser {
                chars: source.chars().peekable(),
                depth: 0,
            };
            let ast = parser.alternation()?;
            if parser.chars.next().is_some() {
                return Err(Unsupported);
            }
            let mut emitter = Emitter {
                program: Vec::new(),
                classes: Vec::new(),
            };
            emitter.emit(&ast)?;
            emitter.push(Inst::Match)?;
            Ok::<_, Unsupported>(Compiled {
                ast,
                program: emitter.program,
                classes: emitter.classes,
            })
        })()
        .ok();
        Pattern {
            source: source.to_owned(),
            compiled,
        }
    }

    /// Whether `input` matches: `None` when the pattern is outside the supported subset.
    pub(crate) fn matches(&self, input: &str) -> Option<bool> {
        self.compiled.as_ref().map(|c| c.is_match(input))
    }

    /// A string that matches, with between `min` and `max` characters, if one is found.
    pub(crate) fn generate(&self, min: usize, max: usize) -> Option<String> {
        let compiled = self.compiled.as_ref()?;
        for extra in 0..=16 {
            for last in [false, true] {
                let mut out = String::new();
                if generate(&compiled.ast, extra, last, &mut out).is_none() {
                    continue;
                }
                let n = out.chars().count();
                if n >= min && n <= max && compiled.is_match(&out) {
                    return Some(out);
                }
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::Pattern;

    fn m(p: &str, s: &str) -> Option<bool> {
        Pattern::new(p).matches(s)
    }

    #[test]
    fn plaid_mask_pattern() {
        let p = "^$|^[A-Za-z0-9]{2,4}$";
        assert_eq!(m(p, ""), Some(true));
        assert_eq!(m(p, "12"), Some(true));
        assert_eq!(m(p, "a1B2"), Some(true));
        assert_eq!(m(p, "1"), Some(false));
        assert_eq!(m(p, "12345"), Some(false));
        assert_eq!(m(p, "12-4"), Some(false));
        let generated = Pattern::new(p).generate(2, 4).unwrap();
        assert_eq!(m(p, &generated), Some(true));
        assert_eq!(generated.len(), 2);
        assert_eq!(Pattern::new(p).generate(0, 10).as_deref(), Some(""));
    }

    #[test]
    fn search_semantics_and_classes() {
        assert_eq!(m("b+", "aabbb"), Some(true));
        assert_eq!(m("^b+", "aabbb"), Some(false));
        assert_eq!(m(r"^\d{3}-\d{2}$", "123-45"), Some(true));
        assert_eq!(m(r"^\d{3}-\d{2}$", "123-4x"), Some(false));
        assert_eq!(m(r"^[^\s@]+@[^\s@]+\.[a-z]{2,}$", "a@b.io"), Some(true));
        assert_eq!(m(r"^[^\s@]+@[^\s@]+\.[a-z]{2,}$", "a b@c.io"), Some(false));
        assert_eq!(m(r"^(?:ab|cd)*$", "abcdab"), Some(true));
        assert_eq!(m(r"^(?<x>ab)?c$", "c"), Some(true));
        assert_eq!(m(r"^a.c$", "a\nc"), Some(false));
        assert_eq!(m(r"^[a-]$", "-"), Some(true));
        assert_eq!(m(r"^x{2}$", "xx"), Some(true));
        assert_eq!(m(r"^x{,2}$", "x{,2}"), Some(true));
        assert_eq!(m(r"^\u0041$", "A"), Some(true));
    }

    #[test]
    fn unsupported_patterns_are_skipped() {
        assert_eq!(m(r"^(a)\1$", "aa"), None);
        assert_eq!(m(r"^(?=a)a$", "a"), None);
        assert_eq!(m(r"\bword\b", "word"), None);
        assert_eq!(m(r"^\p{L}+$", "word"), None);
        assert_eq!(m("(", "x"), None);
        assert_eq!(m("a{3,1}", "x"), None);
        assert_eq!(Pattern::new("(a").generate(0, 9), None);
    }

    #[test]
    fn no_blowup() {
        let p = "^(a+)+$";
        let input = format!("{}!", "a".repeat(5000));
        assert_eq!(m(p, &input), Some(false));
        assert_eq!(m("(a{1000}){1000}", "a"), None);
    }
}
