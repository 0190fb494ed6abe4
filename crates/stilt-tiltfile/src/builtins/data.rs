//! Files and structured data: `read_file`, `watch_file`, `listdir`, `blob`, and the
//! `read_*` / `decode_*` / `encode_*` families for JSON and YAML.

use super::add;
use crate::args::{Args, sequence, stringable};
use crate::context::Ctx;
use crate::errors::BResult;
use crate::go_compat::io_error;
use crate::values::Blob;
use starlark::environment::GlobalsBuilder;
use starlark::eval::{Arguments, Evaluator};
use starlark::values::dict::{AllocDict, DictRef};
use starlark::values::float::StarlarkFloat;
use starlark::values::list::AllocList;
use starlark::values::{Heap, Value, ValueLike};
use std::io;
use std::path::{Path, PathBuf};

pub(crate) fn register(b: &mut GlobalsBuilder) {
    add(b, "read_file", read_file);
    add(b, "watch_file", watch_file);
    add(b, "listdir", listdir);
    add(b, "blob", blob);
    add(b, "read_json", read_json);
    add(b, "read_yaml", read_yaml);
    add(b, "read_yaml_stream", read_yaml_stream);
    add(b, "decode_json", decode_json);
    add(b, "decode_yaml", decode_yaml);
    add(b, "decode_yaml_stream", decode_yaml_stream);
    add(b, "encode_json", encode_json);
    add(b, "encode_yaml", encode_yaml);
    add(b, "encode_yaml_stream", encode_yaml_stream);
}

type R<'v> = BResult<Value<'v>>;

/// Reads a path argument (recording it as read). `Ok(None)` = missing file.
fn read_path(ctx: &Ctx, path: &Path) -> BResult<Option<String>> {
    ctx.record_read(path);
    match read_bounded(ctx, path) {
        Ok(bytes) => Ok(Some(String::from_utf8_lossy(&bytes).into_owned())),
        Err(ReadError::Io(e)) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(ReadError::Io(e)) => Err(io_error("open", path, &e).into()),
        Err(e) => Err(e.message(path).into()),
    }
}

/// Why [`read_bounded`] failed.
#[derive(Debug)]
pub(crate) enum ReadError {
    /// Opening or reading failed.
    Io(io::Error),
    /// The file is larger than [`crate::MAX_READ_BYTES`].
    TooLarge,
    /// The evaluation was cancelled while reading.
    Cancelled,
}

impl ReadError {
    /// The message for a non-I/O failure.
    pub(crate) fn message(&self, path: &Path) -> String {
        match self {
            ReadError::Io(e) => io_error("read", path, e),
            ReadError::TooLarge => format!(
                "{}: the file is larger than {} MiB, the most stilt reads into a Tiltfile",
                path.display(),
                crate::MAX_READ_BYTES >> 20
            ),
            ReadError::Cancelled => crate::context::CANCELLED.to_string(),
        }
    }
}

/// Reads a whole file, at most [`crate::MAX_READ_BYTES`], in 1 MiB chunks so a cancelled
/// evaluation stops reading (`/dev/zero`, a FIFO).
pub(crate) fn read_bounded(ctx: &Ctx, path: &Path) -> Result<Vec<u8>, ReadError> {
    use std::io::Read as _;
    const CHUNK: usize = 1 << 20;
    let mut f = std::fs::File::open(path).map_err(ReadError::Io)?;
    let mut out = Vec::new();
    let mut buf = vec![0u8; CHUNK];
    loop {
        if ctx.cancel.is_cancelled() {
            return Err(ReadError::Cancelled);
        }
        let n = match f.read(&mut buf) {
            Ok(0) => return Ok(out),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(ReadError::Io(e)),
        };
        if (out.len() + n) as u64 > crate::MAX_READ_BYTES {
            return Err(ReadError::TooLarge);
        }
        out.extend_from_slice(&buf[..n]);
    }
}

