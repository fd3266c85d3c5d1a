//! A closure-backed scalar UDF for the engine's own per-query functions (`parse`, `lookup`,
//! counters): any argument types, a fixed return type.

use std::fmt;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use arrow::array::ArrayRef;
use arrow::datatypes::DataType;
use datafusion::error::Result as DfResult;
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};

/// Evaluates the UDF on the argument arrays (scalars expanded to `rows`).
pub type UdfFn = Arc<dyn Fn(&[ArrayRef], usize) -> DfResult<ArrayRef> + Send + Sync>;

/// A scalar UDF from a closure. Equality and hashing use the name only, so every instance
/// must have a unique name within a query (the planner numbers them).
pub struct FnUdf {
    name: String,
    signature: Signature,
    ret: DataType,
    fun: UdfFn,
}

impl FnUdf {
    /// A UDF taking `arity` arguments of any type.
    // Returns the `ScalarUDF` wrapping the new `FnUdf`, which is what every caller needs.
    #[allow(clippy::new_ret_no_self)]
    pub fn new(
        name: impl Into<String>,
        arity: usize,
        ret: DataType,
        volatility: Volatility,
        fun: UdfFn,
    ) -> ScalarUDF {
        let signature = if arity == 0 {
            Signature::nullary(volatility)
        } else {
            Signature::any(arity, volatility)
        };
        ScalarUDF::new_from_impl(FnUdf {
            name: name.into(),
            signature,
            ret,
            fun,
        })
    }
}

impl fmt::Debug for FnUdf {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "FnUdf({})", self.name)
    }
}

impl PartialEq for FnUdf {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
    }
}
impl Eq for FnUdf {}
impl Hash for FnUdf {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.name.hash(state)
    }
}

impl ScalarUDFImpl for FnUdf {
    fn name(&self) -> &str {
        &self.name
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn return_type(&self, _arg_types: &[DataType]) -> DfResult<DataType> {
        Ok(self.ret.clone())
    }
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> DfResult<ColumnarValue> {
        let n = args.number_rows;
        let arrays = args
            .args
            .into_iter()
            .map(|a| a.into_array(n))
            .collect::<DfResult<Vec<_>>>()?;
        Ok(ColumnarValue::Array((self.fun)(&arrays, n)?))
    }
}
