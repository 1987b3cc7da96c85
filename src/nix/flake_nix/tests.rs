//! The flake.nix reader and edits, on real-world shapes.

use super::edit::quote;
use super::*;

fn inputs(src: &str) -> FlakeInputs {
    FlakeInputs::parse(src).unwrap()
}

fn url(src: &str, name: &str) -> String {
    inputs(src)
        .get(name)
        .and_then(|i| i.url.clone())
        .unwrap()
        .value
}

#[test]
fn finds_inputs_in_every_syntax() {
    let src = r#"{
  description = "x";
  inputs.flat.url = "github:a/flat";
  inputs = {
    nested.url = "github:a/nested"; # trailing comment
    sub = { url = "git+file:./secrets"; inputs.nixpkgs.follows = "nixpkgs"; };
  };
  inputs.block = {
    url = "path:./other";
    flake = false;
  };
  inputs."quoted-name".url = "github:a/q";
  inputs.alias.follows = "flat";
  inputs.uri.url = github:a/uri;
  outputs = { self, ... }: { };
}"#;
    let all = inputs(src);
    let names: Vec<&str> = all.inputs.iter().map(|i| i.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "flat",
            "nested",
            "sub",
            "block",
            "quoted-name",
            "alias",
            "uri"
        ]
    );
    assert_eq!(url(src, "flat"), "github:a/flat");
    assert_eq!(url(src, "nested"), "github:a/nested");
    assert_eq!(url(src, "sub"), "git+file:./secrets");
    assert_eq!(url(src, "block"), "path:./other");
    assert_eq!(url(src, "quoted-name"), "github:a/q");
    assert_eq!(url(src, "uri"), "github:a/uri");
    let sub = all.get("sub").unwrap();
    assert_eq!(
        sub.input_follows.get("nixpkgs").map(String::as_str),
        Some("nixpkgs")
    );
    assert_eq!(sub.url.as_ref().unwrap().line, 6);
    assert_eq!(all.get("block").unwrap().flake, Some(false));
    assert_eq!(all.get("alias").unwrap().follows.as_deref(), Some("flat"));
    assert_eq!(all.fetched().count(), 6);
}

#[test]
fn the_seed_form_with_follows_lines() {
    let src = r#"{
  inputs = {
    nixpkgs.url = "github:NixOS/nixpkgs/nixos-unstable";
    kubenix-secrets.url = "git+file:./secrets";
    kubenix-secrets.inputs.nixpkgs.follows = "nixpkgs";
    kubenix-secrets.inputs.flake-parts.follows = "flake-parts";
    kubenix-secrets.inputs.devshell.follows = "devshell";
  };
  outputs = inputs: { };
}"#;
    let s = find_secrets_input(src, "secrets").unwrap().unwrap();
    assert_eq!(s.name, "kubenix-secrets");
    assert_eq!(
        s.url_kind(),
        Some(UrlKind::GitFile {
            path: "./secrets".into()
        })
    );
    assert_eq!(s.input_follows.len(), 3);

    let secrets_flake = inputs(
        r#"{ inputs.nixpkgs.url = "github:NixOS/nixpkgs"; inputs.flake-parts.url = "github:hercules-ci/flake-parts";
                 inputs.devshell.url = "github:numtide/devshell"; inputs.sops-nix.url = "github:Mic92/sops-nix";
                 inputs.sops-nix.inputs.nixpkgs.follows = "nixpkgs"; outputs = _: { }; }"#,
    );
    assert_eq!(unfollowed_inputs(&s, &secrets_flake), ["sops-nix"]);
    assert!(unfollowed_inputs(&s, &inputs("{ outputs = _: { }; }")).is_empty());
}

#[test]
fn classifies_urls() {
    let git_file = |p: &str| UrlKind::GitFile { path: p.into() };
    let cases = [
        ("git+file:./secrets", git_file("./secrets")),
        ("git+file:../elsewhere?ref=main", git_file("../elsewhere")),
        ("git+file:///abs/secrets", git_file("/abs/secrets")),
        (
            "path:./secrets",
            UrlKind::Path {
                path: "./secrets".into(),
            },
        ),
        (
            "./secrets",
            UrlKind::Bare {
                path: "./secrets".into(),
            },
        ),
        ("github:a/b", UrlKind::Other),
        ("git+ssh://host/x", UrlKind::Other),
    ];
    for (url, kind) in cases {
        assert_eq!(UrlKind::of(url), kind, "{url}");
    }
}

