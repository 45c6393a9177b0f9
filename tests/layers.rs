#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The layer rule of ARCHITECTURE.md ("Layers"), checked on the source: every file of `src/`
//! is read, its imports (`use` declarations and `crate::`/`super::`/`self::` paths in code)
//! are resolved to the file that defines what they name (through re-exports), and
//! - no two files import each other, directly or round a circle;
//! - a top-level module imports only modules of its own layer or below, and the modules of one
//!   layer do not import each other round a circle.
//!
//! Test code (`tests.rs`, `src/**/tests/`, `#[cfg(test)]` items) is left out: a test may
//! reach across layers to build its inputs.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Bottom first. A module may import its own layer and those above it in this list.
const LAYERS: &[(&str, &[&str])] = &[
    ("primitives", &["secret", "stats", "rootfs"]),
    ("records", &["paper", "model"]),
    ("configuration", &["profile"]),
    (
        "results",
        &["share", "results", "compare", "event", "report", "plot"],
    ),
    (
        "adapters",
        &["snapshots", "redis_host", "netem", "platform", "gateway"],
    ),
    ("experiments", &["experiments", "engine", "bench"]),
    ("faces", &["cli", "tui"]),
];

type ModPath = Vec<String>;

#[derive(Default)]
struct File {
    /// Paths named in `use` declarations and in code, as written.
    paths: Vec<Vec<String>>,
    /// Names bound by `use` declarations: name → path as written.
    bindings: BTreeMap<String, Vec<String>>,
    /// `mod name;` / `mod name { … }` declared here.
    children: BTreeSet<String>,
}

fn mod_path(root: &Path, file: &Path) -> ModPath {
    let rel = file.strip_prefix(root).unwrap_or(file).with_extension("");
    let mut segs: Vec<String> = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if matches!(
        segs.last().map(String::as_str),
        Some("mod" | "lib" | "main")
    ) {
        segs.pop();
    }
    segs
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let p = entry.unwrap().path();
        if p.is_dir() {
            if p.file_name().is_some_and(|n| n == "tests") {
                continue;
            }
            rust_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "rs")
            && p.file_name().is_some_and(|n| n != "tests.rs")
        {
            out.push(p);
        }
    }
}

/// Comments, string and char literals blanked out (lifetimes kept), so braces and paths in
/// them are not read as code.
fn strip(src: &str) -> String {
    let b: Vec<char> = src.chars().collect();
    let mut out = String::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        let next = b.get(i + 1).copied();
        if c == '/' && next == Some('/') {
            while i < b.len() && b[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && next == Some('*') {
            let mut depth = 0;
            while i < b.len() {
                if b[i] == '/' && b.get(i + 1) == Some(&'*') {
                    depth += 1;
                    i += 2;
                } else if b[i] == '*' && b.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    i += 1;
                }
            }
            out.push(' ');
        } else if c == 'r'
            && (next == Some('"') || next == Some('#'))
            && (i == 0 || !(b[i - 1].is_alphanumeric() || b[i - 1] == '_'))
        {
            // raw string r"…" / r#"…"#
            let mut j = i + 1;
            let mut hashes = 0;
            while b.get(j) == Some(&'#') {
                hashes += 1;
                j += 1;
            }
            if b.get(j) != Some(&'"') {
                out.push(c);
                i += 1;
                continue;
            }
            j += 1;
            loop {
                if j >= b.len() {
                    break;
                }
                if b[j] == '"' && (0..hashes).all(|k| b.get(j + 1 + k) == Some(&'#')) {
                    j += 1 + hashes;
                    break;
                }
                j += 1;
            }
            out.push_str("\"\"");
            i = j;
        } else if c == '"' {
            i += 1;
            while i < b.len() && b[i] != '"' {
                if b[i] == '\\' {
                    i += 1;
                }
                i += 1;
            }
            i += 1;
            out.push_str("\"\"");
        } else if c == '\'' {
            // A char literal ('x', '\n', '\u{…}') or a lifetime ('a).
            if next == Some('\\') {
                let mut j = i + 2;
                while j < b.len() && b[j] != '\'' {
                    j += 1;
                }
                i = j + 1;
                out.push_str("' '");
            } else if b.get(i + 2) == Some(&'\'') {
                i += 3;
                out.push_str("' '");
            } else {
                out.push(c);
                i += 1;
            }
        } else {
            out.push(c);
            i += 1;
        }
    }
    out
}

