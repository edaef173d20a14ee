//! The registry of diagnostic codes. A code is stable once released: it may
//! be retired, never reused. Each has a title (one line) and a long
//! explanation in `docs/diagnostics/<CODE>.md`, printed by `regc explain`.

use super::Severity;
use serde::Serialize;

macro_rules! codes {
    ($( $variant:ident = $code:literal, $sev:ident, $title:literal; )*) => {
        /// A stable diagnostic code.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum Code { $($variant),* }

        impl Code {
            pub const ALL: &'static [Code] = &[$(Code::$variant),*];

            pub fn as_str(self) -> &'static str {
                match self { $(Code::$variant => $code),* }
            }

            /// The severity a diagnostic with this code has.
            pub fn severity(self) -> Severity {
                match self { $(Code::$variant => Severity::$sev),* }
            }

            /// One line saying what the code is about.
            pub fn title(self) -> &'static str {
                match self { $(Code::$variant => $title),* }
            }

            /// The long explanation, with an example and its fix.
            pub fn explanation(self) -> &'static str {
                match self {
                    $(Code::$variant => include_str!(concat!("../../docs/diagnostics/", $code, ".md"))),*
                }
            }

            pub fn parse(s: &str) -> Option<Code> {
                let s = s.trim().to_ascii_uppercase();
                Code::ALL.iter().copied().find(|c| c.as_str() == s)
            }
        }
    };
}