#[test]
fn find_secrets_input_matches_the_dir_in_any_local_form_and_prefers_git_file() {
    let path_form = r#"{ inputs.s.url = "path:./secrets"; outputs = _: { }; }"#;
    let s = find_secrets_input(path_form, "secrets").unwrap().unwrap();
    assert_eq!(
        s.url_kind(),
        Some(UrlKind::Path {
            path: "./secrets".into()
        })
    );

    let bare = r#"{ inputs.s.url = "./secrets/"; outputs = _: { }; }"#;
    assert_eq!(
        find_secrets_input(bare, "./secrets").unwrap().unwrap().name,
        "s"
    );

    let both = r#"{ inputs.a.url = "path:./secrets"; inputs.b.url = "git+file:secrets"; outputs = _: { }; }"#;
    assert_eq!(
        find_secrets_input(both, "secrets").unwrap().unwrap().name,
        "b"
    );

    let outside = r#"{ inputs.s.url = "git+file:../kubenix-secrets"; outputs = _: { }; }"#;
    assert!(find_secrets_input(outside, "secrets").unwrap().is_none());
    assert_eq!(
        find_secrets_input(outside, "../kubenix-secrets")
            .unwrap()
            .unwrap()
            .name,
        "s"
    );
    assert!(find_secrets_input("{ }", "secrets").unwrap().is_none());
    assert!(find_secrets_input("x: x", "secrets").unwrap().is_none());
}

#[test]
fn rewrite_url_changes_only_that_string() {
    let src = r#"{
  # the private repo
  inputs.secrets.url = "path:./secrets"; # keep me
  inputs.other.url = "path:./secrets-example";
  outputs = { self, secrets, other }: { };
}
"#;
    let input = find_secrets_input(src, "secrets").unwrap().unwrap();
    let out = rewrite_url(src, &input, "git+file:./secrets").unwrap();
    assert_eq!(
        out,
        src.replace(r#""path:./secrets";"#, r#""git+file:./secrets";"#)
    );
    assert!(
        rewrite_url("{ }", &input, "x").is_err(),
        "a different source is refused"
    );
}

#[test]
fn insert_into_an_inputs_attrset_keeps_indentation_and_comments() {
    let src = r#"{
  description = "cluster";
  inputs = {
    # pinned
    nixpkgs.url = "github:NixOS/nixpkgs/nixos-unstable"; # unstable
    flake-parts.url = "github:hercules-ci/flake-parts";
  };

  outputs = inputs@{ flake-parts, ... }: { };
}
"#;
    let out = insert_input(src, "kubenix-secrets", "git+file:./secrets").unwrap();
    let want = src.replace(
        "flake-parts\";\n",
        "flake-parts\";\n    kubenix-secrets.url = \"git+file:./secrets\";\n",
    );
    assert_eq!(out, want);
    assert_eq!(url(&out, "kubenix-secrets"), "git+file:./secrets");
}

/// Where the new input goes, in the file's own style: after the last entry of an
/// `inputs` set (past its comment, with its indentation), after flat `inputs.x`
/// lines, inside an empty or a one-line set, or before `outputs`; and the `outputs`
/// pattern gets its name.
#[test]
fn insert_places_the_input_in_the_files_style() {
    for (case, src, want) in [
        (
            "a last entry with a trailing comment, tabs",
            "{\n\tinputs = {\n\t\tnixpkgs.url = \"github:x/y\"; # c\n\t};\n\toutputs = { self, nixpkgs }: { };\n}\n",
            "{\n\tinputs = {\n\t\tnixpkgs.url = \"github:x/y\"; # c\n\t\ts.url = \"git+file:./secrets\";\n\t};\n\toutputs = { self, nixpkgs, s }: { };\n}\n",
        ),
        (
            "flat inputs",
            "{\n  inputs.a.url = \"github:x/a\";\n  inputs.b = { url = \"github:x/b\"; };\n  outputs = _: { };\n}\n",
            "{\n  inputs.a.url = \"github:x/a\";\n  inputs.b = { url = \"github:x/b\"; };\n  inputs.s.url = \"git+file:./secrets\";\n  outputs = _: { };\n}\n",
        ),
        (
            "a one-line set",
            "{ inputs = { a.url = \"github:x/a\"; }; outputs = { self, a }: { }; }",
            "{ inputs = { a.url = \"github:x/a\"; s.url = \"git+file:./secrets\"; }; outputs = { self, a, s }: { }; }",
        ),
        (
            "an empty set",
            "{\n  inputs = { };\n  outputs = { self }: { };\n}\n",
            "{\n  inputs = {\n    s.url = \"git+file:./secrets\";\n  };\n  outputs = { self, s }: { };\n}\n",
        ),
        (
            "no inputs: before outputs",
            "{\n  description = \"d\";\n  outputs = { self }: { };\n}\n",
            "{\n  description = \"d\";\n  inputs.s.url = \"git+file:./secrets\";\n  outputs = { self, s }: { };\n}\n",
        ),
    ] {
        assert_eq!(insert_input(src, "s", "git+file:./secrets").unwrap(), want, "{case}");
    }
}