/// Remove `#[cfg(test)]` items (inline test modules, test-only functions and imports); the
/// names of test-only child files are returned.
fn drop_test_items(code: &str) -> (String, BTreeSet<String>) {
    let mut out = code.to_string();
    let mut test_children = BTreeSet::new();
    while let Some(at) = out.find("#[cfg(test)]") {
        let rest = &out[at + "#[cfg(test)]".len()..];
        let trimmed = rest.trim_start();
        let start_of_item = out.len() - trimmed.len();
        // The item ends at its first `;` when that comes before any `{`, else at the `}`
        // matching its first `{`.
        let semi = trimmed.find(';');
        let brace = trimmed.find('{');
        let end = match (semi, brace) {
            (Some(s), Some(b)) if s < b => start_of_item + s + 1,
            (Some(s), None) => start_of_item + s + 1,
            (_, Some(b)) => {
                let mut depth = 0;
                let mut end = out.len();
                for (k, ch) in out[start_of_item + b..].char_indices() {
                    match ch {
                        '{' => depth += 1,
                        '}' => {
                            depth -= 1;
                            if depth == 0 {
                                end = start_of_item + b + k + 1;
                                break;
                            }
                        }
                        _ => {}
                    }
                }
                end
            }
            (None, None) => out.len(),
        };
        let item = out[start_of_item..end].to_string();
        let words: Vec<&str> = item.split_whitespace().collect();
        if let Some(pos) = words.iter().position(|w| *w == "mod")
            && let Some(name) = words.get(pos + 1)
            && name.ends_with(';')
        {
            test_children.insert(name.trim_end_matches(';').to_string());
        }
        out.replace_range(at..end, " ");
    }
    (out, test_children)
}

