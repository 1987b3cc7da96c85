//! The man page, generated from the CLI definition (clap_mangen) plus the
//! sections a CLI definition cannot hold (exit status, environment, files,
//! examples). The committed `man/man1/git-secrets.1` (linked as
//! `man/git-secrets.1`, so `MANPATH=<repo>/man` works) is checked against it by
//! a test.

use crate::cli::Cli;
use clap::{ArgAction, CommandFactory};

/// A marker every version of our page carries in its NAME line, and
/// awslabs/git-secrets' page does not: doctor tells the two apart by it.
pub const MARKER: &str = "sops/age secrets repo nested in a public Nix flake";

/// Renders `git-secrets(1)`: synopsis, options, one section per visible
/// subcommand, then exit status, environment, files, examples.
pub fn render() -> Vec<u8> {
    // The plain crate version: a build hash would make the page drift every commit.
    let cmd = Cli::command()
        .name("git-secrets")
        .bin_name("git secrets")
        .version(env!("CARGO_PKG_VERSION"));
    let mut out = Vec::new();
    let man = clap_mangen::Man::new(cmd.clone())
        .title("GIT-SECRETS")
        .section("1")
        .manual("Git Manual");
    // ok: writing to a Vec cannot fail (here and below)
    let _ = man.render_title(&mut out);
    let _ = man.render_name_section(&mut out);
    out.extend_from_slice(synopsis_section(&cmd, "git secrets").as_bytes());
    let _ = man.render_description_section(&mut out);
    let _ = man.render_options_section(&mut out);
    out.extend_from_slice(commands_section(&cmd).as_bytes());
    for sub in visible_subcommands(&cmd) {
        out.extend_from_slice(
            format!(".SH \"GIT SECRETS {}\"\n", sub.get_name().to_uppercase()).as_bytes(),
        );
        let bin = format!("git secrets {}", sub.get_name());
        let sub_man = clap_mangen::Man::new(sub.clone().bin_name(&bin));
        let _ = sub_man.render_description_section(&mut out);
        out.extend_from_slice(synopsis_section(sub, &bin).as_bytes());
        let _ = sub_man.render_options_section(&mut out);
    }
    out.extend_from_slice(EXTRA_SECTIONS.as_bytes());
    let _ = man.render_version_section(&mut out);
    out
}

fn visible_subcommands(cmd: &clap::Command) -> impl Iterator<Item = &clap::Command> {
    cmd.get_subcommands()
        .filter(|s| !s.is_hide_set() && s.get_name() != "help")
}

/// Escapes text for roff: backslashes and hyphens (so `-C` is not a typographic
/// hyphen and copies as an ASCII minus).
fn esc(s: &str) -> String {
    s.replace('\\', "\\e").replace('-', "\\-")
}

fn bold(s: &str) -> String {
    format!("\\fB{}\\fR", esc(s))
}

fn italic(s: &str) -> String {
    format!("\\fI{}\\fR", esc(s))
}