#[test]
fn insert_extends_a_multi_line_outputs_pattern_in_its_style() {
    let trailing =
        "{\n  inputs.a.url = \"github:x/a\";\n  outputs = {\n    self,\n    a,\n  }: { };\n}\n";
    let out = insert_input(trailing, "s", "git+file:./secrets").unwrap();
    assert!(out.contains("    self,\n    a,\n    s,\n  }:"), "{out}");

    let leading = "{\n  inputs.a.url = \"github:x/a\";\n  outputs = { self\n            , a\n            }: { };\n}\n";
    let out = insert_input(leading, "s", "git+file:./secrets").unwrap();
    assert!(out.contains(", a,\n            s\n"), "{out}");
    assert!(FlakeInputs::parse(&out).is_ok());
}

#[test]
fn insert_refuses_shapes_it_cannot_edit_and_says_what_to_add() {
    let line = "inputs.s.url = \"git+file:./secrets\";";
    for src in [
        "let x = 1; in { outputs = _: { }; }",
        "{ inputs = import ./inputs.nix; outputs = _: { }; }",
        "{ inputs = { # nothing yet\n  }; outputs = _: { }; }",
        "{ description = \"no outputs\"; }",
    ] {
        let err = insert_input(src, "s", "git+file:./secrets").unwrap_err();
        assert!(
            err.hints.iter().any(|h| h.contains(line)),
            "{src}: {:?}",
            err.hints
        );
    }
    let dup = "{ inputs.s.url = \"path:./secrets\"; outputs = _: { }; }";
    insert_input(dup, "s", "git+file:./secrets")
        .unwrap_err()
        .assert_says("already");
    assert!(insert_input(dup, "bad name", "x").is_err());
    assert!(insert_input(dup, "rec", "x").is_err());
}

#[test]
fn parse_errors_name_the_line_and_column() {
    let src = "{\n  inputs.s.url = \"git+file:./secrets\"\n  outputs = _: { };\n}\n";
    let err = FlakeInputs::parse(src).unwrap_err();
    // `"…" outputs` reads as a function call, so the `=` is what is wrong.
    assert_eq!(
        err.message,
        "flake.nix does not parse: line 3, column 11: unexpected `=`, expected `;`"
    );
    let err = find_secrets_input("{ inputs = {", "secrets").unwrap_err();
    err.assert_says("end of file");
    insert_input("{ a = ; }", "s", "x")
        .unwrap_err()
        .assert_says("line 1, column");
}

/// Found by probing the `flake_nix` fuzz target's parser with deep
/// input: 20 000 `[` overflowed the stack inside rnix.
#[test]
fn deeply_nested_lists_are_an_error_not_a_stack_overflow() {
    let deep = format!("{{ x = {}; }}", "[".repeat(20_000));
    let err = FlakeInputs::parse(&deep).unwrap_err();
    err.assert_says("line 1, column 263: lists nested more than 256 deep");
    // Brackets in strings and comments are not lists; real lists up
    // to the limit still parse.
    let fine = format!(
        "{{ s = \"{0}\"; # {0}\n l = {1}{2}; }}",
        "[".repeat(1_000),
        "[".repeat(200),
        "]".repeat(200)
    );
    assert!(FlakeInputs::parse(&fine).is_ok());
}

#[test]
fn quoting_escapes_what_nix_would_interpret() {
    assert_eq!(quote(r#"a"b\c${d}$e"#), r#""a\"b\\c\${d}$e""#);
    let src = "{ inputs.s.url = \"x\"; outputs = _: { }; }";
    let input = inputs(src).get("s").cloned().unwrap();
    let out = rewrite_url(src, &input, "we\"ird${x}").unwrap();
    assert_eq!(url(&out, "s"), "we\"ird${x}");
}

#[test]
fn line_col_counts_characters() {
    assert_eq!(line_col("ab\ncé d", 7), (2, 4));
    assert_eq!(line_col("", 0), (1, 1));
}
