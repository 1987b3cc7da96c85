//! The operations on secrets a change is made of: encrypt a new value keeping the
//! data key, wrap a fresh data key, set one field, and the recipients for a new file.
//! Each returns the new file in memory; nothing is written here, so a command can
//! check everything before the transaction writes anything.

use crate::error::{Error, Result};
use crate::sops::cipher::Cipher;
use crate::sops::file::{encrypt, read_input, KeyPlan, SopsFile};
use crate::sops::formats::{json, Indent};
use crate::sops::keys::Recipient;
use crate::sops::path::{parse_field, Step};
use crate::sops::rules::{clean_path, find_config, with_default_suffix, Config};
use crate::sops::tree::{MapItem, Node, PlainDocs, SeqItem};
use std::path::{Path, PathBuf};
use zeroize::Zeroizing;

/// Encrypts `docs` as the new content of `file`, keeping its data key,
/// recipients and rules, and the ciphertext of every value `cipher` saw
/// unchanged (so a diff shows only what changed, as with `sops edit`).
pub fn reencrypt(file: &SopsFile, cipher: &mut Cipher, docs: &PlainDocs) -> Result<SopsFile> {
    encrypt(
        &docs.0,
        file.format,
        None,
        Some((cipher, &file.metadata)),
        Default::default(),
    )
}

/// Recipients, encryption rules and store indents for a new file at `path`, from the
/// `.sops.yaml` found from `config_start` up (as sops does), or `age` (a comma list;
/// `--age` or SOPS_AGE_RECIPIENTS) when given. `add` starts in the secrets dir,
/// `encrypt` in the current dir.
///
/// As in sops, a config with creation rules is consulted even when recipients are
/// given: its matching rule supplies what to encrypt, and no matching rule is an error.
/// The file's path is cleaned (`..` resolved) before `path_regex` sees it.
pub fn plan_from(
    config_start: &std::path::Path,
    path: &std::path::Path,
    age: Option<&str>,
) -> Result<(KeyPlan, crate::sops::metadata::EncryptionRules, Indent)> {
    let config = find_config(config_start)
        .map(|p| Config::load(&p))
        .transpose()?;
    let indent = config.as_ref().map(Config::indent).unwrap_or_default();
    // An empty --age / SOPS_AGE_RECIPIENTS is no recipient list, as in sops.
    let age = age.filter(|a| !a.trim().is_empty());
    // stdin (`-`) has no name to match: with recipients given, no rule applies (sops
    // needs --filename-override there; we have no such option).
    let stdin_with_age = path.as_os_str() == "-" && age.is_some();
    let rule = match &config {
        Some(c) if c.has_creation_rules && !stdin_with_age => Some(c.rule_for(&clean_path(path))?),
        _ => None,
    };
    let rules = with_default_suffix(rule.map(|r| r.rules.clone()).unwrap_or_default());
    if let Some(age) = age {
        let rs = age
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(Recipient::parse)
            .collect::<Result<Vec<_>>>()?;
        return Ok((KeyPlan::single(rs), rules, indent));
    }
    let Some(rule) = rule else {
        return Err(Error::new("no .sops.yaml with creation rules found, and no recipients given")
            .hint("pass --age age1… (or set SOPS_AGE_RECIPIENTS), or create a .sops.yaml with creation_rules (git secrets init --new writes one)"));
    };
    Ok((rule.plan.clone(), rules, indent))
}

/// sops `rotate`: a fresh data key, every value (`docs`, the plaintext of
/// `file`) encrypted again with it, wrapped for `plan`; the file's
/// encryption rules stay.
pub fn with_new_data_key(file: &SopsFile, docs: &PlainDocs, plan: &KeyPlan) -> Result<SopsFile> {
    encrypt(
        &docs.0,
        file.format,
        Some(plan),
        None,
        file.metadata.rules.clone(),
    )
}