/// One synopsis entry per argument, with its value name: `[-C PATH]`,
/// `[--set PATH=VALUE]...`, `<NAME>`, `-- CMD...` (clap_mangen renders
/// options without their values, and a short-only option as `[-C ]`).
fn synopsis_section(cmd: &clap::Command, bin: &str) -> String {
    let mut words = vec![bold(bin)];
    for arg in cmd.get_arguments().filter(|a| !a.is_hide_set()) {
        let (open, close) = if arg.is_required_set() {
            ("", "")
        } else {
            ("[", "]")
        };
        let repeat = if matches!(arg.get_action(), ArgAction::Append | ArgAction::Count) {
            "..."
        } else {
            ""
        };
        let names: Vec<String> = arg
            .get_value_names()
            .map(|v| v.iter().map(|n| italic(n)).collect())
            .unwrap_or_else(|| vec![italic(&arg.get_id().as_str().to_uppercase())]);
        let takes_value = arg.get_num_args().is_some_and(|n| n.takes_values())
            || matches!(arg.get_action(), ArgAction::Set | ArgAction::Append);
        let word = match (arg.get_short(), arg.get_long()) {
            (None, None) => {
                // A positional: `<NAME>`, `[NAME]`, or `-- CMD...` after `--`.
                let many = matches!(arg.get_action(), ArgAction::Append);
                let dashes = if arg.is_last_set() { "\\-\\- " } else { "" };
                let (o, c) = if arg.is_required_set() {
                    ("<", ">")
                } else {
                    ("[", "]")
                };
                let dots = if many { "..." } else { "" };
                words.push(format!("{dashes}{o}{}{c}{dots}", names.join(" ")));
                continue;
            }
            (Some(s), Some(l)) => format!("{}|{}", bold(&format!("-{s}")), bold(&format!("--{l}"))),
            (Some(s), None) => bold(&format!("-{s}")),
            (None, Some(l)) => bold(&format!("--{l}")),
        };
        let value =
            if takes_value && !matches!(arg.get_action(), ArgAction::SetTrue | ArgAction::Count) {
                format!(" {}", names.join(" "))
            } else {
                String::new()
            };
        words.push(format!("{open}{word}{value}{close}{repeat}"));
    }
    let subs: Vec<&str> = visible_subcommands(cmd).map(|s| s.get_name()).collect();
    if !subs.is_empty() {
        if bin == "git secrets" {
            words.push(format!("{} [{}]", italic("COMMAND"), italic("ARGS")));
        } else {
            words.push(bold(&subs.join("|")));
        }
    }
    format!(".SH SYNOPSIS\n{}\n", words.join(" "))
}

/// The commands, each with its one-line summary; the details follow in one
/// section per command (there are no separate git-secrets-<cmd>(1) pages).
fn commands_section(cmd: &clap::Command) -> String {
    let mut s = String::from(".SH COMMANDS\n");
    for sub in visible_subcommands(cmd) {
        let about = sub.get_about().map(|a| a.to_string()).unwrap_or_default();
        s.push_str(&format!(
            ".TP\n{}\n{}\n",
            bold(&format!("git secrets {}", sub.get_name())),
            esc(about.trim_end_matches('.'))
        ));
    }
    s
}

