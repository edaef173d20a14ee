//! The registry of diagnostic codes. A code is stable once released: it may
//! be retired, never reused. Each has a title (one line) and a long
//! explanation in `docs/diagnostics/<CODE>.md`, printed by `regc explain`.

use super::{Lang, Severity};
use serde::Serialize;

macro_rules! codes {
    ($( $variant:ident = $code:literal, $sev:ident, $title:literal, $title_vi:literal; )*) => {
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

            /// One line saying what the code is about, in English.
            pub fn title(self) -> &'static str {
                match self { $(Code::$variant => $title),* }
            }

            /// One line saying what the code is about, in Vietnamese.
            pub fn title_vi(self) -> &'static str {
                match self { $(Code::$variant => $title_vi),* }
            }

            /// The long explanation in English, with an example and its fix.
            pub fn explanation(self) -> &'static str {
                match self {
                    $(Code::$variant => include_str!(concat!("../../docs/diagnostics/", $code, ".md"))),*
                }
            }

            /// The long explanation in Vietnamese (`docs/diagnostics/vi/`):
            /// a code without its page does not compile.
            pub fn explanation_vi(self) -> &'static str {
                match self {
                    $(Code::$variant => include_str!(concat!("../../docs/diagnostics/vi/", $code, ".md"))),*
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
    SyntaxError = "E0001", Error, "the text does not follow the grammar", "văn bản không đúng ngữ pháp";
    UnexpectedLine = "E0002", Error, "a line that is not understood in this block", "một dòng không hiểu được trong khối này";
    UnclosedBlock = "E0003", Error, "a block or string that is never closed", "một khối hoặc chuỗi không bao giờ được đóng";
    BadEscape = "E0004", Error, "an unknown escape sequence in a string", "một chuỗi thoát (escape) không biết trong chuỗi ký tự";
    TooDeep = "E0005", Error, "an expression or block nested too deeply", "một biểu thức hoặc khối lồng nhau quá sâu";
    BadNumber = "E0006", Error, "a number that cannot be represented", "một số không biểu diễn được";
    BadDate = "E0007", Error, "a date that does not exist", "một ngày không tồn tại";
    ReservedName = "E0008", Error, "a reserved word used as a name", "một từ dành riêng được dùng làm tên";
    MissingRowNumber = "E0009", Error, "a row without its number", "một dòng (chỉ tiêu) thiếu số thứ tự";
    FileTooLarge = "E0010", Error, "a source file larger than regc accepts", "một tệp nguồn lớn hơn mức regc chấp nhận";
    BadPlaceholder = "E0011", Error, "a message placeholder that is not a cell reference", "một chỗ giữ chỗ trong thông báo không phải là tham chiếu ô";
    NonAsciiName = "E0012", Error, "a name with letters outside ASCII", "một tên có chữ ngoài bảng mã ASCII";
    ControlCharacter = "E0013", Error, "a control or bidirectional formatting character in a text", "một ký tự điều khiển hoặc ký tự định dạng hai chiều trong văn bản";
    NotUtf8 = "E0014", Error, "a source file that is not UTF-8 text", "một tệp nguồn không phải văn bản UTF-8";

    // Regime header: E01xx
    MissingHeader = "E0101", Error, "a required regime header line is missing", "thiếu một dòng tiêu đề bắt buộc của chế độ báo cáo";
    DuplicateHeader = "E0102", Error, "a regime header line is given twice", "một dòng tiêu đề của chế độ báo cáo được khai báo hai lần";
    UnknownKind = "E0103", Error, "an unknown regime kind", "loại chế độ báo cáo không biết";
    UnknownFrequency = "E0104", Error, "an unknown reporting frequency", "tần suất báo cáo không biết";
    UnknownCutoff = "E0105", Error, "an unknown cut-off rule", "quy tắc chốt số liệu không biết";
    UnknownMethod = "E0106", Error, "an unknown reporting method", "phương thức báo cáo không biết";
    UnknownSeverity = "E0107", Error, "an unknown rule severity", "mức độ của quy tắc kiểm tra không biết";
    UnknownMissing = "E0108", Error, "an unknown missing-value strategy", "cách xử lý giá trị thiếu không biết";
    KindFrequencyMismatch = "E0109", Error, "the regime kind and its frequency disagree", "loại chế độ báo cáo và tần suất không khớp nhau";
    BadVersion = "E0110", Error, "an invalid regime version", "phiên bản chế độ báo cáo không hợp lệ";

    // Names: E02xx
    UnknownModule = "E0201", Error, "`use` of a module that does not exist", "`use` một mô-đun không tồn tại";
    DuplicateRegime = "E0202", Error, "two regimes with the same code", "hai chế độ báo cáo cùng mã";
    DuplicateForm = "E0203", Error, "two forms with the same code in one regime", "hai biểu mẫu cùng mã trong một chế độ báo cáo";
    DuplicateName = "E0204", Error, "two rows, columns or fields with the same name", "hai dòng, cột hoặc trường cùng tên";
    DuplicateRule = "E0205", Error, "two rules with the same code in one regime", "hai quy tắc kiểm tra cùng mã trong một chế độ báo cáo";
    UnknownName = "E0206", Error, "a reference to a cell, row, column or field that does not exist", "tham chiếu tới ô, dòng, cột hoặc trường không tồn tại";
    AmbiguousName = "E0207", Error, "a reference that matches more than one cell", "tham chiếu khớp với nhiều hơn một ô";
    UnknownUnit = "E0208", Error, "an unknown unit of measure", "đơn vị đo không biết";
    UnknownCodelist = "E0209", Error, "an unknown codelist", "danh mục không biết";
    UnknownGroup = "E0210", Error, "`include` of a row group that does not exist", "`include` một nhóm dòng không tồn tại";
    UnknownLevel = "E0211", Error, "an unknown org level or unit type", "cấp hoặc loại đơn vị báo cáo không biết";
    UnknownForm = "E0212", Error, "a reference to a form that does not exist", "tham chiếu tới biểu mẫu không tồn tại";
    UnknownRegime = "E0213", Error, "a reference to a regime that does not exist", "tham chiếu tới chế độ báo cáo không tồn tại";
    DuplicateDecl = "E0214", Error, "a shared declaration given twice", "một khai báo dùng chung được khai báo hai lần";
    UnknownColumn = "E0215", Error, "`without` names a column that does not exist", "`without` nêu một cột không tồn tại";
    DuplicateRowNumber = "E0216", Error, "two rows with the same row number", "hai dòng cùng số thứ tự";
    UnknownFunction = "E0217", Error, "a call to a function that does not exist", "gọi một hàm không tồn tại";

    // Types and units: E03xx
    UnknownType = "E0301", Error, "an unknown data type", "kiểu dữ liệu không biết";
    BadTypeParams = "E0302", Error, "invalid parameters of a data type", "tham số của kiểu dữ liệu không hợp lệ";
    TypeMismatch = "E0303", Error, "values of the wrong type in an expression", "giá trị sai kiểu trong biểu thức";
    UnitMismatch = "E0304", Error, "quantities of different units added or compared", "cộng hoặc so sánh các đại lượng khác đơn vị đo";
    NotBoolean = "E0305", Error, "a rule whose condition is not true/false", "quy tắc kiểm tra có điều kiện không phải đúng/sai";
    WrongArity = "E0306", Error, "a function called with the wrong number of arguments", "gọi hàm với số đối số sai";
    DeclaredTypeMismatch = "E0307", Error, "a computed cell whose formula does not give its declared type", "ô tính toán có công thức không cho ra kiểu đã khai báo";
    ComputedCycle = "E0308", Error, "computed cells that depend on each other in a cycle", "các ô tính toán phụ thuộc lẫn nhau thành vòng";
    SplitUnitMismatch = "E0309", Error, "a split or of-which row in a different unit from its parent", "dòng chia ra hoặc trong đó khác đơn vị đo với dòng cha";
    SplitNotNumeric = "E0310", Error, "a split or of-which under a row that is not a number", "chia ra hoặc trong đó dưới một dòng không phải là số";
    SummedRatio = "E0311", Error, "a percent or ratio that would be summed", "tỷ lệ phần trăm hoặc tỷ số sẽ bị cộng dồn";
    BadAggregation = "E0312", Error, "an unknown or unsuitable aggregation", "cách tổng hợp không biết hoặc không phù hợp";
    AggregateOnComputed = "E0313", Error, "an aggregation declared on a computed cell", "khai báo cách tổng hợp cho một ô tính toán";
    BadRange = "E0314", Error, "an invalid value range", "khoảng giá trị không hợp lệ";
    MissingType = "E0315", Error, "an entered cell without a data type", "ô nhập liệu không có kiểu dữ liệu";
    EnteredComputed = "E0316", Error, "a cell that is both entered and computed", "một ô vừa nhập liệu vừa tính toán";
    BadWindow = "E0317", Error, "an unknown or misplaced `over` window", "cửa sổ `over` không biết hoặc đặt sai chỗ";
    FieldOutsideRecord = "E0318", Error, "a record field used outside a record rule", "trường của biểu danh sách dùng ngoài quy tắc của biểu đó";
    DivisionByZero = "E0319", Error, "a division by the constant zero", "chia cho hằng số không";
    BadTolerance = "E0320", Error, "an invalid tolerance", "dung sai không hợp lệ";
    StockSummedOverTime = "E0330", Warning, "a stock (a count of what exists) summed over time", "một chỉ tiêu thời điểm (số lượng hiện có) bị cộng dồn theo thời gian";
    DeadlineOnDayOff = "E0331", Warning, "a fixed deadline day that falls on a weekend or holiday", "một thời hạn ngày cố định trùng ngày nghỉ cuối tuần hoặc ngày lễ";

    // Regime semantics: E04xx
    DeadlineTooEarly = "E0401", Error, "a deadline less than one working day after the cut-off", "hạn báo cáo chưa đủ một ngày làm việc sau ngày chốt số liệu";
    DeadlineNotInFlow = "E0402", Error, "a deadline for a level that is not in the flow", "hạn báo cáo cho một cấp không có trong luồng báo cáo";
    MissingDeadline = "E0403", Error, "a level of the flow without a deadline", "một cấp trong luồng báo cáo không có hạn báo cáo";
    FlowStart = "E0404", Error, "a flow that does not start at the reporters", "luồng báo cáo không bắt đầu từ đơn vị báo cáo";
    PeriodNotAvailable = "E0405", Error, "a period reference that the frequency cannot have", "tham chiếu kỳ mà tần suất báo cáo không thể có";
    UnknownPeriod = "E0406", Error, "an unknown period reference", "tham chiếu kỳ không biết";
    YearlyInYearly = "E0407", Warning, "`entered once per year` in a regime that is not sub-annual", "`entered once per year` trong chế độ báo cáo không có kỳ ngắn hơn năm";
    ReconcileWithoutOther = "E0408", Error, "a reconciliation that names no other regime", "đối chiếu không nêu chế độ báo cáo nào khác";
    CrossRegimeInRule = "E0409", Error, "a reference to another regime outside `reconcile`", "tham chiếu tới chế độ báo cáo khác ngoài `reconcile`";
    DeadlineOrder = "E0410", Warning, "a higher level's deadline before a lower level's", "hạn báo cáo của cấp trên sớm hơn của cấp dưới";
    EmptyForm = "E0412", Error, "a form without rows, columns or fields", "biểu mẫu không có dòng, cột hoặc trường nào";
    NoForms = "E0413", Error, "a regime without forms", "chế độ báo cáo không có biểu mẫu nào";
    BadFixedDay = "E0414", Error, "a fixed deadline day that not every month has", "ngày cố định của hạn báo cáo mà không phải tháng nào cũng có";
    BadRegimeCode = "E0415", Error, "a regime code that is not `agency.name`", "mã chế độ báo cáo không có dạng `agency.name`";
    DuplicateLanguage = "E0416", Error, "two titles in the same language", "hai tiêu đề cùng một ngôn ngữ";

    // Data files (YAML): E05xx
    YamlError = "E0501", Error, "a YAML data file that does not have the expected shape", "tệp dữ liệu YAML không có cấu trúc như mong đợi";
    DuplicateDataCode = "E0502", Error, "a code given twice in a data file", "một mã được khai báo hai lần trong tệp dữ liệu";
    UnknownParent = "E0503", Error, "an org unit whose parent does not exist", "đơn vị hành chính có đơn vị cấp trên không tồn tại";
    UnknownUnitLevel = "E0504", Error, "an org unit of an unknown level or type", "đơn vị hành chính thuộc cấp hoặc loại không biết";
    BadValidity = "E0505", Error, "an org edition that ends before it starts", "phiên bản danh mục đơn vị kết thúc trước khi bắt đầu";
    MissingDataFile = "E0506", Error, "a data file that is named but does not exist", "tệp dữ liệu được nêu tên nhưng không tồn tại";
    DuplicateHoliday = "E0507", Error, "a holiday date given twice", "một ngày nghỉ lễ được khai báo hai lần";

    // Migrations between versions of a regime: E06xx
    DropsData = "E0601", Error, "a new version that drops a form or a cell holding data", "phiên bản mới bỏ một biểu mẫu hoặc một ô đang có dữ liệu";
    NarrowsType = "E0602", Error, "a new version that narrows a cell's type or range", "phiên bản mới thu hẹp kiểu hoặc khoảng giá trị của một ô";
    CannotMigrate = "E0603", Error, "a change of a form that cannot be made in place", "thay đổi biểu mẫu không thực hiện tại chỗ được";
    VersionNotRaised = "E0604", Error, "a regime whose tables changed but whose version did not", "chế độ báo cáo có bảng thay đổi nhưng không tăng phiên bản";

    // Limits on what a regime may ask for (hostile input): E07xx
    DeadlineTooLate = "E0701", Error, "a deadline more than a year after the cut-off", "một thời hạn quá một năm sau ngày chốt số liệu";
    TextTooLong = "E0702", Error, "a text longer than a spreadsheet cell holds", "một văn bản dài hơn sức chứa của một ô bảng tính";
}

impl Code {
    pub fn title_in(self, lang: Lang) -> &'static str {
        match lang {
            Lang::Vi => self.title_vi(),
            Lang::En => self.title(),
        }
    }

    pub fn explanation_in(self, lang: Lang) -> &'static str {
        match lang {
            Lang::Vi => self.explanation_vi(),
            Lang::En => self.explanation(),
        }
    }
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
