//! Exact decimal arithmetic for SQLite, which has none: application-defined
//! functions over decimals held as text, registered on every connection
//! regc opens. `rules.sqlite.sql` calls them, so it runs where regc (or any
//! host that registers them, see docs/rules.md) opened the database.
//!
//! Every function returns NULL when an argument is NULL (or not a number),
//! like SQL's own operators. Numbers come in as integers, text decimals or
//! (never produced by regc) reals, and go out as canonical text decimals.
//!
//! | function | value |
//! |---|---|
//! | `regc_dec(x, s)` | the scaled integer `x` as a decimal: `x × 10^-s` |
//! | `regc_add(a, b)`, `regc_sub`, `regc_mul` | exact |
//! | `regc_div(a, b)` | rounded half away from zero to 20 digits; NULL when `b = 0` |
//! | `regc_neg(a)`, `regc_abs(a)`, `regc_round(a, n)` | exact; half away from zero |
//! | `regc_cmp(a, b)` | −1, 0 or 1 |
//! | `regc_within(a, b, t, relative)` | 1 if `|a − b| ≤ t` (× max(|a|, |b|) if relative), else 0 |
//! | `regc_and(a, b)`, `regc_or(a, b)` | truth values (0/1); NULL when either is NULL |
//! | `regc_min(a, …)`, `regc_max(a, …)`, `regc_sum(a, …)` | over the arguments; NULL if any is NULL |
//! | `regc_total(x)`, `regc_least(x)`, `regc_greatest(x)` | aggregates over the non-NULL rows; NULL if none |

use crate::eval::num::Num;
use rusqlite::functions::{Aggregate, Context, FunctionFlags};
use rusqlite::types::ValueRef;

fn arg(ctx: &Context, i: usize) -> Option<Num> {
    match ctx.get_raw(i) {
        ValueRef::Integer(n) => Some(Num::from_i64(n)),
        ValueRef::Text(t) => Num::parse(std::str::from_utf8(t).ok()?.trim()),
        // Reals never come from regc's tables; read their shortest text.
        ValueRef::Real(r) => Num::parse(&format!("{r}")),
        ValueRef::Null | ValueRef::Blob(_) => None,
    }
}

fn args(ctx: &Context) -> Option<Vec<Num>> {
    (0..ctx.len()).map(|i| arg(ctx, i)).collect()
}

fn text(n: Option<Num>) -> Option<String> {
    n.map(|n| n.to_plain())
}

/// Registers every function on `conn`.
pub fn register(conn: &rusqlite::Connection) -> rusqlite::Result<()> {
    let flags = FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC;
    conn.create_scalar_function("regc_dec", 2, flags, |ctx| {
        let (Some(x), Ok(s)) = (arg(ctx, 0), ctx.get::<i64>(1)) else {
            return Ok(None);
        };
        let scale = Num::parse(&format!("1{}", "0".repeat(usize::try_from(s).unwrap_or(0))));
        Ok(text(scale.and_then(|p| x.div(&p))))
    })?;
    let binary = |name: &'static str, f: fn(&Num, &Num) -> Option<Num>| {
        conn.create_scalar_function(name, 2, flags, move |ctx| {
            Ok(match (arg(ctx, 0), arg(ctx, 1)) {
                (Some(a), Some(b)) => text(f(&a, &b)),
                _ => None,
            })
        })
    };
    binary("regc_add", |a, b| Some(a.add(b)))?;
    binary("regc_sub", |a, b| Some(a.sub(b)))?;
    binary("regc_mul", |a, b| Some(a.mul(b)))?;
    binary("regc_div", |a, b| a.div(b))?;
    conn.create_scalar_function("regc_neg", 1, flags, |ctx| {
        Ok(text(arg(ctx, 0).map(|a| a.neg())))
    })?;
    conn.create_scalar_function("regc_abs", 1, flags, |ctx| {
        Ok(text(arg(ctx, 0).map(|a| a.abs())))
    })?;
    conn.create_scalar_function("regc_round", 2, flags, |ctx| {
        let (Some(a), Some(n)) = (arg(ctx, 0), arg(ctx, 1)) else {
            return Ok(None);
        };
        let digits: i64 = n.to_plain().parse().unwrap_or(0);
        Ok(text(Some(a.round(digits))))
    })?;
    conn.create_scalar_function("regc_cmp", 2, flags, |ctx| {
        Ok(match (arg(ctx, 0), arg(ctx, 1)) {
            (Some(a), Some(b)) => Some(a.cmp(&b) as i64),
            _ => None,
        })
    })?;
    conn.create_scalar_function("regc_within", 4, flags, |ctx| {
        let (Some(a), Some(b), Some(t)) = (arg(ctx, 0), arg(ctx, 1), arg(ctx, 2)) else {
            return Ok(None);
        };
        let relative = ctx.get::<i64>(3).unwrap_or(0) != 0;
        let tol = crate::ir::Tolerance {
            value: t.to_plain(),
            relative,
        };
        Ok(Some(i64::from(crate::eval::within(&a, &b, &tol))))
    })?;
    conn.create_scalar_function("regc_min", -1, flags, |ctx| {
        Ok(text(args(ctx).and_then(|v| {
            v.into_iter().reduce(|m, x| if x < m { x } else { m })
        })))
    })?;
    conn.create_scalar_function("regc_max", -1, flags, |ctx| {
        Ok(text(args(ctx).and_then(|v| {
            v.into_iter().reduce(|m, x| if x > m { x } else { m })
        })))
    })?;
    conn.create_scalar_function("regc_sum", -1, flags, |ctx| {
        Ok(text(
            args(ctx).map(|v| v.iter().fold(Num::zero(), |s, x| s.add(x))),
        ))
    })?;
    let logic = |name: &'static str, f: fn(bool, bool) -> bool| {
        conn.create_scalar_function(name, 2, flags, move |ctx| {
            Ok(
                match (ctx.get::<Option<i64>>(0)?, ctx.get::<Option<i64>>(1)?) {
                    (Some(a), Some(b)) => Some(i64::from(f(a != 0, b != 0))),
                    _ => None,
                },
            )
        })
    };
    logic("regc_and", |a, b| a && b)?;
    logic("regc_or", |a, b| a || b)?;
    conn.create_aggregate_function("regc_total", 1, flags, Fold(|a: Num, x: Num| a.add(&x)))?;
    conn.create_aggregate_function(
        "regc_least",
        1,
        flags,
        Fold(|a: Num, x: Num| if x < a { x } else { a }),
    )?;
    conn.create_aggregate_function(
        "regc_greatest",
        1,
        flags,
        Fold(|a: Num, x: Num| if x > a { x } else { a }),
    )?;
    Ok(())
}

/// An aggregate folding the non-NULL rows with `f`.
struct Fold(fn(Num, Num) -> Num);

impl Aggregate<Option<Num>, Option<String>> for Fold {
    fn init(&self, _: &mut Context<'_>) -> rusqlite::Result<Option<Num>> {
        Ok(None)
    }

    fn step(&self, ctx: &mut Context<'_>, acc: &mut Option<Num>) -> rusqlite::Result<()> {
        if let Some(x) = arg(ctx, 0) {
            *acc = Some(match acc.take() {
                Some(a) => (self.0)(a, x),
                None => x,
            });
        }
        Ok(())
    }

    fn finalize(
        &self,
        _: &mut Context<'_>,
        acc: Option<Option<Num>>,
    ) -> rusqlite::Result<Option<String>> {
        Ok(text(acc.flatten()))
    }
}