/// What the CLI definition cannot say. Written as roff (hyphens escaped by hand).
const EXTRA_SECTIONS: &str = r#".SH "EXIT STATUS"
.TP
.B 0
Success.
.TP
.B 1
Failure: nothing was changed, or (for \fBdoctor\fR) a check failed.
.TP
.B 2
Usage error: an unknown option, a bad secret name, a missing argument.
.TP
.B 130
Interrupted (SIGINT); temporary plaintext is removed on the way out.
.PP
\fBexec\fR exits with the command's own status (128+\fIN\fR when signal \fIN\fR killed it),
126 when the command cannot be run and 127 when it is not found; 1 or 2 as above when the
secret cannot be decrypted or the arguments are wrong, and the command never starts.
.PP
\fBdecrypt\fR and \fBencrypt\fR, the sops\-compatible commands for scripts, exit with the
codes of sops 3.x (getsops/sops \fIcmd/sops/codes/codes.go\fR) instead, so a script written
for \fBsops\fR reads them the same way:
.PD 0
.TP
.B 1
generic error
.TP
.B 2
could not read the input file
.TP
.B 3
could not write the output file
.TP
.B 4
error dumping the tree (output format)
.TP
.B 5
error reading the config (.sops.yaml)
.TP
.B 7
invalid \-\-set format
.TP
.B 8
conflicting parameters
.TP
.B 21
error encrypting the MAC
.TP
.B 23
error encrypting the tree
.TP
.B 24
error decrypting the MAC
.TP
.B 25
error decrypting the tree
.TP
.B 49
cannot change keys of a file that does not exist
.TP
.B 51
MAC mismatch (the file was changed without sops)
.TP
.B 52
MAC not found
.TP
.B 61
config file not found
.TP
.B 85
keyboard interrupt
.TP
.B 91
invalid tree path (\-\-extract)
.TP
.B 92
the file has no document
.TP
.B 100
no file given, or it does not exist
.TP
.B 111
no encryption key found (no recipient)
.TP
.B 112
duplicate decryption key type
.TP
.B 128
could not retrieve the data key (no identity decrypts it)
.TP
.B 200
the file has not been modified
.TP
.B 201
no editor found
.TP
.B 202
failed to compare versions
.TP
.B 203
the file is already encrypted
.PD
.SH ENVIRONMENT
Identities are looked up where sops 3.11 looks, in this order:
.TP
.B SOPS_AGE_SSH_PRIVATE_KEY_FILE
An SSH private key (ed25519 or RSA) to decrypt with; then \fI~/.ssh/id_ed25519\fR and
\fI~/.ssh/id_rsa\fR.
.TP
.B SOPS_AGE_KEY
Age identities, as the text of a keys.txt.
.TP
.B SOPS_AGE_KEY_FILE
A file of age identities.
.TP
.B SOPS_AGE_KEY_CMD
A command (run through the shell) that prints age identities.
.TP
.B SOPS_AGE_RECIPIENTS
Comma\-separated age recipients for \fBencrypt\fR when \fB\-\-age\fR is not given, as for
\fBsops encrypt\fR.
.TP
.BR SOPS_EDITOR ", " VISUAL ", " EDITOR
The editor \fBedit\fR and \fBrotate \-\-edit\fR run, the first one set (else \fBvi\fR); run
through the shell, so \fIcode \-\-wait\fR works.
.TP
.B NO_COLOR
When set and not empty, no colors (as \fB\-\-color never\fR, unless \fB\-\-color always\fR).
.TP
.B XDG_CONFIG_HOME
Where the default age key file lives: \fI$XDG_CONFIG_HOME/sops/age/keys.txt\fR.
.TP
.B XDG_RUNTIME_DIR
The tmpfs directory for plaintext files (\fBedit\fR, \fBexec \-\-tmpfs\fR); else
\fI/dev/shm\fR. It must be tmpfs: plaintext never goes to a disk.
.TP
.B HOME
For \fI~/.ssh\fR and, without \fBXDG_CONFIG_HOME\fR, \fI~/.config\fR.
.TP
.B PATH
Where \fBgit\fR, \fBnix\fR, the editor and \fBexec\fR's command are found, and where options
of awslabs/git\-secrets are forwarded to the next \fBgit\-secrets\fR.
.TP
.B GIT_INDEX_FILE
Set by git for hooks: the pre\-commit guard checks that index.
.TP
.B GIT_SECRETS_NIX
The \fBnix\fR binary to run (default: the first \fBnix\fR on PATH).
.TP
.B GIT_SECRETS_LOCK_TIMEOUT
Seconds a command waits for another one holding the secrets repo (default 60).
.TP
.B GIT_SECRETS_FETCH_TIMEOUT
Seconds \fBdoctor \-\-fetch\fR, \fBpull\fR and \fBinit\fR URL may take to reach the secrets
repo's remote before git and ssh are stopped (default 30).
.TP
.B GIT_SECRETS_SHOW_VALUES
Set to 1 by \fBlog \-\-show\-values\fR for the diff textconv it runs: values in clear
instead of masked (also \fBgit config secrets.showValues true\fR in the secrets repo).
.TP
.B GIT_SECRETS_SHOW_VALUES
Set to 1, the \fBdiff.sops\fR textconv (\fBgit secrets log\fR, \fBgit \-C secrets log \-p\fR)
shows decrypted values instead of masking them; \fBgit secrets log \-\-show\-values\fR sets
it (so does \fBgit config secrets.showValues true\fR).
.TP
.B GIT_SECRETS_FAILPOINT
Fault injection for the crash tests; only debug builds read it.
.TP
.B GIT_SECRETS_DESCRIBE
Read when building, not when running: the revision \fB\-\-version\fR shows (default:
\fBgit describe\fR of the source; the Nix build sets it).
.SH FILES
.TP
.I secrets/
The private secrets repository (its own .git), ignored by the parent; \fB\-\-dir\fR or
\fBgit config secrets.dir\fR name another one. \fBgit config secrets.input\fR names the
flake input, \fBgit config secrets.example\fR the example dir.
.TP
.I secrets/secrets/NAME.yaml
A secret (sops\-encrypted; also .json, .env, .ini or binary).
.TP
.I secrets/.sops.yaml
The creation rules: which age recipients each secret is encrypted to.
.TP
.I secrets/flake.nix
Exposes \fBlib.secrets.\fINAME\fR (the encrypted files) to the parent flake.
.TP
.I secrets/.git/git\-secrets.lock
Held (flock) while a command changes the secrets repo.
.TP
.I .git/git\-secrets\-flake.lock.prev
The previous \fIflake.lock\fR, kept while Nix rewrites it and removed after; a command
killed meanwhile leaves it, and the next one puts it back if \fIflake.lock\fR is
half\-written. In the parent's own git dir (\fBgit rev\-parse \-\-git\-dir\fR: per
worktree, never in the work tree).
.TP
.IR flake.nix ", " flake.lock
The parent flake: its \fBgit+file:\fR input, locked to the secrets repo's HEAD.
.TP
.I secrets\-example/
The public example: same names and structure, placeholder values, its own throwaway
\fIkey.txt\fR.
.TP
.IR .git/hooks/pre\-commit ", " .git/hooks/pre\-push
The guards \fBhooks install\fR writes in the parent.
.TP
.I $XDG_CONFIG_HOME/sops/age/keys.txt
Your age identities (\fI~/.config/sops/age/keys.txt\fR; on macOS without XDG_CONFIG_HOME
\fI~/Library/Application Support/sops/age/keys.txt\fR); \fBinit \-\-new\fR creates it.
.SH EXAMPLES
Wire a private repo into the flake in the current directory, then check everything:
.PP
.RS 4
.nf
git secrets init git@example.org:me/kubenix\-secrets.git
git secrets doctor
.fi
.RE
.PP
Add a secret, give it a new value, re\-encrypt for a new teammate (each commits in the
secrets repo and relocks the flake):
.PP
.RS 4
.nf
git secrets add hcloud\-token \-\-from token.yaml
git secrets rotate kubeconfig \-\-from ~/new\-kubeconfig
printf \*(Aqhcloud_token: %s\en\*(Aq "$TOKEN" | git secrets rotate hcloud\-token \-\-from \-
git secrets rekey \-\-add\-recipient age1...
.fi
.RE
.PP
Run a command with a secret as a file that never touches a disk, or a field as a variable:
.PP
.RS 4
.nf
git secrets exec kubeconfig \-\-file KUBECONFIG \-\- kubectl get nodes
git secrets exec hcloud\-token \-\-field hcloud_token \-\-env HCLOUD_TOKEN \-\- hcloud server list
.fi
.RE
.PP
Read one field; decrypt a file as sops would:
.PP
.RS 4
.nf
git secrets show hcloud\-token \-\-field hcloud_token
git secrets decrypt secrets/secrets/kubeconfig.yaml
.fi
.RE
.PP
Guard the public repository and scan its history:
.PP
.RS 4
.nf
git secrets hooks install
git secrets doctor \-\-history
.fi
.RE
.SH "SEE ALSO"
\fBsops\fR(1), \fBage\fR(1), \fBgit\fR(1), \fBnix3\-flake\fR(1), \fBgithooks\fR(5)
"#;
