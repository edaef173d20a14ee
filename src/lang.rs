//! The languages regc speaks to people: Vietnamese first, English on
//! request (`--lang en`, or `REGC_LANG=en`).
//!
//! Every text meant for a person is a [`Text`], which holds both languages
//! and can only be built with both ([`Text::new`] or the [`tr!`] macro): a
//! diagnostic, a label or a help line without its Vietnamese (or English)
//! text does not compile. The texts sit beside the code that finds the
//! problem, as the checks' own messages always did; the language is chosen
//! only when rendering, at the edge.

use std::fmt;

/// A language regc can speak.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Lang {
    /// Vietnamese, the default.
    #[default]
    Vi,
    En,
}

impl Lang {
    pub const ALL: [Lang; 2] = [Lang::Vi, Lang::En];

    /// The BCP 47 tag (`vi`, `en`).
    pub fn tag(self) -> &'static str {
        match self {
            Lang::Vi => "vi",
            Lang::En => "en",
        }
    }

    /// `vi`, `en` (also `vi-VN`, `en_US.UTF-8`, any case); `None` otherwise.
    pub fn parse(s: &str) -> Option<Lang> {
        let s = s.trim().to_ascii_lowercase();
        let base = s.split(['-', '_', '.']).next().unwrap_or("");
        match base {
            "vi" | "vn" | "vie" => Some(Lang::Vi),
            "en" | "eng" => Some(Lang::En),
            _ => None,
        }
    }
}

/// A text for people in both languages (boxed: diagnostics carry three
/// and are passed around by value).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Text(Box<Texts>);

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
struct Texts {
    en: String,
    vi: String,
}

impl Text {
    /// Both texts, English first (the order of [`tr!`]).
    pub fn new(en: impl Into<String>, vi: impl Into<String>) -> Text {
        Text(Box::new(Texts {
            en: en.into(),
            vi: vi.into(),
        }))
    }

    pub fn get(&self, lang: Lang) -> &str {
        match lang {
            Lang::Vi => &self.0.vi,
            Lang::En => &self.0.en,
        }
    }

    pub fn en(&self) -> &str {
        &self.0.en
    }

    pub fn vi(&self) -> &str {
        &self.0.vi
    }

    /// True if either language's text is empty.
    pub fn is_empty(&self) -> bool {
        self.0.en.is_empty() || self.0.vi.is_empty()
    }

    /// The same text with each language's version transformed.
    pub fn map(&self, f: impl Fn(Lang, &str) -> String) -> Text {
        Text::new(f(Lang::En, &self.0.en), f(Lang::Vi, &self.0.vi))
    }
}

/// Vietnamese letters without their marks, for a suggested ASCII name.
pub fn strip_accents(s: &str) -> String {
    const FROM: &str = "àáảãạăằắẳẵặâầấẩẫậèéẻẽẹêềếểễệìíỉĩịòóỏõọôồốổỗộơờớởỡợùúủũụưừứửữựỳýỷỹỵđÀÁẢÃẠĂẰẮẲẴẶÂẦẤẨẪẬÈÉẺẼẸÊỀẾỂỄỆÌÍỈĨỊÒÓỎÕỌÔỒỐỔỖỘƠỜỚỞỠỢÙÚỦŨỤƯỪỨỬỮỰỲÝỶỸỴĐ";
    const TO: &str = "aaaaaaaaaaaaaaaaaeeeeeeeeeeeiiiiiooooooooooooooooouuuuuuuuuuuyyyyydAAAAAAAAAAAAAAAAAEEEEEEEEEEEIIIIIOOOOOOOOOOOOOOOOOUUUUUUUUUUUYYYYYD";
    s.chars()
        .map(|c| match FROM.chars().position(|f| f == c) {
            Some(i) => TO.chars().nth(i).unwrap_or(c),
            None => c,
        })
        .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect()
}

/// An argument of [`tr!`]: anything displayable is the same in both
/// languages; a [`Text`] gives the language being written.
pub trait Arg {
    fn pick(&self, lang: Lang) -> Pick<'_>;
}

/// One language's view of an [`Arg`]; formats as the value would (width
/// and precision included).
pub enum Pick<'a> {
    Same(&'a dyn fmt::Display),
    Str(&'a str),
}

impl fmt::Display for Pick<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Pick::Same(d) => fmt::Display::fmt(d, f),
            Pick::Str(s) => fmt::Display::fmt(s, f),
        }
    }
}

impl<T: fmt::Display> Arg for T {
    fn pick(&self, _lang: Lang) -> Pick<'_> {
        Pick::Same(self)
    }
}

impl Arg for Text {
    fn pick(&self, lang: Lang) -> Pick<'_> {
        Pick::Str(self.get(lang))
    }
}

/// A [`Text`] from an English and a Vietnamese format string over the same
/// arguments: `tr!("`{}` is given twice", "`{}` được khai báo hai lần", key)`.
/// Arguments that are [`Text`]s are put in each language's version; each
/// format string must use every argument (the compiler checks it), so both
/// texts say the same things.
#[macro_export]
macro_rules! tr {
    ($en:literal, $vi:literal $(,)?) => {
        $crate::lang::Text::new(format!($en), format!($vi))
    };
    ($en:literal, $vi:literal, $($arg:expr),+ $(,)?) => {
        $crate::lang::Text::new(
            format!($en, $($crate::lang::Arg::pick(&$arg, $crate::lang::Lang::En)),+),
            format!($vi, $($crate::lang::Arg::pick(&$arg, $crate::lang::Lang::Vi)),+),
        )
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_texts_are_kept_and_text_arguments_follow_the_language() {
        let unit = "tonne";
        let inner = tr!("in {}", "tính bằng {}", unit);
        let t = tr!("`{}` is {}", "`{}` {}", "cargo", inner);
        assert_eq!(t.get(Lang::En), "`cargo` is in tonne");
        assert_eq!(t.get(Lang::Vi), "`cargo` tính bằng tonne");
        let n = 3.5_f64;
        let w = tr!("{:>6.2}|", "{:>6.2}|", n);
        assert_eq!(w.en(), "  3.50|");
        assert!(!w.is_empty());
        assert!(Text::new("x", "").is_empty());
    }

    #[test]
    fn language_tags_are_read_loosely() {
        assert_eq!(Lang::parse("vi"), Some(Lang::Vi));
        assert_eq!(Lang::parse("vi_VN.UTF-8"), Some(Lang::Vi));
        assert_eq!(Lang::parse("EN-us"), Some(Lang::En));
        assert_eq!(Lang::parse("fr"), None);
        assert_eq!(Lang::default(), Lang::Vi);
    }
}
