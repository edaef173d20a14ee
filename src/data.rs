//! Data files: YAML read with serde, each tagged with a `kind:`
//! (`library`, `codelist`, `org_levels`, `org_units`, `org_mapping`,
//! `holidays`). Errors point into the YAML file: shape errors at the
//! location serde_yaml reports, reference errors at the offending value.
//!
//! The formats are documented in `docs/data.md`.

use crate::diagnostic::{Code, Diagnostic, Diagnostics, did_you_mean};
use crate::lang::Text;
use crate::source::{FileId, FileKind, SourceMap, Span};
use crate::tr;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap, HashSet};

/// A data file, by its `kind:`.
#[derive(Debug)]
enum DataFile {
    Library(LibraryFile),
    Codelist(CodelistFile),
    OrgLevels(LevelsFile),
    OrgUnits(EditionFile),
    OrgMapping(MappingFile),
    Holidays(HolidaysFile),
}

const KINDS: &[&str] = &[
    "library",
    "codelist",
    "org_levels",
    "org_units",
    "org_mapping",
    "holidays",
];

/// Only the `kind:` of a file, read first; the file is then read as that
/// kind (serde's tagged enums would lose the location of every error).
#[derive(Deserialize)]
struct KindOnly {
    kind: Option<serde_yaml::Value>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct LibraryFile {
    #[serde(rename = "kind")]
    _kind: String,
    name: String,
    #[serde(default)]
    description: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct LevelsFile {
    #[serde(rename = "kind")]
    _kind: String,
    levels: Vec<Level>,
    #[serde(default)]
    unit_types: Vec<UnitType>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct HolidaysFile {
    #[serde(rename = "kind")]
    _kind: String,
    #[serde(default)]
    holidays: Vec<HolidayEntry>,
    /// Weekend days that are working days (make-up days for a bridge holiday).
    #[serde(default)]
    working_weekends: Vec<NaiveDate>,
}

/// Why a data file could not be read.
struct ReadError {
    location: Option<(usize, usize)>,
    message: Text,
    help: Text,
}

fn read_error(e: serde_yaml::Error, kind: &str) -> ReadError {
    let message = e.to_string();
    let message = message
        .split(" at line ")
        .next()
        .unwrap_or(&message)
        .to_string();
    ReadError {
        location: e.location().map(|l| (l.line(), l.column())),
        message: Text::new(message.clone(), message),
        help: tr!(
            "see the format of `kind: {kind}` files in docs/data.md",
            "xem định dạng của các tệp `kind: {kind}` trong docs/data.md"
        ),
    }
}

fn parse_data_file(text: &str) -> Result<DataFile, ReadError> {
    let kind = serde_yaml::from_str::<KindOnly>(text).map_err(|e| read_error(e, "…"))?;
    let kind = match kind.kind {
        Some(serde_yaml::Value::String(k)) => k,
        _ => {
            return Err(ReadError {
                location: None,
                message: tr!("it has no `kind:`", "tệp không có `kind:`"),
                help: tr!(
                    "every data file starts with `kind:`, one of {}",
                    "mỗi tệp dữ liệu bắt đầu bằng `kind:`, là một trong {}",
                    KINDS.join(", ")
                ),
            });
        }
    };
    let parsed = match kind.as_str() {
        "library" => serde_yaml::from_str(text).map(DataFile::Library),
        "codelist" => serde_yaml::from_str(text).map(DataFile::Codelist),
        "org_levels" => serde_yaml::from_str(text).map(DataFile::OrgLevels),
        "org_units" => serde_yaml::from_str(text).map(DataFile::OrgUnits),
        "org_mapping" => serde_yaml::from_str(text).map(DataFile::OrgMapping),
        "holidays" => serde_yaml::from_str(text).map(DataFile::Holidays),
        other => {
            let at = text.find(&format!("kind: {other}")).map(|i| i + 6);
            let (line, column) = match at {
                Some(i) => {
                    let line = text
                        .get(..i)
                        .map(|t| t.matches('\n').count() + 1)
                        .unwrap_or(1);
                    let col = i - text
                        .get(..i)
                        .and_then(|t| t.rfind('\n'))
                        .map(|n| n + 1)
                        .unwrap_or(0)
                        + 1;
                    (line, col)
                }
                None => (1, 1),
            };
            return Err(ReadError {
                location: Some((line, column)),
                message: tr!(
                    "`{other}` is not a kind of data file",
                    "`{other}` không phải là một loại tệp dữ liệu"
                ),
                help: crate::diagnostic::choices(other, KINDS),
            });
        }
    };
    parsed.map_err(|e| read_error(e, &kind))
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct CodelistFile {
    #[serde(rename = "kind", default, skip_serializing)]
    pub _kind: String,
    pub code: String,
    pub title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    pub values: Vec<CodeValue>,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct CodeValue {
    pub code: String,
    pub label: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label_en: Option<String>,
}

/// A level of the administrative or reporting hierarchy, top first.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Level {
    pub code: String,
    pub title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title_en: Option<String>,
}

/// A kind of reporting unit that is not a territorial level (a port
/// authority, a hospital), attached under units of `parent_level`.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct UnitType {
    pub code: String,
    pub title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title_en: Option<String>,
    pub parent_level: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct EditionFile {
    #[serde(rename = "kind")]
    _kind: String,
    edition: String,
    valid_from: Option<NaiveDate>,
    valid_to: Option<NaiveDate>,
    #[serde(default)]
    source: Option<String>,
    /// `[code, name, level or unit type, parent code]`
    #[serde(default)]
    units: Vec<(String, String, String, Option<String>)>,
    /// A CSV file beside this one with the columns `code,name,level,parent`
    /// (for large editions: it reads much faster than YAML).
    #[serde(default)]
    units_csv: Option<String>,
}

/// One effective-dated version of the org hierarchy.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Edition {
    /// The file it was read from (editions are checked once all files are read).
    #[serde(skip)]
    pub file: FileId,
    pub edition: String,
    pub valid_from: Option<NaiveDate>,
    pub valid_to: Option<NaiveDate>,
    pub source: Option<String>,
    pub units: Vec<OrgUnit>,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct OrgUnit {
    /// Where the unit is written (its CSV line or its code in the YAML).
    #[serde(skip)]
    pub at: Span,
    pub code: String,
    pub name: String,
    /// A level code or a unit type code.
    pub level: String,
    pub parent: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct MappingFile {
    #[serde(rename = "kind")]
    _kind: String,
    from: String,
    to: String,
    /// `[old code, new code, full | partial]`
    #[serde(default)]
    pairs: Vec<(String, String, MapType)>,
    /// A CSV file beside this one with the columns `old,new,type`.
    #[serde(default)]
    pairs_csv: Option<String>,
}

#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum MapType {
    Full,
    Partial,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Mapping {
    pub from: String,
    pub to: String,
    pub pairs: Vec<(String, String, MapType)>,
}

/// `{date, name}` for one day or `{from, to, name}` for a break.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct HolidayEntry {
    #[serde(default)]
    date: Option<NaiveDate>,
    #[serde(default)]
    from: Option<NaiveDate>,
    #[serde(default)]
    to: Option<NaiveDate>,
    name: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Holiday {
    pub date: NaiveDate,
    pub name: String,
}

/// Everything the library's YAML files say, checked.
#[derive(Debug, Clone, Default)]
pub struct DataSet {
    pub library_name: Option<String>,
    pub library_description: Option<String>,
    pub levels: Vec<Level>,
    pub unit_types: Vec<UnitType>,
    pub editions: Vec<Edition>,
    pub mappings: Vec<Mapping>,
    pub holidays: Vec<Holiday>,
    pub working_weekends: Vec<NaiveDate>,
    /// Data files that could not be read (already reported): what depends
    /// on them is not reported again.
    pub failed: std::collections::BTreeSet<String>,
    /// Codelist files by their path relative to the library root.
    pub codelist_files: BTreeMap<String, (FileId, CodelistFile)>,
}

impl DataSet {
    pub fn is_level(&self, code: &str) -> bool {
        self.levels.iter().any(|l| l.code == code)
    }

    pub fn is_unit_type(&self, code: &str) -> bool {
        self.unit_types.iter().any(|t| t.code == code)
    }

    /// The level or unit type a Vietnamese name stands for, with its title:
    /// `tinh`, `tỉnh` or `Tỉnh` is the level whose title names "Tỉnh"
    /// (`province`), `xa`/`xã`/`phuong` is `commune`, `bo`/`bộ` is
    /// `ministry`, `chinh_phu` is `government`. Each comma-separated part of
    /// a title counts; case, accents, spaces and `_` are ignored.
    pub fn level_from_vietnamese(&self, name: &str) -> Option<(&str, &str)> {
        let key = |s: &str| crate::lang::strip_accents(&s.to_lowercase()).replace('_', "");
        let wanted = key(name);
        if wanted.is_empty() {
            return None;
        }
        self.levels
            .iter()
            .map(|l| (l.code.as_str(), l.title.as_str()))
            .chain(
                self.unit_types
                    .iter()
                    .map(|t| (t.code.as_str(), t.title.as_str())),
            )
            .find(|(_, title)| title.split(',').any(|part| key(part) == wanted))
    }

    /// The rank of a level (0 = top), or of a unit type (its parent level's
    /// rank plus one half, i.e. just below it: returned as rank*2+1; levels
    /// are rank*2).
    pub fn depth(&self, code: &str) -> Option<usize> {
        if let Some(i) = self.levels.iter().position(|l| l.code == code) {
            return Some(i * 2);
        }
        let t = self.unit_types.iter().find(|t| t.code == code)?;
        let i = self.levels.iter().position(|l| l.code == t.parent_level)?;
        Some(i * 2 + 1)
    }

    pub fn is_holiday(&self, date: NaiveDate) -> bool {
        self.holidays.iter().any(|h| h.date == date)
    }
}

/// Reads every YAML file of the library.
pub fn load(sources: &SourceMap, diags: &mut Diagnostics) -> DataSet {
    let mut set = DataSet::default();
    let mut level_file = None;
    let mut holiday_seen: HashMap<NaiveDate, Span> = HashMap::new();
    let mut level_spans: HashMap<String, Span> = HashMap::new();
    for (id, file) in sources.iter() {
        if let (Some(size), FileKind::Yaml | FileKind::Csv) = (file.too_large, file.kind) {
            // Not read (source::read_file): refused before it took memory.
            set.failed.insert(file.rel.clone());
            diags.push(
                Diagnostic::new(
                    Code::FileTooLarge,
                    Span::new(id, 0, 0),
                    tr!(
                        "this file has {size} bytes; data files may have at most {} bytes",
                        "tệp này có {size} byte; tệp dữ liệu chỉ được có tối đa {} byte",
                        crate::source::MAX_DATA_FILE_BYTES
                    ),
                    tr!("file starts here", "tệp bắt đầu ở đây"),
                )
                .with_help(tr!(
                    "split the data into several files, or keep the units in CSV",
                    "chia dữ liệu thành nhiều tệp, hoặc giữ danh mục đơn vị ở dạng CSV"
                )),
            );
        }
    }
    for (id, file) in sources.iter() {
        if matches!(file.kind, FileKind::Yaml | FileKind::Csv)
            && let Some(d) = crate::diagnostic::not_utf8(id, file)
        {
            set.failed.insert(file.rel.clone());
            diags.push(d);
        }
    }
    for (id, file) in sources.iter() {
        if file.kind != FileKind::Yaml || file.too_large.is_some() || file.not_utf8.is_some() {
            continue;
        }
        let parsed = match parse_data_file(&file.text) {
            Ok(v) => v,
            Err(e) => {
                let (start, end) = match e.location {
                    Some((line, column)) => {
                        let at = file.offset_of(line, column);
                        (at, token_end(&file.text, at))
                    }
                    None => (0, token_end(&file.text, 0)),
                };
                set.failed.insert(file.rel.clone());
                diags.push(
                    Diagnostic::new(
                        Code::YamlError,
                        Span::new(id, start, end),
                        tr!(
                            "this data file cannot be read: {}",
                            "không đọc được tệp dữ liệu này: {}",
                            e.message
                        ),
                        tr!("here", "ở đây"),
                    )
                    .with_help(e.help),
                );
                continue;
            }
        };
        match parsed {
            DataFile::Library(l) => {
                set.library_name = Some(l.name);
                set.library_description = l.description;
            }
            DataFile::Codelist(c) => {
                let mut seen = HashSet::new();
                for v in &c.values {
                    if !seen.insert(v.code.as_str()) {
                        diags.push(duplicate(
                            id,
                            &file.text,
                            &v.code,
                            tr!("codelist value", "giá trị danh mục"),
                        ));
                    }
                }
                set.codelist_files.insert(file.rel.clone(), (id, c));
            }
            DataFile::OrgLevels(LevelsFile {
                levels, unit_types, ..
            }) => {
                let mut seen = HashSet::new();
                for code in levels
                    .iter()
                    .map(|l| &l.code)
                    .chain(unit_types.iter().map(|t| &t.code))
                {
                    if !seen.insert(code.clone()) {
                        diags.push(duplicate(
                            id,
                            &file.text,
                            code,
                            tr!("level or unit type", "cấp hoặc loại đơn vị"),
                        ));
                    } else if let Some(first) = level_spans.get(code) {
                        diags.push(
                            Diagnostic::new(
                                Code::DuplicateDataCode,
                                find(id, &file.text, code, 0),
                                tr!(
                                    "the level or unit type `{code}` is already declared in another file",
                                    "cấp hoặc loại đơn vị `{code}` đã được khai báo trong một tệp khác"
                                ),
                                tr!("declared again here", "khai báo lại ở đây"),
                            )
                            .with_label(*first, tr!("first declared here", "khai báo lần đầu ở đây"))
                            .with_help(tr!(
                                "levels and unit types are declared once for the whole library; keep one declaration",
                                "các cấp và loại đơn vị chỉ khai báo một lần cho cả thư viện; hãy giữ một khai báo"
                            )),
                        );
                    }
                }
                for code in levels
                    .iter()
                    .map(|l| &l.code)
                    .chain(unit_types.iter().map(|t| &t.code))
                {
                    level_spans
                        .entry(code.clone())
                        .or_insert_with(|| find(id, &file.text, code, 0));
                }
                for t in &unit_types {
                    if !levels.iter().any(|l| l.code == t.parent_level)
                        && !set.levels.iter().any(|l| l.code == t.parent_level)
                    {
                        let names: Vec<&str> = levels
                            .iter()
                            .chain(set.levels.iter())
                            .map(|l| l.code.as_str())
                            .collect();
                        diags.push(
                            Diagnostic::new(
                                Code::UnknownUnitLevel,
                                find(id, &file.text, &t.parent_level, 0),
                                tr!(
                                    "unit type `{}` hangs under `{}`, which is not a level",
                                    "loại đơn vị `{}` trực thuộc `{}`, nhưng đó không phải là một cấp",
                                    t.code,
                                    t.parent_level
                                ),
                                tr!("unknown level", "cấp không biết"),
                            )
                            .with_help(did_you_mean(
                                &t.parent_level,
                                tr!("level", "cấp"),
                                names.iter().copied(),
                            )),
                        );
                    }
                }
                set.levels.extend(levels);
                set.unit_types.extend(unit_types);
                level_file = Some(id);
            }
            DataFile::OrgUnits(e) => {
                if let (Some(from), Some(to)) = (e.valid_from, e.valid_to)
                    && to < from
                {
                    diags.push(
                        Diagnostic::new(
                            Code::BadValidity,
                            find(id, &file.text, "valid_to", 0),
                            tr!(
                                "edition `{}` ends on {to}, before it starts on {from}",
                                "phiên bản `{}` kết thúc ngày {to}, trước ngày bắt đầu {from}",
                                e.edition
                            ),
                            tr!("ends before it starts", "kết thúc trước khi bắt đầu"),
                        )
                        .with_help(tr!(
                            "`valid_to` is the last day the edition applies; it must not be before `valid_from`",
                            "`valid_to` là ngày cuối cùng phiên bản có hiệu lực; không được trước `valid_from`"
                        )),
                    );
                }
                let rows = item_spans(id, &file.text, "units");
                let mut units: Vec<OrgUnit> = e
                    .units
                    .into_iter()
                    .enumerate()
                    .map(|(i, (code, name, level, parent))| OrgUnit {
                        at: rows
                            .get(i)
                            .copied()
                            .unwrap_or_else(|| find(id, &file.text, &code, 0)),
                        code,
                        name: name.trim().to_string(),
                        level,
                        parent,
                    })
                    .collect();
                if let Some(csv) = &e.units_csv {
                    read_csv(
                        sources,
                        (id, file),
                        csv,
                        &["code", "name", "level", "parent"],
                        diags,
                        |at, f, _| {
                            let field = |i: usize| f.get(i).unwrap_or("");
                            units.push(OrgUnit {
                                at,
                                code: field(0).to_string(),
                                name: field(1).trim().to_string(),
                                level: field(2).to_string(),
                                parent: Some(field(3))
                                    .filter(|p| !p.is_empty())
                                    .map(str::to_string),
                            });
                        },
                    );
                }
                set.editions.push(Edition {
                    file: id,
                    edition: e.edition,
                    valid_from: e.valid_from,
                    valid_to: e.valid_to,
                    source: e.source,
                    units,
                });
            }
            DataFile::OrgMapping(m) => {
                let mut pairs = m.pairs;
                if let Some(csv) = &m.pairs_csv {
                    read_csv(
                        sources,
                        (id, file),
                        csv,
                        &["old", "new", "type"],
                        diags,
                        |at, f, diags| {
                            let (Some(old), Some(new), Some(kind)) = (f.get(0), f.get(1), f.get(2))
                            else {
                                return;
                            };
                            let kind = match kind {
                                "full" => MapType::Full,
                                "partial" => MapType::Partial,
                                other => {
                                    diags.push(
                                        Diagnostic::new(
                                            Code::YamlError,
                                            at,
                                            tr!(
                                                "`{other}` is not a mapping type",
                                                "`{other}` không phải là kiểu ánh xạ"
                                            ),
                                            tr!("expected full or partial", "cần `full` hoặc `partial`"),
                                        )
                                        .with_help(tr!(
                                            "the type column says whether the whole old unit (`full`) or only part of it (`partial`) went into the new unit",
                                            "cột type cho biết toàn bộ đơn vị cũ (`full`) hay chỉ một phần (`partial`) được nhập vào đơn vị mới"
                                        )),
                                    );
                                    return;
                                }
                            };
                            pairs.push((old.to_string(), new.to_string(), kind));
                        },
                    );
                }
                set.mappings.push(Mapping {
                    from: m.from,
                    to: m.to,
                    pairs,
                });
            }
            DataFile::Holidays(HolidaysFile {
                holidays,
                working_weekends,
                ..
            }) => {
                let entries = item_spans(id, &file.text, "holidays");
                for (i, h) in holidays.into_iter().enumerate() {
                    let span = entries
                        .get(i)
                        .copied()
                        .unwrap_or_else(|| Span::new(id, 0, 0));
                    let (from, to, name) = match (h.date, h.from, h.to) {
                        (Some(d), None, None) => (d, d, h.name),
                        (None, Some(f), Some(t)) if f <= t => (f, t, h.name),
                        (None, Some(f), Some(t)) => {
                            diags.push(
                                Diagnostic::new(
                                    Code::YamlError,
                                    span,
                                    tr!(
                                        "this holiday ends on {t}, before it starts on {f}",
                                        "kỳ nghỉ này kết thúc ngày {t}, trước ngày bắt đầu {f}"
                                    ),
                                    tr!("ends before it starts", "kết thúc trước khi bắt đầu"),
                                )
                                .with_help(tr!(
                                    "write the first day in `from` and the last in `to`",
                                    "hãy ghi ngày đầu tiên vào `from` và ngày cuối cùng vào `to`"
                                )),
                            );
                            continue;
                        }
                        _ => {
                            diags.push(
                                Diagnostic::new(
                                    Code::YamlError,
                                    span,
                                    tr!(
                                        "a holiday has either a `date`, or a `from` and a `to`",
                                        "ngày nghỉ phải có `date`, hoặc có `from` và `to`"
                                    ),
                                    tr!(
                                        "neither one day nor a range",
                                        "không phải một ngày cũng không phải một khoảng"
                                    ),
                                )
                                .with_help(tr!(
                                    "write `{{date: 2026-01-01, name: …}}` for one day or `{{from: …, to: …, name: …}}` for a break",
                                    "hãy ghi `{{date: 2026-01-01, name: …}}` cho một ngày hoặc `{{from: …, to: …, name: …}}` cho một kỳ nghỉ"
                                )),
                            );
                            continue;
                        }
                    };
                    let mut reported = false;
                    let mut d = from;
                    while d <= to {
                        match holiday_seen.get(&d) {
                            Some(first) if !reported => {
                                // Once per entry, however many days overlap.
                                reported = true;
                                diags.push(
                                    Diagnostic::new(
                                        Code::DuplicateHoliday,
                                        span,
                                        tr!(
                                            "{d} is listed as a holiday twice",
                                            "ngày {d} được ghi là ngày nghỉ hai lần"
                                        ),
                                        tr!("listed again here", "ghi lại ở đây"),
                                    )
                                    .with_label(
                                        *first,
                                        tr!("first listed here", "ghi lần đầu ở đây"),
                                    )
                                    .with_help(tr!(
                                        "remove the day from one of the two entries",
                                        "hãy bỏ ngày này khỏi một trong hai mục"
                                    )),
                                );
                            }
                            Some(_) => {}
                            None => {
                                holiday_seen.insert(d, span);
                                set.holidays.push(Holiday {
                                    date: d,
                                    name: name.clone(),
                                });
                            }
                        }
                        match d.succ_opt() {
                            Some(next) => d = next,
                            None => break,
                        }
                    }
                }
                let days = item_spans(id, &file.text, "working_weekends");
                for (i, d) in working_weekends.into_iter().enumerate() {
                    use chrono::Datelike;
                    let span = days
                        .get(i)
                        .copied()
                        .unwrap_or_else(|| find(id, &file.text, &d.to_string(), 0));
                    if !matches!(d.weekday(), chrono::Weekday::Sat | chrono::Weekday::Sun) {
                        diags.push(
                            Diagnostic::new(
                                Code::YamlError,
                                span,
                                tr!(
                                    "{d} is a {}, not a weekend day",
                                    "ngày {d} là {}, không phải ngày cuối tuần",
                                    Text::new(d.weekday().to_string(), weekday_vi(d.weekday()))
                                ),
                                tr!("not a Saturday or Sunday", "không phải thứ Bảy hay Chủ nhật"),
                            )
                            .with_help(tr!(
                                "`working_weekends` lists the Saturdays and Sundays worked to make up a bridge holiday",
                                "`working_weekends` liệt kê các ngày thứ Bảy, Chủ nhật phải đi làm bù cho kỳ nghỉ"
                            )),
                        );
                    } else if set.working_weekends.contains(&d) {
                        diags.push(
                            Diagnostic::new(
                                Code::DuplicateHoliday,
                                span,
                                tr!(
                                    "{d} is listed twice as a working weekend day",
                                    "ngày {d} được ghi hai lần là ngày cuối tuần đi làm"
                                ),
                                tr!("listed again", "ghi lại"),
                            )
                            .with_help(tr!(
                                "remove one of the two entries",
                                "hãy bỏ một trong hai mục"
                            )),
                        );
                    } else {
                        set.working_weekends.push(d);
                    }
                }
            }
        }
    }
    set.holidays.sort_by_key(|h| h.date);
    set.working_weekends.sort();
    check_editions(sources, &set, level_file, diags);
    set
}

/// Units must have a known level or type, unique codes within an edition,
/// and a parent that exists in the same edition (or, for units whose parent
/// is above the territorial tree, in an edition without end date).
fn check_editions(
    sources: &SourceMap,
    set: &DataSet,
    level_file: Option<FileId>,
    diags: &mut Diagnostics,
) {
    let text_of = |span: Span| {
        sources
            .get(span.file)
            .map(|f| f.text.as_str())
            .unwrap_or("")
    };
    let kinds: Vec<&str> = set
        .levels
        .iter()
        .map(|l| l.code.as_str())
        .chain(set.unit_types.iter().map(|t| t.code.as_str()))
        .collect();
    // Units valid for the whole time line (no dates) can be parents of
    // units of any edition (the Government, ministries).
    let permanent: HashSet<&str> = set
        .editions
        .iter()
        .filter(|e| e.valid_from.is_none() && e.valid_to.is_none())
        .flat_map(|e| e.units.iter().map(|u| u.code.as_str()))
        .collect();
    for edition in &set.editions {
        let mut codes: HashMap<&str, Span> = HashMap::with_capacity(edition.units.len());
        for u in &edition.units {
            if let Some(first) = codes.insert(u.code.as_str(), u.at) {
                diags.push(
                    Diagnostic::new(
                        Code::DuplicateDataCode,
                        u.at,
                        tr!(
                            "the org unit `{}` is given twice in edition `{}`",
                            "đơn vị `{}` được khai báo hai lần trong phiên bản `{}`",
                            u.code,
                            edition.edition
                        ),
                        tr!("given again here", "khai báo lại ở đây"),
                    )
                    .with_label(first, tr!("first given here", "khai báo lần đầu ở đây"))
                    .with_help(tr!(
                        "codes must be unique within an edition; remove or renumber one of them",
                        "mã phải là duy nhất trong một phiên bản; hãy bỏ hoặc đánh số lại một trong hai"
                    )),
                );
            }
        }
        for u in &edition.units {
            if !kinds.is_empty() && !kinds.contains(&u.level.as_str()) {
                diags.push(
                    Diagnostic::new(
                        Code::UnknownUnitLevel,
                        span_in(text_of(u.at), u.at, &u.level),
                        tr!(
                            "unit `{}` has level `{}`, which is not declared",
                            "đơn vị `{}` có cấp `{}`, nhưng cấp này chưa được khai báo",
                            u.code,
                            u.level
                        ),
                        tr!(
                            "unknown level or unit type",
                            "cấp hoặc loại đơn vị không biết"
                        ),
                    )
                    .with_help(match set.level_from_vietnamese(&u.level) {
                        Some((code, title)) => tr!(
                            "`{}` is Vietnamese for the level `{code}` ({title}); write its code, `{code}`",
                            "`{}` là tên tiếng Việt của cấp `{code}` ({title}); hãy ghi mã của cấp, `{code}`",
                            u.level
                        ),
                        None => did_you_mean(&u.level, tr!("level", "cấp"), kinds.iter().copied()),
                    }),
                );
            }
            if let Some(parent) = &u.parent
                && set.failed.is_empty()
                && !codes.contains_key(parent.as_str())
                && !permanent.contains(parent.as_str())
            {
                diags.push(
                    Diagnostic::new(
                        Code::UnknownParent,
                        span_in(text_of(u.at), u.at, parent),
                        tr!(
                            "unit `{}` has parent `{parent}`, which is not a unit of edition `{}`",
                            "đơn vị `{}` có đơn vị cấp trên `{parent}`, nhưng đó không phải là đơn vị của phiên bản `{}`",
                            u.code,
                            edition.edition
                        ),
                        tr!("no such unit", "không có đơn vị này"),
                    )
                    .with_help(tr!(
                        "parents must be units of the same edition, or of an edition without dates",
                        "đơn vị cấp trên phải thuộc cùng phiên bản, hoặc thuộc một phiên bản không có ngày hiệu lực"
                    )),
                );
            }
        }
    }
    if set.levels.is_empty() && !set.editions.is_empty() {
        let at = set
            .editions
            .first()
            .map(|e| e.file)
            .or(level_file)
            .unwrap_or_default();
        diags.push(
            Diagnostic::new(
                Code::MissingDataFile,
                Span::new(at, 0, 0),
                tr!(
                    "org units are given but no `kind: org_levels` file declares their levels",
                    "có khai báo đơn vị nhưng không có tệp `kind: org_levels` nào khai báo các cấp của chúng"
                ),
                tr!("units declared here", "các đơn vị được khai báo ở đây"),
            )
            .with_help(tr!(
                "add a data file with `kind: org_levels` listing the levels, top first",
                "hãy thêm một tệp dữ liệu `kind: org_levels` liệt kê các cấp, từ cấp cao nhất"
            )),
        );
    }
}

fn duplicate(id: FileId, text: &str, code: &str, what: Text) -> Diagnostic {
    let first = find(id, text, code, 0);
    let second = find(id, text, code, 1);
    Diagnostic::new(
        Code::DuplicateDataCode,
        second,
        tr!(
            "the {} `{code}` is given twice",
            "{} `{code}` được khai báo hai lần",
            what
        ),
        tr!("given again here", "khai báo lại ở đây"),
    )
    .with_label(first, tr!("first given here", "khai báo lần đầu ở đây"))
    .with_help(tr!(
        "codes must be unique; remove or renumber one of them",
        "mã phải là duy nhất; hãy bỏ hoặc đánh số lại một trong hai"
    ))
}

/// A day of the week as written in Vietnamese.
fn weekday_vi(d: chrono::Weekday) -> &'static str {
    match d {
        chrono::Weekday::Mon => "thứ Hai",
        chrono::Weekday::Tue => "thứ Ba",
        chrono::Weekday::Wed => "thứ Tư",
        chrono::Weekday::Thu => "thứ Năm",
        chrono::Weekday::Fri => "thứ Sáu",
        chrono::Weekday::Sat => "thứ Bảy",
        chrono::Weekday::Sun => "Chủ nhật",
    }
}

/// The span of the `nth` (0-based) occurrence of `needle` as a whole YAML
/// scalar (quoted or not), or the start of the file if it is not found.
pub(crate) fn find(id: FileId, text: &str, needle: &str, nth: usize) -> Span {
    occurrences(text, needle)
        .nth(nth)
        .map(|(s, e)| Span::new(id, s, e))
        .unwrap_or_else(|| Span::new(id, 0, token_end(text, 0)))
}

/// The spans of the items of the top-level list `key:` (one per `- …`
/// entry, as long as the first line of the entry).
fn item_spans(id: FileId, text: &str, key: &str) -> Vec<Span> {
    let mut out = Vec::new();
    let mut inside = false;
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let trimmed = line.trim_end();
        let content = trimmed.trim_start();
        let indent = trimmed.len() - content.len();
        if !content.is_empty() && !content.starts_with('#') {
            if indent == 0 && !content.starts_with('-') {
                inside = content.starts_with(key)
                    && content.get(key.len()..).is_some_and(|r| r.starts_with(':'));
            } else if inside && content.starts_with('-') {
                out.push(Span::new(id, offset + indent, offset + trimmed.len()));
            }
        }
        offset += line.len();
    }
    out
}

/// The span of the last occurrence of `needle` inside `within` (a unit's
/// parent or level on its row), or `within` itself.
fn span_in(text: &str, within: Span, needle: &str) -> Span {
    let Some(slice) = text.get(within.range()) else {
        return within;
    };
    match occurrences(slice, needle).last() {
        Some((s, e)) => Span {
            start: within.start + s as u32,
            end: within.start + e as u32,
            ..within
        },
        None => within,
    }
}

fn occurrences<'a>(text: &'a str, needle: &'a str) -> impl Iterator<Item = (usize, usize)> + 'a {
    let bytes = text.as_bytes();
    text.match_indices(needle).filter_map(move |(i, m)| {
        let before = i.checked_sub(1).and_then(|b| bytes.get(b)).copied();
        let after = bytes.get(i + m.len()).copied();
        let boundary = |c: Option<u8>| {
            c.is_none_or(|c| {
                matches!(
                    c,
                    b' ' | b'"' | b'\'' | b',' | b'[' | b']' | b'{' | b'}' | b':' | b'\n' | b'\r'
                )
            })
        };
        (boundary(before) && boundary(after)).then_some((i, i + m.len()))
    })
}

fn token_end(text: &str, at: usize) -> usize {
    text.get(at..)
        .and_then(|rest| rest.find(['\n', ' ', ',']))
        .map(|n| at + n.max(1))
        .unwrap_or(text.len())
        .min(text.len())
}

/// Reads a CSV file named by a YAML data file (relative to its folder),
/// checks its header, and returns each record with the span of its line.
fn read_csv(
    sources: &SourceMap,
    (yaml, yaml_file): (FileId, &crate::source::SourceFile),
    name: &str,
    header: &[&str],
    diags: &mut Diagnostics,
    mut row: impl FnMut(Span, &csv::StringRecord, &mut Diagnostics),
) {
    let (yaml_rel, yaml_text) = (yaml_file.rel.as_str(), yaml_file.text.as_str());
    let dir = yaml_rel.rsplit_once('/').map(|(d, _)| d).unwrap_or("");
    let rel = if dir.is_empty() {
        name.to_string()
    } else {
        format!("{dir}/{name}")
    };
    let Some(id) = sources.find_rel(&rel) else {
        diags.push(
            Diagnostic::new(
                Code::MissingDataFile,
                find(yaml, yaml_text, name, 0),
                tr!(
                    "there is no file `{rel}` in this library",
                    "thư viện này không có tệp `{rel}`"
                ),
                tr!("file not found", "không tìm thấy tệp"),
            )
            .with_help(tr!(
                "the CSV file is named relative to the folder of this YAML file",
                "tên tệp CSV được ghi tương đối so với thư mục của tệp YAML này"
            )),
        );
        return;
    };
    let Some(file) = sources
        .get(id)
        .filter(|f| f.too_large.is_none() && f.not_utf8.is_none())
    else {
        // (A file too large is reported once, by `load`.)
        return;
    };
    let text = file.text.as_str();
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .has_headers(true)
        .from_reader(text.as_bytes());
    let line_span = |start: usize| {
        let end = text
            .get(start..)
            .and_then(|t| t.find('\n'))
            .map(|n| start + n)
            .unwrap_or(text.len());
        Span::new(id, start, end)
    };
    match reader.headers() {
        Ok(h) if h.iter().eq(header.iter().copied()) => {}
        Ok(_) | Err(_) => {
            diags.push(
                Diagnostic::new(
                    Code::YamlError,
                    line_span(0),
                    tr!(
                        "this CSV file does not start with the header `{}`",
                        "tệp CSV này không bắt đầu bằng dòng tiêu đề `{}`",
                        header.join(",")
                    ),
                    tr!("unexpected header", "dòng tiêu đề không đúng"),
                )
                .with_help(tr!(
                    "the first line names the columns: {}",
                    "dòng đầu tiên nêu tên các cột: {}",
                    header.join(",")
                )),
            );
            return;
        }
    }
    let mut record = csv::StringRecord::new();
    loop {
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {
                let at = line_span(record.position().map(|p| p.byte() as usize).unwrap_or(0));
                if record.len() != header.len() {
                    diags.push(
                        Diagnostic::new(
                            Code::YamlError,
                            at,
                            tr!(
                                "this row has {} fields, not {}",
                                "dòng này có {} trường, không phải {}",
                                record.len(),
                                header.len()
                            ),
                            tr!("wrong number of fields", "sai số trường"),
                        )
                        .with_help(tr!(
                            "each row has the columns {}; quote a field that contains a comma",
                            "mỗi dòng có các cột {}; hãy đặt trong dấu ngoặc kép trường nào có dấu phẩy",
                            header.join(",")
                        )),
                    );
                    continue;
                }
                row(at, &record, diags);
            }
            Err(e) => {
                let at = e.position().map(|p| p.byte() as usize).unwrap_or(0);
                diags.push(
                    Diagnostic::new(
                        Code::YamlError,
                        line_span(at),
                        tr!(
                            "this CSV row cannot be read: {e}",
                            "không đọc được dòng CSV này: {e}"
                        ),
                        tr!("here", "ở đây"),
                    )
                    .with_help(tr!(
                        "check the quotes on this line",
                        "hãy kiểm tra các dấu ngoặc kép trên dòng này"
                    )),
                );
                break;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_are_found_by_their_vietnamese_names() {
        let level = |code: &str, title: &str| Level {
            code: code.into(),
            title: title.into(),
            title_en: None,
        };
        let set = DataSet {
            levels: vec![
                level("ministry", "Bộ, cơ quan ngang bộ"),
                level("province", "Tỉnh, thành phố trực thuộc trung ương"),
                level("commune", "Xã, phường, thị trấn, đặc khu"),
            ],
            ..DataSet::default()
        };
        let code = |n: &str| set.level_from_vietnamese(n).map(|(c, _)| c);
        assert_eq!(code("tinh"), Some("province"));
        assert_eq!(code("tỉnh"), Some("province"));
        assert_eq!(code("Tỉnh"), Some("province"));
        assert_eq!(code("xã"), Some("commune"));
        assert_eq!(code("phuong"), Some("commune"));
        assert_eq!(code("bộ"), Some("ministry"));
        assert_eq!(code("thanh_pho_truc_thuoc_trung_uong"), Some("province"));
        assert_eq!(code("huyen"), None);
        assert_eq!(code(""), None);
    }
}
