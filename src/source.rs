//! Source loading: the files of a library, held in memory, and the spans
//! that point into them.
//!
//! Everything after this stage is pure: it takes a [`SourceMap`] and returns
//! data. Reading the disk happens in [`crate::cli`] (and in the tests).

use std::path::{Path, PathBuf};

/// An index into a [`SourceMap`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct FileId(pub u32);

/// A byte range in one source file. Every AST node and every diagnostic
/// carries one; there are no fake spans.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Span {
    pub file: FileId,
    pub start: u32,
    pub end: u32,
}

impl Span {
    pub fn new(file: FileId, start: usize, end: usize) -> Span {
        Span {
            file,
            start: u32::try_from(start).unwrap_or(u32::MAX),
            end: u32::try_from(end).unwrap_or(u32::MAX),
        }
    }

    /// The smallest span that covers both.
    pub fn to(self, other: Span) -> Span {
        Span {
            file: self.file,
            start: self.start.min(other.start),
            end: self.end.max(other.end),
        }
    }

    pub fn len(self) -> usize {
        self.end.saturating_sub(self.start) as usize
    }

    pub fn is_empty(self) -> bool {
        self.end <= self.start
    }

    pub fn range(self) -> std::ops::Range<usize> {
        self.start as usize..self.end as usize
    }
}

/// What a file is, decided from its extension when it is loaded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    Regime,
    Yaml,
    /// Bulk tables named by a YAML data file (org units, mappings).
    Csv,
    Other,
}

#[derive(Debug, Clone)]
pub struct SourceFile {
    /// The path as it should be shown to users: relative to the directory
    /// regc was started in where possible, always with `/`.
    pub name: String,
    /// The path relative to the library root (`transport/seaport_cargo.regime`).
    pub rel: String,
    pub text: String,
    pub kind: FileKind,
    /// The file's size on disk when it was too large to be read
    /// ([`max_bytes`]): its text is then empty, and the stage that reads
    /// its kind reports E0010.
    pub too_large: Option<u64>,
    /// The byte offset of the first byte that is not UTF-8, when the file
    /// is not: its text is then read lossily (U+FFFD for each bad
    /// sequence, the text before it as it is), and the stage that reads
    /// its kind reports E0014 there.
    pub not_utf8: Option<usize>,
    /// Byte offsets where lines start (for line/column reporting).
    line_starts: Vec<usize>,
}

impl SourceFile {
    pub fn new(name: impl Into<String>, rel: impl Into<String>, text: impl Into<String>) -> Self {
        let name = name.into();
        let rel = rel.into();
        let text = text.into();
        let kind = if rel.ends_with(".regime") {
            FileKind::Regime
        } else if rel.ends_with(".yaml") || rel.ends_with(".yml") {
            FileKind::Yaml
        } else if rel.ends_with(".csv") {
            FileKind::Csv
        } else {
            FileKind::Other
        };
        // Lines end at `\n`, `\r\n` or a lone `\r` (old Mac files), as the
        // grammar's NEWLINE.
        let mut line_starts = vec![0];
        let bytes = text.as_bytes();
        line_starts.extend(bytes.iter().enumerate().filter_map(|(i, b)| {
            let ends = *b == b'\n' || (*b == b'\r' && bytes.get(i + 1) != Some(&b'\n'));
            ends.then_some(i + 1)
        }));
        SourceFile {
            name,
            rel,
            text,
            kind,
            too_large: None,
            not_utf8: None,
            line_starts,
        }
    }

    /// A file not read because it has `size` bytes, more than its kind may
    /// have ([`max_bytes`]).
    pub fn too_large(name: impl Into<String>, rel: impl Into<String>, size: u64) -> Self {
        SourceFile {
            too_large: Some(size),
            ..SourceFile::new(name, rel, "")
        }
    }

    /// 1-based line and column (in characters) of a byte offset.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let line = match self.line_starts.binary_search(&offset) {
            Ok(i) => i,
            Err(i) => i.saturating_sub(1),
        };
        let start = self.line_starts.get(line).copied().unwrap_or(0);
        let col = self
            .text
            .get(start..offset)
            .map(|s| s.chars().count())
            .unwrap_or(0);
        (line + 1, col + 1)
    }

    /// The byte offset of a 1-based line and column (column in bytes), as
    /// reported by YAML errors.
    pub fn offset_of(&self, line: usize, col: usize) -> usize {
        let start = self
            .line_starts
            .get(line.saturating_sub(1))
            .copied()
            .unwrap_or(self.text.len());
        (start + col.saturating_sub(1)).min(self.text.len())
    }

    /// The module path of a `.regime` file: `common/units.regime` → `common.units`.
    pub fn module_path(&self) -> String {
        self.rel
            .trim_end_matches(".regime")
            .replace(['/', '\\'], ".")
    }
}

/// All the files of one compilation. Files are added in a stable order (the
/// loader sorts paths), so [`FileId`]s and every output are deterministic.
#[derive(Debug, Clone, Default)]
pub struct SourceMap {
    files: Vec<SourceFile>,
}

impl SourceMap {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn add(&mut self, file: SourceFile) -> FileId {
        let id = FileId(u32::try_from(self.files.len()).unwrap_or(u32::MAX));
        self.files.push(file);
        id
    }

    pub fn get(&self, id: FileId) -> Option<&SourceFile> {
        self.files.get(id.0 as usize)
    }

    pub fn iter(&self) -> impl Iterator<Item = (FileId, &SourceFile)> {
        self.files
            .iter()
            .enumerate()
            .map(|(i, f)| (FileId(u32::try_from(i).unwrap_or(u32::MAX)), f))
    }