/// The recipients `file` is encrypted for now, as a plan (sops `rotate`
/// keeps them; it does not read `.sops.yaml`).
pub fn plan_of(file: &SopsFile) -> Result<KeyPlan> {
    let md = &file.metadata;
    if let Some(g) = md.key_groups.iter().find(|g| !g.other.is_empty()) {
        return Err(Error::new(format!(
            "this file is also encrypted with {} keys, which git-secrets cannot wrap a new data key for",
            g.other_types().join(", ")
        ))
        .hint("rotate it with sops itself: sops rotate -i FILE"));
    }
    let groups = md
        .key_groups
        .iter()
        .map(|g| {
            g.age
                .iter()
                .map(|a| Recipient::parse(&a.recipient))
                .collect()
        })
        .collect::<Result<Vec<Vec<Recipient>>>>()?;
    Ok(KeyPlan {
        groups,
        shamir_threshold: md.shamir_threshold,
    })
}

/// When `.sops.yaml` (found from the secret's dir) has no creation rule for `path`,
/// what to tell the user: a new value keeps the recipients the file has (sops, too,
/// never consults creation rules for an existing file), which may no longer be the
/// ones meant. `None` when a rule matches or there is no config (or it does not
/// parse: that is refused before).
pub fn uncovered_by_rules(path: &Path) -> Option<String> {
    let cfg = Config::load(&find_config(path.parent()?)?).ok()?;
    if cfg.rule_for(path).is_ok() {
        return None;
    }
    Some(format!(
        "no creation rule in {} matches {}: it keeps the recipients it has",
        cfg.path.display(),
        cfg.relative_path(path)
    ))
}

/// Splits `PATH=REST`: PATH is `a.b` or `["a"]["b"]` (then the first `]=`
/// ends it, so keys may hold `=`). `None` without a `=`.
fn split_path(arg: &str) -> Option<(&str, &str)> {
    if arg.starts_with('[') {
        arg.find("]=").map(|i| (&arg[..=i], &arg[i + 2..]))
    } else {
        arg.split_once('=')
    }
}

/// One `--set PATH=VALUE`, parsed: the field and its new value. VALUE is JSON
/// when it parses, like `sops set` (numbers become floats there too), else a
/// plain string.
#[derive(Clone, PartialEq)]
pub struct SetValue {
    /// The field.
    pub steps: Vec<Step>,
    /// Its new value.
    pub value: Node,
}

/// The value may be a secret: never in a debug print.
impl std::fmt::Debug for SetValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SetValue")
            .field("steps", &self.steps)
            .field("value", &"<not shown>")
            .finish()
    }
}

impl std::str::FromStr for SetValue {
    type Err = Error;
    /// Errors name the path, never the argument: it may be a secret typed
    /// without its `=`.
    fn from_str(arg: &str) -> Result<SetValue> {
        let Some((path, value)) = split_path(arg) else {
            return Err(Error::usage("it has no '=' (not shown: it may hold a value)")
            .hint("write it as PATH=VALUE, e.g. --set data.port=5432 or --set '[\"data\"][\"port\"]=5432'")
            .hint("for a secret value use --set-from PATH=FILE or --set-from PATH=- (stdin): argv and shell history keep --set values"));
        };
        let steps = parse_field(path)?;
        let wrapped = format!("{{\"v\":{value}}}");
        let parsed = json::parse(wrapped.as_bytes())
            .ok()
            .and_then(|mut n| n.remove("v"));
        // A value that opens like JSON (an object, a list, a string) but does not parse
        // is a typo, not text: taken as a string it would replace a structure silently
        // (sops set refuses every value that is not JSON).
        if parsed.is_none() && value.trim_start().starts_with(['{', '[', '"']) {
            return Err(Error::usage(format!(
                "the value for {path} starts like JSON but is not valid JSON (not shown: it may be a secret)"
            ))
            .hint("fix the JSON, or to set the text as it is, write it as a JSON string: --set 'PATH=\"…\"' (or use --set-from PATH=FILE)"));
        }
        let value = parsed.unwrap_or_else(|| Node::str(value));
        Ok(SetValue { steps, value })
    }
}

