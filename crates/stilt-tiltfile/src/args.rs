//! Argument unpacking with go.starlark.net's `UnpackArgs` rules and error texts.
//!
//! Parameters are listed in Go's positional order; a trailing `?` marks an optional one (all
//! later ones are optional too), `??` an optional one for which `None` counts as "not given".
//! Errors read like Tilt's: `local_resource: unexpected keyword argument foo`,
//! `local: for parameter quiet: got string, want bool`.

use crate::errors::{BResult, Failure};
use crate::values::Blob;
use starlark::eval::Arguments;
use starlark::values::dict::DictRef;
use starlark::values::list::ListRef;
use starlark::values::tuple::TupleRef;
use starlark::values::{Heap, Value, ValueLike};

/// Unpacked arguments of one call: one slot per declared parameter.
pub(crate) struct Args<'v> {
    fn_name: &'static str,
    params: &'static [&'static str],
    vals: Vec<Option<Value<'v>>>,
}

fn param_name(p: &str) -> &str {
    p.trim_end_matches('?')
}

impl<'v> Args<'v> {
    /// Unpacks `args` against `params`.
    pub(crate) fn unpack(
        fn_name: &'static str,
        params: &'static [&'static str],
        args: &Arguments<'v, '_>,
        heap: Heap<'v>,
    ) -> BResult<Args<'v>> {
        let n = params.len();
        let mut vals: Vec<Option<Value<'v>>> = vec![None; n];
        let positional: Vec<Value<'v>> = args.positions(heap)?.collect();
        if positional.len() > n {
            return Err(format!("{fn_name}: got {} arguments, want at most {n}", positional.len()).into());
        }
        for (i, v) in positional.iter().enumerate() {
            vals[i] = Some(*v);
        }
        for (name, v) in args.names_map()? {
            let name = name.as_str();
            let Some(i) = params.iter().position(|p| param_name(p) == name) else {
                let mut msg = format!("{fn_name}: unexpected keyword argument {name}");
                // go.starlark.net only offers the first half of the names (a Go quirk we keep).
                let half: Vec<&str> = params.iter().take(n.div_ceil(2)).map(|p| param_name(p)).collect();
                if let Some(s) = nearest(name, &half) {
                    msg.push_str(&format!(" (did you mean {s}?)"));
                }
                return Err(msg.into());
            };
            if vals[i].is_some() {
                return Err(format!("{fn_name}: got multiple values for keyword argument {name}").into());
            }
            vals[i] = Some(v);
        }
        for (i, p) in params.iter().enumerate() {
            if p.ends_with("??") && vals[i].is_some_and(Value::is_none) {
                vals[i] = None;
            }
        }
        for (i, p) in params.iter().enumerate().skip(positional.len()) {
            if p.ends_with('?') {
                break;
            }
            if vals[i].is_none() {
                return Err(format!("{fn_name}: missing argument for {p}").into());
            }
        }
        Ok(Args { fn_name, params, vals })
    }

    /// The raw value of parameter `i`, if given.
    pub(crate) fn get(&self, i: usize) -> Option<Value<'v>> {
        self.vals[i]
    }

    /// A type error for parameter `i` in Go's words.
    pub(crate) fn type_err(&self, i: usize, want: &str) -> Failure {
        let got = self.vals[i].map_or("NoneType", |v| v.get_type());
        self.err(i, &format!("got {got}, want {want}"))
    }

    /// `fn: for parameter name: msg`.
    pub(crate) fn err(&self, i: usize, msg: &str) -> Failure {
        format!("{}: for parameter {}: {msg}", self.fn_name, param_name(self.params[i])).into()
    }

    /// A `string` parameter.
    pub(crate) fn str(&self, i: usize) -> BResult<Option<String>> {
        match self.vals[i] {
            None => Ok(None),
            Some(v) => v.unpack_str().map(|s| Some(s.to_string())).ok_or_else(|| self.type_err(i, "string")),
        }
    }

    /// A `string` parameter with a default.
    pub(crate) fn str_or(&self, i: usize, default: &str) -> BResult<String> {
        Ok(self.str(i)?.unwrap_or_else(|| default.to_string()))
    }

    /// A required `string` parameter (guaranteed present by `unpack`).
    pub(crate) fn req_str(&self, i: usize) -> BResult<String> {
        self.str_or(i, "")
    }

    /// A `bool` parameter (Go accepts only `True`/`False`).
    pub(crate) fn bool_or(&self, i: usize, default: bool) -> BResult<bool> {
        match self.vals[i] {
            None => Ok(default),
            Some(v) => v.unpack_bool().ok_or_else(|| self.type_err(i, "bool")),
        }
    }

    /// An `int` parameter.
    pub(crate) fn int(&self, i: usize) -> BResult<Option<i32>> {
        match self.vals[i] {
            None => Ok(None),
            Some(v) => v.unpack_i32().map(Some).ok_or_else(|| self.type_err(i, "int")),
        }
    }

    /// A string or Blob.
    pub(crate) fn stringable(&self, i: usize) -> BResult<Option<String>> {
        match self.vals[i] {
            None => Ok(None),
            Some(v) => stringable(v).map(Some).ok_or_else(|| self.type_err(i, "string or blob")),
        }
    }

    /// A required Tilt `value.Stringable` parameter: a string or a blob, else Tilt's message.
    pub(crate) fn req_stringable(&self, i: usize) -> BResult<String> {
        let v = self.vals[i].unwrap_or_else(Value::new_none);
        stringable(v)
            .ok_or_else(|| self.err(i, &format!("Value should be convertible to string, but is type {}", v.get_type())))
    }

    /// Tilt's `StringOrStringList`: a string, or a list/tuple of strings; `None` = empty.
    pub(crate) fn str_or_list(&self, i: usize) -> BResult<Vec<String>> {
        match self.vals[i] {
            None => Ok(Vec::new()),
            Some(v) if v.is_none() => Ok(Vec::new()),
            Some(v) => {
                if let Some(s) = v.unpack_str() {
                    return Ok(vec![s.to_string()]);
                }
                let Some(items) = sequence(v) else {
                    return Err(self.err(
                        i,
                        &format!(
                            "value should be a string or List or Tuple of strings, but is of type {}",
                            v.get_type()
                        ),
                    ));
                };
                self.strings_of(i, &items)
            }
        }
    }

    /// Tilt's `StringList`: a list/tuple of strings (a bare string is rejected).
    pub(crate) fn str_list(&self, i: usize) -> BResult<Vec<String>> {
        match self.vals[i] {
            None => Ok(Vec::new()),
            Some(v) if v.is_none() => Ok(Vec::new()),
            Some(v) => match sequence(v) {
                Some(items) => self.strings_of(i, &items),
                None => Err(self.type_err(i, "sequence")),
            },
        }
    }

    fn strings_of(&self, i: usize, items: &[Value<'v>]) -> BResult<Vec<String>> {
        items
            .iter()
            .map(|x| {
                x.unpack_str().map(str::to_string).ok_or_else(|| {
                    self.err(
                        i,
                        &format!("list should contain only strings, but element {x} was of type {}", x.get_type()),
                    )
                })
            })
            .collect()
    }

    /// Tilt's `StringStringMap`: a dict of string to string; `None` = empty. Keeps order.
    pub(crate) fn str_map(&self, i: usize) -> BResult<Vec<(String, String)>> {
        let Some(v) = self.vals[i].filter(|v| !v.is_none()) else {
            return Ok(Vec::new());
        };
        let Some(d) = DictRef::from_value(v) else {
            return Err(self.type_err(i, "dict"));
        };
        let mut out = Vec::new();
        for (k, val) in d.iter() {
            let (Some(k), Some(val)) = (k.unpack_str(), val.unpack_str()) else {
                return Err(
                    self.err(i, &format!("value should be a dict of string to string, but contains {k}: {val}"))
                );
            };
            out.push((k.to_string(), val.to_string()));
        }
        Ok(out)
    }
}