    pub fn find_rel(&self, rel: &str) -> Option<FileId> {
        self.iter().find(|(_, f)| f.rel == rel).map(|(id, _)| id)
    }

    pub fn len(&self) -> usize {
        self.files.len()
    }

    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }

    /// The text a span covers ("" if the span is out of range).
    pub fn snippet(&self, span: Span) -> &str {
        self.get(span.file)
            .and_then(|f| f.text.get(span.range()))
            .unwrap_or("")
    }
}

/// The name of the marker file at the root of a regime library.
pub const LIBRARY_MANIFEST: &str = "library.yaml";

/// An error reading the file system: not a diagnostic about the regime
/// text, and reported with exit code 2.
#[derive(Debug)]
pub struct IoError {
    pub path: PathBuf,
    pub error: std::io::Error,
}

impl std::fmt::Display for IoError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.path.display(), self.error)
    }
}

/// Finds the library root for a path: the nearest directory, starting at the
/// path itself, that holds a `library.yaml`. Without one the path (or the
/// file's directory) is the root, and the library has no data files.
pub fn find_root(path: &Path) -> PathBuf {
    // The parent of `x.regime` or `t` is the empty path, which names no
    // folder to read: it is the current one.
    let here = |d: &Path| {
        if d.as_os_str().is_empty() {
            PathBuf::from(".")
        } else {
            d.to_path_buf()
        }
    };
    let start = if path.is_dir() {
        path.to_path_buf()
    } else {
        path.parent()
            .map(here)
            .unwrap_or_else(|| PathBuf::from("."))
    };
    let mut dir = Some(start.as_path());
    while let Some(d) = dir {
        if d.join(LIBRARY_MANIFEST).is_file() {
            return here(d);
        }
        dir = d.parent();
    }
    start
}

/// Reads every `.regime`, `.yaml` and `.csv` file under `root`, sorted by
/// path. A file that is too large is not read, and one that is not UTF-8
/// is read lossily; both are marked, for the stage reading them to report
/// (E0010, E0014), so that the rest of the library is still checked.
pub fn load_library(root: &Path) -> Result<SourceMap, IoError> {
    let mut paths = Vec::new();
    let mut seen = std::collections::HashSet::new();
    collect(root, &mut paths, &mut seen)?;
    paths.sort();
    let mut map = SourceMap::new();
    for path in paths {
        let rel = path
            .strip_prefix(root)
            .unwrap_or(&path)
            .to_string_lossy()
            .replace('\\', "/");
        map.add(read_file(&path, rel)?);
    }
    Ok(map)
}

/// The most bytes a source file of the kind of `rel` may have: 4 MiB for
/// a `.regime` file ([`crate::syntax::MAX_FILE_BYTES`]), 64 MiB for a data
/// file (the 14,000 units of a country's hierarchy take a few MB as CSV).
pub fn max_bytes(rel: &str) -> u64 {
    if rel.ends_with(".regime") {
        crate::syntax::MAX_FILE_BYTES as u64
    } else {
        MAX_DATA_FILE_BYTES
    }
}

/// The most bytes a YAML or CSV file of a library may have.
pub const MAX_DATA_FILE_BYTES: u64 = 64 << 20;

/// Reads one source file, unless its size on disk is past [`max_bytes`]
/// (then it is not read at all, and marked [`SourceFile::too_large`]).
pub fn read_file(path: &Path, rel: String) -> Result<SourceFile, IoError> {
    let io = |error| IoError {
        path: path.to_path_buf(),
        error,
    };
    let size = std::fs::metadata(path).map_err(io)?.len();
    if size > max_bytes(&rel) {
        return Ok(SourceFile::too_large(display_path(path), rel, size));
    }
    let bytes = std::fs::read(path).map_err(io)?;
    Ok(match String::from_utf8(bytes) {
        Ok(text) => SourceFile::new(display_path(path), rel, text),
        Err(e) => {
            let at = e.utf8_error().valid_up_to();
            let text = String::from_utf8_lossy(e.as_bytes()).into_owned();
            SourceFile {
                not_utf8: Some(at),
                ..SourceFile::new(display_path(path), rel, text)
            }
        }
    })
}

/// Every source file under `dir`. A folder is read once, however many
/// links lead to it, so a symbolic link back up the tree (a loop) is not
/// followed round.
fn collect(
    dir: &Path,
    out: &mut Vec<PathBuf>,
    seen: &mut std::collections::HashSet<PathBuf>,
) -> Result<(), IoError> {
    if let Ok(real) = dir.canonicalize()
        && !seen.insert(real)
    {
        return Ok(());
    }
    let entries = std::fs::read_dir(dir).map_err(|error| IoError {
        path: dir.to_path_buf(),
        error,
    })?;
    for entry in entries {
        let entry = entry.map_err(|error| IoError {
            path: dir.to_path_buf(),
            error,
        })?;
        let path = entry.path();
        let name = entry.file_name();
        if name.to_string_lossy().starts_with('.') {
            continue;
        }
        if path.is_dir() {
            collect(&path, out, seen)?;
        } else if matches!(
            path.extension().and_then(|e| e.to_str()),
            Some("regime" | "yaml" | "yml" | "csv")
        ) {
            out.push(path);
        }
    }
    Ok(())
}

/// A path for messages: relative to the current directory if it is below it.
pub fn display_path(path: &Path) -> String {
    let cwd = std::env::current_dir().unwrap_or_default();
    let shown = path.strip_prefix(&cwd).unwrap_or(path);
    shown.to_string_lossy().replace('\\', "/")
}