/// One `--set-from PATH=FILE|-`, parsed: the field, and where its value is
/// read from (`-` for stdin). Reading is [`read_set_from`]'s.
#[derive(Debug, Clone, PartialEq)]
pub struct SetFrom {
    /// The field as written, for messages.
    pub path: String,
    /// The field.
    pub steps: Vec<Step>,
    /// A file, relative to the current dir, or `-`.
    pub source: String,
}

impl std::str::FromStr for SetFrom {
    type Err = Error;
    fn from_str(arg: &str) -> Result<SetFrom> {
        let Some((path, source)) = split_path(arg) else {
            return Err(Error::usage("it has no '='")
                .hint("write it as PATH=FILE or PATH=- (stdin), e.g. --set-from data.token=-"));
        };
        let steps = parse_field(path)?;
        if source.is_empty() {
            return Err(Error::usage(format!("{path}= names no file")).hint(format!(
                "write --set-from {path}=FILE, or {path}=- to read stdin"
            )));
        }
        Ok(SetFrom {
            path: path.to_string(),
            steps,
            source: source.to_string(),
        })
    }
}

/// Reads every `--set-from PATH=FILE|-`: the value is the file's text
/// (stdin for `-`, at most once; a relative FILE is taken from `cwd`) with
/// one trailing newline dropped, always a string. Errors name positions,
/// paths and files, never contents.
pub fn read_set_from(args: &[SetFrom], cwd: &Path) -> Result<Vec<SetValue>> {
    let mut out = Vec::new();
    let mut stdin_used = false;
    for SetFrom {
        path,
        steps,
        source,
    } in args
    {
        if source == "-" {
            if stdin_used {
                return Err(Error::usage("--set-from reads stdin (-) more than once")
                    .hint("give every other value as a file: --set-from PATH=FILE"));
            }
            stdin_used = true;
        }
        let file = if source == "-" {
            PathBuf::from(source)
        } else {
            cwd.join(source)
        };
        let bytes = Zeroizing::new(read_input(&file)?);
        let trimmed = bytes
            .strip_suffix(b"\r\n")
            .or_else(|| bytes.strip_suffix(b"\n"))
            .unwrap_or(&bytes);
        let text = std::str::from_utf8(trimmed).map_err(|_| {
            Error::usage(format!(
                "--set-from {path}: {} is not UTF-8 text",
                if source == "-" { "stdin" } else { source }
            ))
            .hint("a field holds text; store binary data whole with `git secrets rotate NAME --from FILE`")
        })?;
        out.push(SetValue {
            steps: steps.clone(),
            value: Node::str(text),
        });
    }
    Ok(out)
}

/// Sets the value at `steps`, creating missing map keys (as `sops set`
/// does); a list index may point at an item or just past the end (append).
pub fn set_path(node: &mut Node, steps: &[Step], value: Node) -> Result<()> {
    let Some((first, rest)) = steps.split_first() else {
        *node = value;
        return Ok(());
    };
    let index = |k: &str| k.parse::<usize>().ok();
    match (node, first) {
        (Node::Map(items), Step::Key(k)) => {
            let found = items.iter_mut().find_map(|it| match it {
                MapItem::Entry(key, v) if key == k => Some(v),
                _ => None,
            });
            match found {
                Some(v) => set_path(v, rest, value),
                None => {
                    let mut child = Node::Map(Vec::new());
                    set_path(&mut child, rest, value)?;
                    items.push(MapItem::Entry(k.clone(), child));
                    Ok(())
                }
            }
        }
        (Node::Seq(items), Step::Index(i)) => set_in_seq(items, *i, rest, value),
        (Node::Seq(items), Step::Key(k)) if index(k).is_some() => {
            set_in_seq(items, index(k).unwrap_or(usize::MAX), rest, value)
        }
        (other, step) => Err(Error::usage(format!(
            "cannot set {}: the value there is a {}, not a {}",
            crate::sops::path::display(steps),
            kind(other),
            match step {
                Step::Key(_) => "map",
                Step::Index(_) => "list",
            }
        ))
        .hint("check the path against the decrypted file (git secrets show NAME)")),
    }
}