fn path_arg(a: &Args<'_>, i: usize, ctx: &Ctx) -> BResult<PathBuf> {
    let v = a.get(i).ok_or_else(|| a.type_err(i, "string"))?;
    let s = v.unpack_str().ok_or_else(|| a.type_err(i, "string"))?;
    Ok(ctx.abs_path(s))
}

fn missing(path: &Path) -> String {
    io_error("open", path, &io::Error::from(io::ErrorKind::NotFound))
}

fn read_file<'v>(name: &'static str, args: &Arguments<'v, '_>, eval: &mut Evaluator<'v, '_, '_>) -> R<'v> {
    let a = Args::unpack(name, &["paths", "default?"], args, eval.heap())?;
    let default = match a.get(1).filter(|v| !v.is_none()) {
        None => None,
        Some(v) => Some(
            v.unpack_str()
                .ok_or_else(|| format!("default must be NoneType or string. got {}", v.get_type()))?
                .to_string(),
        ),
    };
    let ctx = Ctx::get(eval);
    let path = path_arg(&a, 0, ctx)?;
    let text = match (read_path(ctx, &path)?, default) {
        (Some(t), _) => t,
        (None, Some(d)) => d,
        (None, None) => return Err(missing(&path).into()),
    };
    Ok(eval.heap().alloc(Blob(text)))
}

fn watch_file<'v>(name: &'static str, args: &Arguments<'v, '_>, eval: &mut Evaluator<'v, '_, '_>) -> R<'v> {
    let a = Args::unpack(name, &["paths"], args, eval.heap())?;
    let ctx = Ctx::get(eval);
    let path = path_arg(&a, 0, ctx)?;
    ctx.record_read(&path);
    Ok(Value::new_none())
}

fn listdir<'v>(name: &'static str, args: &Arguments<'v, '_>, eval: &mut Evaluator<'v, '_, '_>) -> R<'v> {
    let a = Args::unpack(name, &["dir", "recursive?"], args, eval.heap())?;
    let recursive = a.bool_or(1, false)?;
    let ctx = Ctx::get(eval);
    let dir = path_arg(&a, 0, ctx)?;
    ctx.record_read(&dir);
    let mut files = Vec::new();
    walk(&dir, recursive, &mut files).map_err(|e| io_error("lstat", &dir, &e))?;
    let heap = eval.heap();
    Ok(heap.alloc(AllocList(files.into_iter().map(|f| f.to_string_lossy().into_owned()))))
}

/// Files under `dir` in lexical order (Go's `filepath.Walk`); a missing dir yields nothing.
fn walk(dir: &Path, recursive: bool, out: &mut Vec<PathBuf>) -> io::Result<()> {
    let mut entries: Vec<_> = match std::fs::read_dir(dir) {
        Ok(rd) => rd.filter_map(Result::ok).collect(),
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e),
    };
    entries.sort_by_key(std::fs::DirEntry::file_name);
    for e in entries {
        let is_dir = e.file_type().is_ok_and(|t| t.is_dir());
        if is_dir {
            if recursive {
                walk(&e.path(), true, out)?;
            }
        } else {
            out.push(e.path());
        }
    }
    Ok(())
}

fn blob<'v>(name: &'static str, args: &Arguments<'v, '_>, eval: &mut Evaluator<'v, '_, '_>) -> R<'v> {
    let a = Args::unpack(name, &["input"], args, eval.heap())?;
    let text = a.req_str(0)?;
    Ok(eval.heap().alloc(Blob(text)))
}

fn read_json<'v>(name: &'static str, args: &Arguments<'v, '_>, eval: &mut Evaluator<'v, '_, '_>) -> R<'v> {
    let a = Args::unpack(name, &["paths", "default?"], args, eval.heap())?;
    let ctx = Ctx::get(eval);
    let path = path_arg(&a, 0, ctx)?;
    let Some(text) = read_path(ctx, &path)? else {
        return a.get(1).ok_or_else(|| missing(&path).into());
    };
    let v: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| format!("JSON parsing error: {e} in {}", path.display()))?;
    Ok(to_starlark(eval.heap(), &v))
}