fn is_ident(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// A `use` tree (`a::b::{c, d::{e as f}, self, *}`) as full paths and the names they bind.
fn use_tree(prefix: &[String], tree: &str, out: &mut Vec<(Vec<String>, Option<String>)>) {
    let tree = tree.trim();
    if tree.is_empty() {
        return;
    }
    // Split off the leading path up to a top-level `{`.
    if let Some(open) = tree.find('{') {
        let head = tree[..open].trim().trim_end_matches("::");
        let mut base = prefix.to_vec();
        base.extend(
            head.split("::")
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(String::from),
        );
        let inner = &tree[open + 1..tree.rfind('}').unwrap_or(tree.len())];
        let mut depth = 0;
        let mut last = 0;
        for (k, ch) in inner.char_indices() {
            match ch {
                '{' => depth += 1,
                '}' => depth -= 1,
                ',' if depth == 0 => {
                    use_tree(&base, &inner[last..k], out);
                    last = k + 1;
                }
                _ => {}
            }
        }
        use_tree(&base, &inner[last..], out);
        return;
    }
    let (path, alias) = match tree.split_once(" as ") {
        Some((p, a)) => (p.trim(), Some(a.trim().to_string())),
        None => (tree, None),
    };
    let mut full = prefix.to_vec();
    for seg in path.split("::").map(str::trim) {
        if seg == "self" && !full.is_empty() {
            continue;
        }
        full.push(seg.to_string());
    }
    if full.last().is_some_and(|s| s == "*") {
        full.pop();
        out.push((full, None));
        return;
    }
    let name = alias.or_else(|| full.last().cloned());
    out.push((full, name));
}

fn read_file(code: &str) -> File {
    let mut f = File::default();
    // `mod name;` and `mod name {`.
    let words: Vec<&str> = code
        .split(|c: char| c.is_whitespace() || c == ';' || c == '{')
        .collect();
    for w in words.windows(2) {
        if w[0] == "mod" && !w[1].is_empty() && w[1].chars().all(is_ident) {
            f.children.insert(w[1].to_string());
        }
    }
    // `use` declarations.
    let bytes: Vec<char> = code.chars().collect();
    let text: String = bytes.iter().collect();
    let mut search = 0;
    let mut used_ranges = Vec::new();
    while let Some(pos) = text[search..].find("use ") {
        let at = search + pos;
        search = at + 4;
        let before = text[..at].chars().last();
        if before.is_some_and(is_ident) {
            continue;
        }
        let Some(end) = text[at..].find(';') else {
            break;
        };
        let tree = &text[at + 4..at + end];
        if tree.contains('(') || tree.contains('=') {
            continue; // not a use declaration (e.g. a word in an attribute)
        }
        let mut items = Vec::new();
        use_tree(&[], tree, &mut items);
        for (path, name) in items {
            if let Some(n) = name {
                f.bindings.insert(n, path.clone());
            }
            f.paths.push(path);
        }
        used_ranges.push(at..at + end);
    }
    // Paths in code.
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let mut k = 0;
    while k < chars.len() {
        let (idx, c) = chars[k];
        let boundary = idx == 0
            || !text[..idx]
                .chars()
                .last()
                .is_some_and(|p| is_ident(p) || p == ':');
        // `crate::…`, `super::…`, `self::…`, or `child::…` for a module declared here.
        let head: String = text[idx..].chars().take_while(|c| is_ident(*c)).collect();
        let starts = text[idx + head.len()..].starts_with("::")
            && (["crate", "super", "self"].contains(&head.as_str()) || f.children.contains(&head));
        if c.is_alphabetic() && boundary && starts && !used_ranges.iter().any(|r| r.contains(&idx))
        {
            let mut end = idx;
            let rest = &text[idx..];
            let mut segs = Vec::new();
            for seg in rest.split("::") {
                let ident: String = seg.chars().take_while(|c| is_ident(*c)).collect();
                if ident.is_empty() {
                    break;
                }
                end += ident.len() + 2;
                let whole = ident.len() == seg.len();
                segs.push(ident);
                if !whole {
                    break;
                }
            }
            f.paths.push(segs);
            while k < chars.len() && chars[k].0 < end {
                k += 1;
            }
            continue;
        }
        k += 1;
    }
    f
}

struct Crate {
    files: BTreeMap<ModPath, File>,
}

impl Crate {
    /// The path as seen from the crate root, or `None` for an external crate or a local name.
    fn absolute(&self, from: &ModPath, path: &[String]) -> Option<Vec<String>> {
        let first = path.first()?;
        match first.as_str() {
            "crate" => Some(path[1..].to_vec()),
            "super" => {
                let mut base = from.clone();
                let mut rest = path;
                while rest.first().is_some_and(|s| s == "super") {
                    base.pop();
                    rest = &rest[1..];
                }
                base.extend(rest.iter().cloned());
                Some(base)
            }
            "self" => {
                let mut base = from.clone();
                base.extend(path[1..].iter().cloned());
                Some(base)
            }
            name if self
                .files
                .get(from)
                .is_some_and(|f| f.children.contains(name)) =>
            {
                let mut base = from.clone();
                base.extend(path.iter().cloned());
                Some(base)
            }
            _ => None,
        }
    }

    /// The file that defines what `abs` names, following re-exports.
    fn defining_file(&self, abs: &[String], depth: usize) -> Option<ModPath> {
        let mut n = abs.len();
        while n > 0 && !self.files.contains_key(&abs[..n]) {
            n -= 1;
        }
        if n == 0 {
            return None;
        }
        let module = abs[..n].to_vec();
        if depth < 16
            && let Some(name) = abs.get(n)
            && let Some(target) = self.files[&module].bindings.get(name)
            && let Some(mut t) = self.absolute(&module, target)
        {
            t.extend(abs[n + 1..].iter().cloned());
            if let Some(found) = self.defining_file(&t, depth + 1) {
                return Some(found);
            }
        }
        Some(module)
    }

    fn edges(&self) -> BTreeMap<ModPath, BTreeSet<ModPath>> {
        let mut edges: BTreeMap<ModPath, BTreeSet<ModPath>> = BTreeMap::new();
        for (from, file) in &self.files {
            let out = edges.entry(from.clone()).or_default();
            for p in &file.paths {
                if let Some(abs) = self.absolute(from, p)
                    && let Some(to) = self.defining_file(&abs, 0)
                    && &to != from
                    && !to.is_empty()
                {
                    out.insert(to);
                }
            }
        }
        edges
    }
}

fn load() -> Crate {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut paths = Vec::new();
    rust_files(&root, &mut paths);
    let mut files = BTreeMap::new();
    let mut test_only = BTreeSet::new();
    for p in &paths {
        let src = std::fs::read_to_string(p).unwrap();
        let (code, test_children) = drop_test_items(&strip(&src));
        let m = mod_path(&root, p);
        for c in test_children {
            let mut child = m.clone();
            child.push(c);
            test_only.insert(child);
        }
        files.insert(m, read_file(&code));
    }
    files.retain(|m, _| !test_only.iter().any(|t| m.starts_with(t)));
    Crate { files }
}

/// Strongly connected components with more than one member (Tarjan).
fn circles(edges: &BTreeMap<ModPath, BTreeSet<ModPath>>) -> Vec<Vec<ModPath>> {
    struct T<'a> {
        edges: &'a BTreeMap<ModPath, BTreeSet<ModPath>>,
        index: BTreeMap<ModPath, usize>,
        low: BTreeMap<ModPath, usize>,
        stack: Vec<ModPath>,
        on: BTreeSet<ModPath>,
        next: usize,
        out: Vec<Vec<ModPath>>,
    }
    fn visit(t: &mut T<'_>, v: &ModPath) {
        t.index.insert(v.clone(), t.next);
        t.low.insert(v.clone(), t.next);
        t.next += 1;
        t.stack.push(v.clone());
        t.on.insert(v.clone());
        let succ: Vec<ModPath> = t.edges.get(v).into_iter().flatten().cloned().collect();
        for w in succ {
            if !t.index.contains_key(&w) {
                visit(t, &w);
                let lw = t.low[&w];
                let lv = t.low[v];
                t.low.insert(v.clone(), lv.min(lw));
            } else if t.on.contains(&w) {
                let iw = t.index[&w];
                let lv = t.low[v];
                t.low.insert(v.clone(), lv.min(iw));
            }
        }
        if t.low[v] == t.index[v] {
            let mut comp = Vec::new();
            while let Some(w) = t.stack.pop() {
                t.on.remove(&w);
                let done = &w == v;
                comp.push(w);
                if done {
                    break;
                }
            }
            if comp.len() > 1 {
                comp.sort();
                t.out.push(comp);
            }
        }
    }
    let mut t = T {
        edges,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on: BTreeSet::new(),
        next: 0,
        out: Vec::new(),
    };
    let nodes: Vec<ModPath> = edges.keys().cloned().collect();
    for v in nodes {
        if !t.index.contains_key(&v) {
            visit(&mut t, &v);
        }
    }
    t.out
}