fn set_in_seq(items: &mut Vec<SeqItem>, i: usize, rest: &[Step], value: Node) -> Result<()> {
    if i == items.len() {
        let mut child = Node::Map(Vec::new());
        set_path(&mut child, rest, value)?;
        items.push(SeqItem::Value(child));
        return Ok(());
    }
    match items.get_mut(i) {
        Some(SeqItem::Value(v)) => set_path(v, rest, value),
        _ => Err(Error::usage(format!(
            "list index {i} is out of range (the list has {} items)",
            items.len()
        ))
        .hint("use an existing index, or the length to append")),
    }
}

fn kind(n: &Node) -> &'static str {
    match n {
        Node::Map(_) => "map",
        Node::Seq(_) => "list",
        Node::Scalar(_) => "scalar",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sops::tree::Scalar;

    fn doc() -> Node {
        json::parse(br#"{"a":{"b":"x"},"l":[1,2]}"#).unwrap()
    }

    #[test]
    fn set_values_are_json_when_they_parse_else_strings() {
        let cases = [
            ("a.b=5", Node::Scalar(Scalar::Float(5.0))),
            ("a.b=true", Node::Scalar(Scalar::Bool(true))),
            ("a.b=\"5\"", Node::str("5")),
            ("a.b=hello world", Node::str("hello world")),
            ("a.b=", Node::str("")),
            ("a.b=x=y", Node::str("x=y")),
        ];
        let parse_set = |s: &str| s.parse::<SetValue>().map(|s| (s.steps, s.value));
        for (arg, want) in cases {
            let (steps, v) = parse_set(arg).unwrap();
            assert_eq!(steps, vec![Step::Key("a".into()), Step::Key("b".into())]);
            assert_eq!(v, want, "{arg}");
        }
        let (steps, v) = parse_set(r#"["a=b"]["c"]={"k":null}"#).unwrap();
        assert_eq!(steps, vec![Step::Key("a=b".into()), Step::Key("c".into())]);
        assert_eq!(v.get("k"), Some(&Node::Scalar(Scalar::Null)));
        let e = parse_set("secretvalue").unwrap_err();
        e.assert_says("has no '='");
        assert!(!e.to_string().contains("secretvalue"));
        assert!(parse_set("a..b=1").is_err());
        let set: SetValue = "a=hunter2x".parse().unwrap();
        assert!(!format!("{set:?}").contains("hunter2x"));
        // opens like JSON, does not parse: a typo, refused (never shown)
        for typo in [r#"a={"k": 1"#, "a=[1,", r#"a="hunter2x"#, " a= {"] {
            let e = parse_set(typo).unwrap_err();
            e.assert_says("starts like JSON but is not valid JSON");
            assert!(!e.to_string().contains("hunter2x") && !e.to_string().contains("k\""));
        }
    }

    #[test]
    fn set_path_replaces_creates_and_appends() {
        let mut d = doc();
        set_path(&mut d, &parse_field("a.b").unwrap(), Node::str("y")).unwrap();
        set_path(&mut d, &parse_field("a.new.deep").unwrap(), Node::str("z")).unwrap();
        set_path(&mut d, &parse_field("l.1").unwrap(), Node::str("two")).unwrap();
        set_path(&mut d, &parse_field("l.2").unwrap(), Node::str("three")).unwrap();
        assert_eq!(
            String::from_utf8(json::emit(&d).unwrap()).unwrap(),
            "{\n\t\"a\": {\n\t\t\"b\": \"y\",\n\t\t\"new\": {\n\t\t\t\"deep\": \"z\"\n\t\t}\n\t},\n\t\"l\": [\n\t\t1,\n\t\t\"two\",\n\t\t\"three\"\n\t]\n}\n"
        );
        assert!(set_path(&mut d, &parse_field("l.9").unwrap(), Node::str("x")).is_err());
        let err = set_path(&mut d, &parse_field("a.b.c").unwrap(), Node::str("x")).unwrap_err();
        err.assert_says("scalar");
    }
}
