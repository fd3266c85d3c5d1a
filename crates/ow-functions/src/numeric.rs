//! Numeric functions (spec §6.1). Every argument is coerced with [`Val::as_num`];
//! a missing or non-numeric argument yields null, as does a non-finite result.
//!
//! Choices on \[I\] items:
//! * `greatest`/`least` ignore missing arguments; all missing -> null.
//! * `log(x)` is the natural log; `x <= 0` -> null. `sqrt(x < 0)` -> null.
//! * `round` rounds half away from zero; `round(x, d)` to `d` decimals (`d` truncated,
//!   negative `d` rounds to tens, hundreds…).
//! * `haversine` uses a mean Earth radius of 6371 km; inputs in degrees, output km.
//! * `toInt`/`toLong` truncate toward zero; out of the 32/64-bit range -> null.
//!   `toNumber`/`toDouble` are plain numeric coercion.

use crate::value::Val;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum NumFn {
    Abs,
    Ceil,
    Floor,
    Greatest,
    Least,
    Log,
    Sqrt,
    Round,
    Haversine,
    ToDouble,
    ToInt,
    ToLong,
}

/// Mean Earth radius in km used by `haversine`.
pub const EARTH_RADIUS_KM: f64 = 6371.0;

impl NumFn {
    pub(crate) fn eval<'a>(&self, args: &[Val<'a>]) -> Val<'a> {
        let n = |i: usize| args.get(i).and_then(Val::as_num);
        let r = match self {
            NumFn::Abs => n(0).map(f64::abs),
            NumFn::Ceil => n(0).map(f64::ceil),
            NumFn::Floor => n(0).map(f64::floor),
            NumFn::Greatest => args.iter().filter_map(Val::as_num).reduce(f64::max),
            NumFn::Least => args.iter().filter_map(Val::as_num).reduce(f64::min),
            NumFn::Log => n(0).filter(|x| *x > 0.0).map(f64::ln),
            NumFn::Sqrt => n(0).filter(|x| *x >= 0.0).map(f64::sqrt),
            NumFn::Round => match args.len() {
                1 => n(0).map(f64::round),
                _ => match (n(0), n(1)) {
                    (Some(x), Some(d)) => round_to(x, d.trunc()),
                    _ => None,
                },
            },
            NumFn::Haversine => match (n(0), n(1), n(2), n(3)) {
                (Some(a), Some(b), Some(c), Some(d)) => Some(haversine_km(a, b, c, d)),
                _ => None,
            },
            NumFn::ToDouble => n(0),
            NumFn::ToInt => n(0)
                .map(f64::trunc)
                .filter(|x| *x >= f64::from(i32::MIN) && *x <= f64::from(i32::MAX)),
            NumFn::ToLong => n(0)
                .map(f64::trunc)
                .filter(|x| *x >= -9.223_372_036_854_776e18 && *x < 9.223_372_036_854_776e18),
        };
        match r {
            Some(x) if x.is_finite() => Val::Num(if x == 0.0 { 0.0 } else { x }),
            _ => Val::Null,
        }
    }
}

fn round_to(x: f64, digits: f64) -> Option<f64> {
    if !(-308.0..=308.0).contains(&digits) {
        return None;
    }
    let f = 10f64.powi(digits as i32);
    let r = (x * f).round() / f;
    // scaling overflowed: the value has no digits that far out, keep it
    Some(if r.is_finite() { r } else { x })
}

/// Great-circle distance in km between two points given in degrees.
pub fn haversine_km(lat1: f64, lon1: f64, lat2: f64, lon2: f64) -> f64 {
    let (p1, p2) = (lat1.to_radians(), lat2.to_radians());
    let dp = (lat2 - lat1).to_radians();
    let dl = (lon2 - lon1).to_radians();
    let a = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
    2.0 * EARTH_RADIUS_KM * a.sqrt().min(1.0).asin()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn num(f: NumFn, args: &[Val<'static>]) -> Option<f64> {
        f.eval(args).as_num()
    }

    #[test]
    fn basics() {
        assert_eq!(num(NumFn::Abs, &[Val::Num(-2.5)]), Some(2.5));
        assert_eq!(num(NumFn::Ceil, &[Val::Str("2.1".into())]), Some(3.0));
        assert_eq!(num(NumFn::Floor, &[Val::Num(-2.1)]), Some(-3.0));
        assert_eq!(
            num(
                NumFn::Greatest,
                &[Val::Num(1.0), Val::Null, Val::Str("7".into())]
            ),
            Some(7.0)
        );
        assert_eq!(
            num(NumFn::Least, &[Val::Num(1.0), Val::Num(-4.0)]),
            Some(-4.0)
        );
        assert_eq!(num(NumFn::Least, &[Val::Null]), None);
        assert_eq!(num(NumFn::Log, &[Val::Num(std::f64::consts::E)]), Some(1.0));
        assert_eq!(num(NumFn::Log, &[Val::Num(0.0)]), None);
        assert_eq!(num(NumFn::Sqrt, &[Val::Num(16.0)]), Some(4.0));
        assert_eq!(num(NumFn::Sqrt, &[Val::Num(-1.0)]), None);
        assert_eq!(num(NumFn::Abs, &[Val::Str("abc".into())]), None);
    }

    #[test]
    fn rounding() {
        assert_eq!(num(NumFn::Round, &[Val::Num(2.5)]), Some(3.0));
        assert_eq!(num(NumFn::Round, &[Val::Num(-2.5)]), Some(-3.0));
        assert_eq!(
            num(NumFn::Round, &[Val::Num(1.23456), Val::Num(2.0)]),
            Some(1.23)
        );
        assert_eq!(
            num(NumFn::Round, &[Val::Num(1234.0), Val::Num(-2.0)]),
            Some(1200.0)
        );
    }

    #[test]
    fn conversions() {
        assert_eq!(num(NumFn::ToInt, &[Val::Str("-7.9".into())]), Some(-7.0));
        assert_eq!(num(NumFn::ToInt, &[Val::Num(3e10)]), None);
        assert_eq!(num(NumFn::ToLong, &[Val::Num(3e10)]), Some(3e10));
        assert_eq!(
            num(NumFn::ToDouble, &[Val::Str("1e3".into())]),
            Some(1000.0)
        );
        assert_eq!(num(NumFn::ToDouble, &[Val::Str("x".into())]), None);
    }

    #[test]
    fn haversine_paris_london() {
        // Paris (48.8566, 2.3522) to London (51.5074, -0.1278): about 343.5 km
        let d = haversine_km(48.8566, 2.3522, 51.5074, -0.1278);
        assert!((d - 343.5).abs() < 1.0, "{d}");
        assert_eq!(haversine_km(10.0, 20.0, 10.0, 20.0), 0.0);
    }
}