fn show(m: &ModPath) -> String {
    if m.is_empty() {
        "crate".into()
    } else {
        m.join("::")
    }
}

#[test]
fn no_two_files_import_each_other() {
    let c = load();
    assert!(c.files.len() > 100, "read only {} files", c.files.len());
    let edges = c.edges();
    let found = circles(&edges);
    // Each circle with the imports that close it.
    let text: Vec<String> = found
        .iter()
        .map(|comp| {
            let arrows: Vec<String> = comp
                .iter()
                .flat_map(|a| {
                    edges[a]
                        .iter()
                        .filter(|b| comp.contains(b))
                        .map(move |b| format!("  {} → {}", show(a), show(b)))
                })
                .collect();
            format!(
                "{}\n{}",
                comp.iter().map(show).collect::<Vec<_>>().join(" ↔ "),
                arrows.join("\n")
            )
        })
        .collect();
    assert!(
        found.is_empty(),
        "import circles between files:\n{}",
        text.join("\n")
    );
}

#[test]
fn every_top_level_module_imports_its_layer_or_below() {
    let c = load();
    let layer_of = |m: &str| LAYERS.iter().position(|(_, mods)| mods.contains(&m));
    let mut top: BTreeMap<ModPath, BTreeSet<ModPath>> = BTreeMap::new();
    let mut wrong = Vec::new();
    for (from, tos) in c.edges() {
        let Some(a) = from.first() else { continue };
        if a == "main" {
            continue;
        }
        let la = layer_of(a).unwrap_or_else(|| panic!("module `{a}` is in no layer of LAYERS"));
        for to in tos {
            let b = &to[0];
            if a == b {
                continue;
            }
            let lb = layer_of(b).unwrap_or_else(|| panic!("module `{b}` is in no layer"));
            if lb > la {
                wrong.push(format!(
                    "{} ({}) imports {} ({})",
                    show(&from),
                    LAYERS[la].0,
                    show(&to),
                    LAYERS[lb].0
                ));
            }
            top.entry(vec![a.clone()])
                .or_default()
                .insert(vec![b.clone()]);
        }
    }
    assert!(
        wrong.is_empty(),
        "imports running up the layers:\n{}",
        wrong.join("\n")
    );
    let found = circles(&top);
    assert!(
        found.is_empty(),
        "top-level modules importing each other: {found:?}"
    );
}