fn yaml_docs(text: &str, source: &str) -> BResult<Vec<serde_json::Value>> {
    serde_saphyr::from_multiple::<serde_json::Value>(text).map_err(|e| {
        let from = if source.is_empty() { String::new() } else { format!(" from {source}") };
        format!("error parsing YAML{from}: {}", e.to_string().lines().next().unwrap_or_default()).into()
    })
}

fn single_doc(mut docs: Vec<serde_json::Value>, decode_stream_name: &str) -> BResult<serde_json::Value> {
    match docs.len() {
        0 => Ok(serde_json::Value::Null),
        1 => Ok(docs.remove(0)),
        _ => Err(format!(
            "expected a yaml document but found a yaml stream (documents separated by `---`). use {decode_stream_name} instead to decode a yaml stream"
        )
        .into()),
    }
}

fn read_yaml_any<'v>(
    name: &'static str,
    args: &Arguments<'v, '_>,
    eval: &mut Evaluator<'v, '_, '_>,
    stream: bool,
) -> R<'v> {
    let a = Args::unpack(name, &["paths", "default?"], args, eval.heap())?;
    let ctx = Ctx::get(eval);
    let path = path_arg(&a, 0, ctx)?;
    let Some(text) = read_path(ctx, &path)? else {
        return a.get(1).ok_or_else(|| missing(&path).into());
    };
    let raw = a.get(0).and_then(Value::unpack_str).unwrap_or_default().to_string();
    let docs = yaml_docs(&text, &raw)?;
    let heap = eval.heap();
    if stream {
        Ok(heap.alloc(AllocList(docs.iter().map(|d| to_starlark(heap, d)))))
    } else {
        Ok(to_starlark(heap, &single_doc(docs, "read_yaml_stream")?))
    }
}

fn read_yaml<'v>(name: &'static str, args: &Arguments<'v, '_>, eval: &mut Evaluator<'v, '_, '_>) -> R<'v> {
    read_yaml_any(name, args, eval, false)
}

fn read_yaml_stream<'v>(name: &'static str, args: &Arguments<'v, '_>, eval: &mut Evaluator<'v, '_, '_>) -> R<'v> {
    read_yaml_any(name, args, eval, true)
}

fn text_arg(a: &Args<'_>, name: &str) -> BResult<String> {
    let v = a.get(0).unwrap_or_else(Value::new_none);
    stringable(v).ok_or_else(|| format!("{name} arg must be a string or blob. got {}", v.get_type()).into())
}

fn decode_json<'v>(name: &'static str, args: &Arguments<'v, '_>, eval: &mut Evaluator<'v, '_, '_>) -> R<'v> {
    let a = Args::unpack(name, &["json"], args, eval.heap())?;
    let text = text_arg(&a, name)?;
    let v: serde_json::Value = serde_json::from_str(&text).map_err(|e| format!("JSON parsing error: {e} in {text}"))?;
    Ok(to_starlark(eval.heap(), &v))
}

fn decode_yaml<'v>(name: &'static str, args: &Arguments<'v, '_>, eval: &mut Evaluator<'v, '_, '_>) -> R<'v> {
    let a = Args::unpack(name, &["yaml"], args, eval.heap())?;
    let docs = yaml_docs(&text_arg(&a, name)?, "")?;
    Ok(to_starlark(eval.heap(), &single_doc(docs, "decode_yaml_stream")?))
}

fn decode_yaml_stream<'v>(name: &'static str, args: &Arguments<'v, '_>, eval: &mut Evaluator<'v, '_, '_>) -> R<'v> {
    let a = Args::unpack(name, &["yaml"], args, eval.heap())?;
    let docs = yaml_docs(&text_arg(&a, name)?, "")?;
    let heap = eval.heap();
    Ok(heap.alloc(AllocList(docs.iter().map(|d| to_starlark(heap, d)))))
}

fn encode_json<'v>(name: &'static str, args: &Arguments<'v, '_>, eval: &mut Evaluator<'v, '_, '_>) -> R<'v> {
    let a = Args::unpack(name, &["obj"], args, eval.heap())?;
    let v = from_starlark(a.get(0).unwrap_or_else(Value::new_none))
        .map_err(|e| format!("error converting object from starlark: {e}"))?;
    let text = serde_json::to_string_pretty(&v).map_err(|e| e.to_string())? + "\n";
    Ok(eval.heap().alloc(Blob(text)))
}