codes! {
    // Syntax: E00xx
    SyntaxError = "E0001", Error, "the text does not follow the grammar";
    UnexpectedLine = "E0002", Error, "a line that is not understood in this block";
    UnclosedBlock = "E0003", Error, "a block or string that is never closed";
    BadEscape = "E0004", Error, "an unknown escape sequence in a string";
    TooDeep = "E0005", Error, "an expression or block nested too deeply";
    BadNumber = "E0006", Error, "a number that cannot be represented";
    BadDate = "E0007", Error, "a date that does not exist";
    ReservedName = "E0008", Error, "a reserved word used as a name";
    MissingRowNumber = "E0009", Error, "a row without its number";
    FileTooLarge = "E0010", Error, "a source file larger than regc accepts";
    BadPlaceholder = "E0011", Error, "a message placeholder that is not a cell reference";
    NonAsciiName = "E0012", Error, "a name with letters outside ASCII";
    ControlCharacter = "E0013", Error, "a control or bidirectional formatting character in a text";
    NotUtf8 = "E0014", Error, "a source file that is not UTF-8 text";

    // Regime header: E01xx
    MissingHeader = "E0101", Error, "a required regime header line is missing";
    DuplicateHeader = "E0102", Error, "a regime header line is given twice";
    UnknownKind = "E0103", Error, "an unknown regime kind";
    UnknownFrequency = "E0104", Error, "an unknown reporting frequency";
    UnknownCutoff = "E0105", Error, "an unknown cut-off rule";
    UnknownMethod = "E0106", Error, "an unknown reporting method";
    UnknownSeverity = "E0107", Error, "an unknown rule severity";
    UnknownMissing = "E0108", Error, "an unknown missing-value strategy";
    KindFrequencyMismatch = "E0109", Error, "the regime kind and its frequency disagree";
    BadVersion = "E0110", Error, "an invalid regime version";

    // Names: E02xx
    UnknownModule = "E0201", Error, "`use` of a module that does not exist";
    DuplicateRegime = "E0202", Error, "two regimes with the same code";
    DuplicateForm = "E0203", Error, "two forms with the same code in one regime";
    DuplicateName = "E0204", Error, "two rows, columns or fields with the same name";
    DuplicateRule = "E0205", Error, "two rules with the same code in one regime";
    UnknownName = "E0206", Error, "a reference to a cell, row, column or field that does not exist";
    AmbiguousName = "E0207", Error, "a reference that matches more than one cell";
    UnknownUnit = "E0208", Error, "an unknown unit of measure";
    UnknownCodelist = "E0209", Error, "an unknown codelist";
    UnknownGroup = "E0210", Error, "`include` of a row group that does not exist";
    UnknownLevel = "E0211", Error, "an unknown org level or unit type";
    UnknownForm = "E0212", Error, "a reference to a form that does not exist";
    UnknownRegime = "E0213", Error, "a reference to a regime that does not exist";
    DuplicateDecl = "E0214", Error, "a shared declaration given twice";
    UnknownColumn = "E0215", Error, "`without` names a column that does not exist";
    DuplicateRowNumber = "E0216", Error, "two rows with the same row number";
    UnknownFunction = "E0217", Error, "a call to a function that does not exist";

    // Types and units: E03xx
    UnknownType = "E0301", Error, "an unknown data type";
    BadTypeParams = "E0302", Error, "invalid parameters of a data type";
    TypeMismatch = "E0303", Error, "values of the wrong type in an expression";
    UnitMismatch = "E0304", Error, "quantities of different units added or compared";
    NotBoolean = "E0305", Error, "a rule whose condition is not true/false";
    WrongArity = "E0306", Error, "a function called with the wrong number of arguments";
    DeclaredTypeMismatch = "E0307", Error, "a computed cell whose formula does not give its declared type";
    ComputedCycle = "E0308", Error, "computed cells that depend on each other in a cycle";
    SplitUnitMismatch = "E0309", Error, "a split or of-which row in a different unit from its parent";
    SplitNotNumeric = "E0310", Error, "a split or of-which under a row that is not a number";
    SummedRatio = "E0311", Error, "a percent or ratio that would be summed";
    BadAggregation = "E0312", Error, "an unknown or unsuitable aggregation";
    AggregateOnComputed = "E0313", Error, "an aggregation declared on a computed cell";
    BadRange = "E0314", Error, "an invalid value range";
    MissingType = "E0315", Error, "an entered cell without a data type";
    EnteredComputed = "E0316", Error, "a cell that is both entered and computed";
    BadWindow = "E0317", Error, "an unknown or misplaced `over` window";
    FieldOutsideRecord = "E0318", Error, "a record field used outside a record rule";
    DivisionByZero = "E0319", Error, "a division by the constant zero";
    BadTolerance = "E0320", Error, "an invalid tolerance";
    StockSummedOverTime = "E0330", Warning, "a stock (a count of what exists) summed over time";

    // Regime semantics: E04xx
    DeadlineTooEarly = "E0401", Error, "a deadline less than one working day after the cut-off";
    DeadlineNotInFlow = "E0402", Error, "a deadline for a level that is not in the flow";
    MissingDeadline = "E0403", Error, "a level of the flow without a deadline";
    FlowStart = "E0404", Error, "a flow that does not start at the reporters";
    PeriodNotAvailable = "E0405", Error, "a period reference that the frequency cannot have";
    UnknownPeriod = "E0406", Error, "an unknown period reference";
    YearlyInYearly = "E0407", Warning, "`entered once per year` in a regime that is not sub-annual";
    ReconcileWithoutOther = "E0408", Error, "a reconciliation that names no other regime";
    CrossRegimeInRule = "E0409", Error, "a reference to another regime outside `reconcile`";
    DeadlineOrder = "E0410", Warning, "a higher level's deadline before a lower level's";
    EmptyForm = "E0412", Error, "a form without rows, columns or fields";
    NoForms = "E0413", Error, "a regime without forms";
    BadFixedDay = "E0414", Error, "a fixed deadline day that not every month has";
    BadRegimeCode = "E0415", Error, "a regime code that is not `agency.name`";
    DuplicateLanguage = "E0416", Error, "two titles in the same language";

    // Data files (YAML): E05xx
    YamlError = "E0501", Error, "a YAML data file that does not have the expected shape";
    DuplicateDataCode = "E0502", Error, "a code given twice in a data file";
    UnknownParent = "E0503", Error, "an org unit whose parent does not exist";
    UnknownUnitLevel = "E0504", Error, "an org unit of an unknown level or type";
    BadValidity = "E0505", Error, "an org edition that ends before it starts";
    MissingDataFile = "E0506", Error, "a data file that is named but does not exist";
    DuplicateHoliday = "E0507", Error, "a holiday date given twice";

    // Migrations between versions of a regime: E06xx
    DropsData = "E0601", Error, "a new version that drops a form or a cell holding data";
    NarrowsType = "E0602", Error, "a new version that narrows a cell's type or range";
    CannotMigrate = "E0603", Error, "a change of a form that cannot be made in place";
    VersionNotRaised = "E0604", Error, "a regime whose tables changed but whose version did not";

    // Limits on what a regime may ask for (hostile input): E07xx
    DeadlineTooLate = "E0701", Error, "a deadline more than a year after the cut-off";
    TextTooLong = "E0702", Error, "a text longer than a spreadsheet cell holds";
}

impl Serialize for Code {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl std::fmt::Display for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