#[test]
fn the_checker_sees_a_circle_and_an_upward_import() {
    // The same reading on a small crate made up here: it must not pass by seeing nothing.
    let mut files = BTreeMap::new();
    let a = read_file(&strip(
        "use crate::b::B;\npub struct A; // crate::c::C in a comment\n",
    ));
    let b = read_file(&strip("pub struct B;\nfn f() { super::a::A; }\n"));
    files.insert(vec!["a".to_string()], a);
    files.insert(vec!["b".to_string()], b);
    files.insert(vec!["c".to_string()], File::default());
    let c = Crate { files };
    let edges = c.edges();
    assert_eq!(
        circles(&edges),
        vec![vec![vec!["a".to_string()], vec!["b".to_string()]]]
    );
    assert!(!edges[&vec!["a".to_string()]].contains(&vec!["c".to_string()]));
    // Re-exports resolve to the defining file; test items are left out.
    let (code, test_children) = drop_test_items(&strip(
        "mod inner;\npub use inner::X;\n#[cfg(test)]\nmod tests;\n#[cfg(test)]\nmod t { use crate::z::Z; }\n",
    ));
    assert!(test_children.contains("tests"));
    assert!(!code.contains("crate::z"));
    let m = read_file(&code);
    let mut files = BTreeMap::new();
    files.insert(vec!["m".to_string()], m);
    files.insert(vec!["m".to_string(), "inner".to_string()], File::default());
    files.insert(vec!["user".to_string()], read_file("use crate::m::X;\n"));
    let c = Crate { files };
    assert!(
        c.edges()[&vec!["user".to_string()]].contains(&vec!["m".to_string(), "inner".to_string()])
    );
}

/// Not a check: the figures of the module graph (`cargo test --test layers -- --ignored
/// --nocapture`), for comparing two trees.
#[test]
#[ignore]
fn graph_report() {
    let c = load();
    let edges = c.edges();
    let file_circles = circles(&edges);
    let layer_of = |m: &str| LAYERS.iter().position(|(_, mods)| mods.contains(&m));
    let mut top: BTreeMap<ModPath, BTreeSet<ModPath>> = BTreeMap::new();
    let mut upward = 0;
    let mut arrows = 0;
    for (from, tos) in &edges {
        for to in tos {
            arrows += 1;
            let (Some(a), Some(b)) = (from.first(), to.first()) else {
                continue;
            };
            if a != b && a != "main" {
                top.entry(vec![a.clone()])
                    .or_default()
                    .insert(vec![b.clone()]);
                if let (Some(la), Some(lb)) = (layer_of(a), layer_of(b))
                    && lb > la
                {
                    upward += 1;
                }
            }
        }
    }
    let top_circles = circles(&top);
    println!("files: {}", c.files.len());
    println!("file imports (arrows): {arrows}");
    println!(
        "file-level circles: {} (sizes {:?}, {} files in circles)",
        file_circles.len(),
        file_circles.iter().map(Vec::len).collect::<Vec<_>>(),
        file_circles.iter().map(Vec::len).sum::<usize>()
    );
    println!(
        "top-level circles: {} (sizes {:?}): {:?}",
        top_circles.len(),
        top_circles.iter().map(Vec::len).collect::<Vec<_>>(),
        top_circles
            .iter()
            .map(|c| c.iter().map(show).collect::<Vec<_>>())
            .collect::<Vec<_>>()
    );
    println!("file imports running up the layers: {upward}");
}