fn to_yaml(v: Value<'_>) -> BResult<String> {
    let j = from_starlark(v).map_err(|e| format!("error converting object from starlark: {e}"))?;
    Ok(crate::yaml_emit::to_yaml(&j))
}

fn encode_yaml<'v>(name: &'static str, args: &Arguments<'v, '_>, eval: &mut Evaluator<'v, '_, '_>) -> R<'v> {
    let a = Args::unpack(name, &["obj"], args, eval.heap())?;
    let text = to_yaml(a.get(0).unwrap_or_else(Value::new_none))?;
    Ok(eval.heap().alloc(Blob(text)))
}

fn encode_yaml_stream<'v>(name: &'static str, args: &Arguments<'v, '_>, eval: &mut Evaluator<'v, '_, '_>) -> R<'v> {
    let a = Args::unpack(name, &["objs"], args, eval.heap())?;
    let items = a.get(0).and_then(sequence).ok_or_else(|| a.type_err(0, "list"))?;
    let docs = items.into_iter().map(to_yaml).collect::<BResult<Vec<_>>>()?;
    Ok(eval.heap().alloc(Blob(docs.join("---\n"))))
}

/// JSON/YAML data → Starlark (maps → dicts with sorted keys, whole numbers → int).
pub(crate) fn to_starlark<'v>(heap: Heap<'v>, v: &serde_json::Value) -> Value<'v> {
    match v {
        serde_json::Value::Null => Value::new_none(),
        serde_json::Value::Bool(b) => Value::new_bool(*b),
        serde_json::Value::Number(n) => match (n.as_i64(), n.as_f64()) {
            (Some(i), _) => heap.alloc(i),
            (None, Some(f)) => heap.alloc(f),
            _ => heap.alloc(n.to_string()),
        },
        serde_json::Value::String(s) => heap.alloc(s.as_str()),
        serde_json::Value::Array(items) => heap.alloc(AllocList(items.iter().map(|x| to_starlark(heap, x)))),
        serde_json::Value::Object(map) => {
            heap.alloc(AllocDict(map.iter().map(|(k, x)| (k.as_str(), to_starlark(heap, x)))))
        }
    }
}

/// Starlark → JSON-like data, for `encode_*`.
pub(crate) fn from_starlark(v: Value<'_>) -> Result<serde_json::Value, String> {
    if v.is_none() {
        return Ok(serde_json::Value::Null);
    }
    if let Some(b) = v.unpack_bool() {
        return Ok(serde_json::Value::Bool(b));
    }
    if let Some(i) = v.unpack_i32() {
        return Ok(serde_json::Value::from(i));
    }
    if let Some(f) = v.downcast_ref::<StarlarkFloat>() {
        return Ok(serde_json::Number::from_f64(f.0).map_or(serde_json::Value::Null, serde_json::Value::Number));
    }
    if let Some(s) = stringable(v) {
        return Ok(serde_json::Value::String(s));
    }
    if let Some(items) = sequence(v) {
        return items.into_iter().map(from_starlark).collect::<Result<Vec<_>, _>>().map(serde_json::Value::Array);
    }
    if let Some(d) = DictRef::from_value(v) {
        let mut map = serde_json::Map::new();
        for (k, x) in d.iter() {
            let Some(k) = k.unpack_str() else {
                return Err(format!(
                    "only string keys are supported in maps. found key '{k}' of type {}",
                    k.get_type()
                ));
            };
            map.insert(k.to_string(), from_starlark(x)?);
        }
        return Ok(serde_json::Value::Object(map));
    }
    if v.get_type() == "int" {
        // Big ints: keep their digits.
        return v.to_str().parse::<serde_json::Number>().map(serde_json::Value::Number).map_err(|e| e.to_string());
    }
    Err(format!("unsupported type {}", v.get_type()))
}