/// Elements of a list or tuple.
pub(crate) fn sequence(v: Value<'_>) -> Option<Vec<Value<'_>>> {
    if let Some(l) = ListRef::from_value(v) {
        return Some(l.content().to_vec());
    }
    TupleRef::from_value(v).map(|t| t.content().to_vec())
}

/// The text of a string or a Blob.
pub(crate) fn stringable(v: Value<'_>) -> Option<String> {
    if let Some(s) = v.unpack_str() {
        return Some(s.to_string());
    }
    v.downcast_ref::<Blob>().map(|b| b.0.clone())
}

/// A command: `str` → `sh -c`, list/tuple of str → argv, `None`/`""` → empty.
pub(crate) fn cmd_argv(a: &Args<'_>, i: usize) -> BResult<Vec<String>> {
    let Some(v) = a.get(i).filter(|v| !v.is_none()) else {
        return Ok(Vec::new());
    };
    if let Some(s) = stringable(v) {
        return Ok(if s.is_empty() { Vec::new() } else { vec!["sh".to_string(), "-c".to_string(), s] });
    }
    match sequence(v) {
        Some(items) => items
            .iter()
            .map(|x| {
                x.unpack_str().map(str::to_string).ok_or_else(|| {
                    a.err(
                        i,
                        &format!(
                            "a command must be a string or a list of strings, found a list containing {}",
                            x.get_type()
                        ),
                    )
                })
            })
            .collect(),
        None => Err(a.err(i, &format!("a command must be a string or a list of strings, got {}", v.get_type()))),
    }
}

/// go.starlark.net's `spell.Nearest`: the candidate within edit distance < half the name.
fn nearest<'a>(x: &str, candidates: &[&'a str]) -> Option<&'a str> {
    let fold = |s: &str| s.chars().filter(|c| *c != '_').flat_map(char::to_lowercase).collect::<Vec<char>>();
    let xf = fold(x);
    let mut best = None;
    let mut best_d = xf.len().div_ceil(2);
    for c in candidates {
        let d = levenshtein(&xf, &fold(c));
        if d < best_d {
            best_d = d;
            best = Some(*c);
        }
    }
    best
}

fn levenshtein(a: &[char], b: &[char]) -> usize {
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            cur[j + 1] = (prev[j] + usize::from(ca != cb)).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}
