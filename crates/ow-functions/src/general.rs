//! General functions (spec §6.4): `ispresent`, `coalesce`, `case`, `if`, `isNumeric`.
//! (`isempty`/`isblank`/`messageSize` live with the string functions, the query-window
//! constants in `lib.rs`.)
//!
//! `coalesce`/`case`/`if` return the common type of their value arguments (see
//! `udf::common_type`): one shared type stays as is, numbers stay numbers, a mix
//! becomes strings (or JSON text when a map/list is involved).
//! `case` with no matching branch and no default -> null \[I\].

use arrow::datatypes::DataType;

use crate::udf::common_type;
use crate::value::Val;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum GenFn {
    IsPresent,
    Coalesce,
    Case,
    If,
    IsNumeric,
}

impl GenFn {
    pub(crate) fn return_type(&self, args: &[DataType]) -> DataType {
        match self {
            GenFn::IsPresent | GenFn::IsNumeric => DataType::Boolean,
            GenFn::Coalesce => common_type(args),
            GenFn::If => common_type(args.iter().skip(1)),
            GenFn::Case => {
                let vals = args
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| i % 2 == 1 || (args.len() % 2 == 1 && *i == args.len() - 1))
                    .map(|(_, t)| t);
                common_type(vals)
            }
        }
    }

    pub(crate) fn eval<'a>(&self, args: &[Val<'a>]) -> Val<'a> {
        match self {
            GenFn::IsPresent => Val::Bool(args.first().is_some_and(|v| !v.is_null())),
            GenFn::IsNumeric => Val::Bool(args.first().is_some_and(Val::is_numeric)),
            GenFn::Coalesce => args
                .iter()
                .find(|v| !v.is_null())
                .cloned()
                .unwrap_or(Val::Null),
            GenFn::If => {
                let pick = if args.first().is_some_and(Val::truthy) {
                    1
                } else {
                    2
                };
                args.get(pick).cloned().unwrap_or(Val::Null)
            }
            GenFn::Case => {
                let mut i = 0;
                while i + 1 < args.len() {
                    if args[i].truthy() {
                        return args[i + 1].clone();
                    }
                    i += 2;
                }
                if i < args.len() {
                    args[i].clone()
                } else {
                    Val::Null
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(x: &str) -> Val<'_> {
        Val::Str(x.into())
    }

    #[test]
    fn presence_and_selection() {
        assert_eq!(GenFn::IsPresent.eval(&[Val::Null]), Val::Bool(false));
        assert_eq!(GenFn::IsPresent.eval(&[s("")]), Val::Bool(true));
        assert_eq!(GenFn::IsNumeric.eval(&[s("12.5")]), Val::Bool(true));
        assert_eq!(GenFn::IsNumeric.eval(&[s("12a")]), Val::Bool(false));
        assert_eq!(GenFn::Coalesce.eval(&[Val::Null, s("b"), s("c")]), s("b"));
        assert_eq!(GenFn::Coalesce.eval(&[Val::Null, Val::Null]), Val::Null);
        assert_eq!(GenFn::If.eval(&[Val::Bool(true), s("t"), s("f")]), s("t"));
        assert_eq!(GenFn::If.eval(&[Val::Null, s("t"), s("f")]), s("f"));
        assert_eq!(GenFn::If.eval(&[Val::Num(0.0), s("t")]), Val::Null);
    }

    #[test]
    fn case_branches() {
        let args = [
            Val::Bool(false),
            s("a"),
            Val::Num(1.0),
            s("b"),
            s("default"),
        ];
        assert_eq!(GenFn::Case.eval(&args), s("b"));
        let args = [Val::Bool(false), s("a"), s("default")];
        assert_eq!(GenFn::Case.eval(&args), s("default"));
        let args = [Val::Bool(false), s("a")];
        assert_eq!(GenFn::Case.eval(&args), Val::Null);
    }

    #[test]
    fn result_types() {
        use DataType::*;
        assert_eq!(GenFn::Coalesce.return_type(&[Null, Utf8]), Utf8);
        assert_eq!(GenFn::Coalesce.return_type(&[Int64, Float64]), Float64);
        assert_eq!(GenFn::Coalesce.return_type(&[Float64, Utf8]), Utf8);
        assert_eq!(GenFn::If.return_type(&[Boolean, Float64, Float64]), Float64);
        assert_eq!(
            GenFn::Case.return_type(&[Boolean, Utf8, Boolean, Utf8, Utf8]),
            Utf8
        );
        assert_eq!(
            GenFn::Case.return_type(&[Boolean, LargeUtf8, Utf8]),
            LargeUtf8
        );
    }
}
