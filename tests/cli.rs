//! The command-line surface: `--help` snapshots (so a change to it is a
//! reviewed change), `--version`, and usage errors.
//! Regenerate the snapshots with `UPDATE_SNAPSHOTS=1 cargo test`.

use std::fs;
use std::path::Path;

use crate::common::*;

fn check_snapshot(name: &str, args: &[&str]) {
    Test::new().cmd(args).stdout_snapshot(name).run();
}

#[test]
fn help_snapshots() {
    check_snapshot("help.txt", &["--help"]);
    check_snapshot("gen-help.txt", &["gen", "--help"]);
    check_snapshot("renew-help.txt", &["renew", "--help"]);
    check_snapshot("add-help.txt", &["add", "--help"]);
    check_snapshot("inspect-help.txt", &["inspect", "--help"]);
    check_snapshot("doctor-help.txt", &["doctor", "--help"]);
    check_snapshot("schedule-help.txt", &["schedule", "--help"]);
    check_snapshot("export-help.txt", &["export", "--help"]);
    for target in EXPORT_TARGETS {
        check_snapshot(
            &format!("export-{target}-help.txt"),
            &["export", target, "--help"],
        );
    }
    check_snapshot("completions-help.txt", &["completions", "--help"]);
    check_snapshot("man-help.txt", &["man", "--help"]);
}

const SUBCOMMANDS: [&str; 9] = [
    "gen",
    "renew",
    "add",
    "inspect",
    "doctor",
    "schedule",
    "export",
    "completions",
    "man",
];
const EXPORT_TARGETS: [&str; 7] = [
    "compose",
    "k8s-secret",
    "operator",
    "helm",
    "cert-manager",
    "client",
    "kafka",
];

/// Issue 5: `--help` of every subcommand shows examples.
#[test]
fn every_subcommand_has_examples() {
    let d = tempfile::tempdir().unwrap();
    let mut commands: Vec<Vec<&str>> = SUBCOMMANDS.iter().map(|c| vec![*c]).collect();
    commands.extend(EXPORT_TARGETS.iter().map(|t| vec!["export", *t]));
    for mut c in commands {
        c.push("--help");
        let out = run_ok(d.path(), &c);
        let text = String::from_utf8(out.stdout).unwrap();
        let examples = text
            .split("Examples:\n")
            .nth(1)
            .unwrap_or_else(|| panic!("{c:?} has no examples"));
        assert!(
            examples
                .lines()
                .any(|l| l.trim_start().starts_with("milvus-certs ")),
            "{c:?}: {examples}"
        );
    }
    // And the top-level help lists them all.
    let text = String::from_utf8(run_ok(d.path(), &["--help"]).stdout).unwrap();
    for c in SUBCOMMANDS {
        assert!(text.contains(&format!("  {c} ")), "{c} not in --help");
    }
}

/// The bash completion script, sourced into a real bash, completes
/// subcommands, export targets and option values.
#[test]
fn bash_completion_completes_subcommands_and_targets() {
    let d = tempfile::tempdir().unwrap();
    let script = run_ok(d.path(), &["completions", "bash"]).stdout;
    fs::write(d.path().join("c.bash"), &script).unwrap();
    let complete = |line: &str| -> Vec<String> {
        let words: Vec<&str> = line.split(' ').collect();
        let program = format!(
            "source ./c.bash\n\
             COMP_WORDS=({words})\n\
             COMP_CWORD={cword}\n\
             COMP_LINE={line:?}\n\
             COMP_POINT=${{#COMP_LINE}}\n\
             f=$(complete -p milvus-certs | sed -n 's/.*-F \\([^ ]*\\).*/\\1/p')\n\
             \"$f\" milvus-certs {last:?} {prev:?}\n\
             printf '%s\\n' \"${{COMPREPLY[@]}}\"\n",
            words = words
                .iter()
                .map(|w| format!("{w:?}"))
                .collect::<Vec<_>>()
                .join(" "),
            cword = words.len() - 1,
            last = words[words.len() - 1],
            prev = words[words.len() - 2],
        );
        let out = shell_ok("bash", d.path(), &program, &[]);
        let mut v: Vec<String> = String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .map(str::to_string)
            .collect();
        v.sort();
        v
    };
    assert_eq!(complete("milvus-certs ex"), ["export"]);
    assert_eq!(
        complete("milvus-certs export c"),
        ["cert-manager", "client", "compose"]
    );
    assert!(complete("milvus-certs export compose --m").contains(&"--mode".to_string()));
    assert_eq!(
        complete("milvus-certs gen --key-type ecdsa"),
        ["ecdsa-p256", "ecdsa-p384"]
    );
    // --mode is a list of values too (it completed file names before).
    assert_eq!(complete("milvus-certs export client --mode "), ["1", "2"]);
    assert_eq!(complete("milvus-certs add x --profile p"), ["peer"]);
}

/// Every shell's script names the program and every subcommand.
#[test]
fn completions_for_every_shell() {
    let d = tempfile::tempdir().unwrap();
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let text = String::from_utf8(run_ok(d.path(), &["completions", shell]).stdout).unwrap();
        for word in SUBCOMMANDS.iter().chain(EXPORT_TARGETS.iter()) {
            assert!(text.contains(word), "{shell}: {word} missing");
        }
    }
    let out = run(d.path(), &["completions", "tcsh"]);
    assert_eq!(out.status.code(), Some(2));
    // bash accepts the script's syntax.
    let bash = run_ok(d.path(), &["completions", "bash"]).stdout;
    fs::write(d.path().join("c.bash"), bash).unwrap();
    let out = std::process::Command::new("bash")
        .args(["-n", "c.bash"])
        .current_dir(d.path())
        .output()
        .unwrap();
    assert!(out.status.success());
}

/// The man page is valid roff: groff renders it without a warning, with
/// the name, synopsis and every subcommand.
#[test]
fn man_page_renders_with_groff() {
    let d = tempfile::tempdir().unwrap();
    let page = run_ok(d.path(), &["man"]).stdout;
    assert!(
        page.starts_with(b".ie \\n(.g .ds Aq"),
        "roff from clap_mangen"
    );
    fs::write(d.path().join("milvus-certs.1"), &page).unwrap();
    let out = std::process::Command::new("groff")
        .args(["-man", "-Tutf8", "-ww", "-P-cbou", "milvus-certs.1"])
        .current_dir(d.path())
        .output()
        .expect("groff is needed by this test: apt-get install -y groff-base");
    assert!(out.status.success());
    assert_eq!(String::from_utf8_lossy(&out.stderr), "", "groff warnings");
    let text = String::from_utf8(out.stdout).unwrap();
    for section in ["NAME", "SYNOPSIS", "DESCRIPTION", "SUBCOMMANDS", "VERSION"] {
        assert!(text.contains(section), "{section} missing:\n{text}");
    }
    let words: Vec<&str> = text.split_whitespace().collect();
    assert!(
        words
            .join(" ")
            .contains("milvus-certs - Make and maintain the TLS files"),
        "{text}"
    );
    for c in SUBCOMMANDS {
        assert!(
            text.contains(&format!("milvus-certs-{c}(1)")),
            "{c} missing"
        );
    }
}

#[test]
fn version_is_the_crate_version() {
    let d = tempfile::tempdir().unwrap();
    let out = run(d.path(), &["--version"]);
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        format!("milvus-certs {}\n", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn unknown_options_are_usage_errors() {
    let d = tempfile::tempdir().unwrap();
    let out = run(d.path(), &["gen", "--frobnicate"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unexpected argument '--frobnicate'"));
    assert_eq!(fs::read_dir(d.path()).unwrap().count(), 0);
}

/// Options taking one of a fixed list of values (clap value enums) refuse
/// anything else as a usage error (exit 2) naming the accepted values.
/// (`--mode` said "3 is not in 1..=2" before it was one.)
#[test]
fn values_outside_a_list_are_usage_errors_naming_the_list() {
    let d = tempfile::tempdir().unwrap();
    let cases: &[(&[&str], &str)] = &[
        (
            &["gen", "--key-type", "rsa1024"],
            "rsa2048, rsa3072, rsa4096, ecdsa-p256, ecdsa-p384, ed25519",
        ),
        (
            &["renew", "--key-type", "dsa"],
            "rsa2048, rsa3072, rsa4096, ecdsa-p256, ecdsa-p384, ed25519",
        ),
        (
            &["add", "x", "--key-type", "ec"],
            "rsa2048, rsa3072, rsa4096, ecdsa-p256, ecdsa-p384, ed25519",
        ),
        (&["add", "x", "--profile", "both"], "server, client, peer"),
        (&["inspect", "--mode", "3"], "1, 2"),
        (&["export", "client", "--mode", "0"], "1, 2"),
        (&["export", "compose", "--mode", "two"], "1, 2"),
    ];
    for (args, values) in cases {
        let out = run(d.path(), args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        let value = args[args.len() - 1];
        assert!(
            stderr.starts_with(&format!("error: invalid value '{value}' for '--")),
            "{args:?}: {stderr}"
        );
        assert!(
            stderr.contains(&format!("[possible values: {values}]")),
            "{args:?}: {stderr}"
        );
    }
    assert_eq!(fs::read_dir(d.path()).unwrap().count(), 0);
}

/// `man --out` writes a page for every subcommand, and every page another
/// one refers to exists and renders without a groff warning.
#[test]
fn man_out_writes_every_referenced_page() {
    let d = tempfile::tempdir().unwrap();
    run_ok(d.path(), &["man", "--out", "man1"]);
    let dir = d.path().join("man1");
    let mut pages: Vec<String> = fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .collect();
    pages.sort();
    assert!(
        pages.contains(&"milvus-certs-export-compose.1".to_string()),
        "{pages:?}"
    );
    assert_eq!(
        pages.len(),
        1 + SUBCOMMANDS.len() + EXPORT_TARGETS.len(),
        "{pages:?}"
    );
    for page in &pages {
        let out = std::process::Command::new("groff")
            .args(["-man", "-Tutf8", "-ww", "-P-cbou", page])
            .current_dir(&dir)
            .output()
            .unwrap();
        assert_eq!(String::from_utf8_lossy(&out.stderr), "", "{page}");
        let text = String::from_utf8(out.stdout).unwrap();
        for (i, _) in text.match_indices("milvus-certs") {
            let name: String = text[i..]
                .chars()
                .take_while(|c| c.is_ascii_lowercase() || *c == '-')
                .collect();
            if text[i + name.len()..].starts_with("(1)") {
                assert!(
                    pages.contains(&format!("{name}.1")),
                    "{page} refers to {name}(1)"
                );
            }
        }
        if page != "milvus-certs.1" {
            assert!(text.contains("\nEXAMPLES\n"), "{page} has no examples");
        }
        assert!(!text.contains("EXTRA"), "{page}");
    }
}

/// Issue 16: a name given as `host:port` or as a URL is refused with the
/// option and the bare name to pass instead, for every option that takes a
/// name, before anything is written.
#[test]
fn names_with_a_port_or_scheme_say_what_to_pass() {
    let cert = gen_dir(&[]);
    // Invalid values: usage errors, exit 2 for every command (issue 12).
    let cases: &[(&[&str], i32, &str)] = &[
        (
            &["gen", "--dir", "new", "--san", "milvus.example.com:19530"],
            2,
            "--san milvus.example.com",
        ),
        (
            &["gen", "--dir", "new", "--san", "https://milvus.example.com"],
            2,
            "--san milvus.example.com",
        ),
        (
            &[
                "gen",
                "--dir",
                "new",
                "--common-name",
                "https://milvus.example.com:19530",
            ],
            2,
            "--common-name milvus.example.com",
        ),
        (
            &["gen", "--dir", "new", "--san", "[::1]:19530"],
            2,
            "--san ::1",
        ),
        (
            &["renew", "--dir", "cert", "--san", "10.0.0.5:19530"],
            2,
            "--san 10.0.0.5",
        ),
        (
            &[
                "inspect",
                "--dir",
                "cert",
                "--server-name",
                "https://127.0.0.1:19530",
            ],
            2,
            "--server-name 127.0.0.1",
        ),
        (
            &[
                "export",
                "client",
                "--dir",
                "cert",
                "--host",
                "localhost:19530",
            ],
            2,
            "--host localhost",
        ),
        (
            &[
                "export",
                "helm",
                "--dir",
                "cert",
                "--internal",
                "--sni",
                "https://localhost",
            ],
            2,
            "--sni localhost",
        ),
    ];
    for (args, code, fix) in cases {
        let d = tempfile::tempdir().unwrap();
        for f in SEVEN {
            fs::create_dir_all(d.path().join("cert")).unwrap();
            fs::copy(cert.path().join(f), d.path().join("cert").join(f)).unwrap();
        }
        let before = snapshot(d.path());
        let out = run(d.path(), args);
        let line = assert_one_error_line(&out, *code, &[fix]);
        assert!(line.ends_with(&format!("pass {fix}\n")), "{args:?}: {line}");
        assert_eq!(snapshot(d.path()), before, "{args:?} changed the directory");
        // ... and what it says to pass works.
        if args[0] == "gen" {
            let mut fixed: Vec<&str> = args.to_vec();
            let (opt, value) = fix.split_once(' ').unwrap();
            let i = fixed.iter().position(|a| a == &opt).unwrap();
            fixed[i + 1] = value;
            run_ok(d.path(), &fixed);
        }
    }
}

/// Issue 16: a mistyped option gets "did you mean", also for a transposition
/// in a short name (`--dri`), which clap's own similarity measure misses; an
/// option like nothing known gets no guess.
#[test]
fn mistyped_options_suggest_the_right_one() {
    let cases: &[(&[&str], Option<&str>)] = &[
        (&["gen", "--dri", "cert"], Some("--dir")),
        (&["gen", "--dri=cert"], Some("--dir")),
        (&["renew", "--dri", "cert"], Some("--dir")),
        (&["inspect", "--dri", "cert"], Some("--dir")),
        (&["export", "client", "--dri", "cert"], Some("--dir")),
        (&["gen", "--froce"], Some("--force")),
        (&["gen", "--common-nmae", "x"], Some("--common-name")),
        (&["gen", "--frobnicate"], None),
    ];
    for (args, want) in cases {
        let d = tempfile::tempdir().unwrap();
        let out = run(d.path(), args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.starts_with("error: unexpected argument"), "{stderr}");
        let tip = stderr
            .lines()
            .find_map(|l| l.trim().strip_prefix("tip: a similar argument exists: "));
        assert_eq!(
            tip,
            want.map(|w| format!("'{w}'")).as_deref(),
            "{args:?}: {stderr}"
        );
        assert_eq!(fs::read_dir(d.path()).unwrap().count(), 0, "{args:?}");
    }
}

/// A man page rendered as plain text, lines long enough not to wrap.
fn man_text(page: &Path) -> String {
    let out = std::process::Command::new("groff")
        .args(["-man", "-Tutf8", "-ww", "-P-cbou", "-rLL=400n"])
        .arg(page)
        .output()
        .expect("groff is needed by this test: apt-get install -y groff-base");
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "",
        "{}",
        page.display()
    );
    String::from_utf8(out.stdout).unwrap()
}

/// The lines of `text`'s section `name`, trimmed, without blank ones.
fn man_section(text: &str, name: &str) -> Vec<String> {
    text.split(&format!("\n{name}\n"))
        .nth(1)
        .unwrap_or_else(|| panic!("no {name} in:\n{text}"))
        .lines()
        .take_while(|l| l.is_empty() || l.starts_with(' '))
        .map(|l| l.trim().to_string())
        .filter(|l| !l.is_empty())
        .collect()
}

/// Issue 16: the synopsis names each option's value (`[--dir DIR]`, not
/// `[--dir]`), and the examples of `--help` are the EXAMPLES section (not
/// "EXTRA"), line for line.
#[test]
fn man_pages_show_option_values_and_the_help_examples() {
    let d = tempfile::tempdir().unwrap();
    run_ok(d.path(), &["man", "--out", "man1"]);
    let synopses: &[(&str, &[&str])] = &[
        (
            "gen",
            &[
                "[--dir DIR]",
                "[--common-name NAME]",
                "[--san NAME]...",
                "[--key-type TYPE]",
                "[--force]",
                "[-h|--help]",
            ],
        ),
        (
            "renew",
            &[
                "[--dir DIR]",
                "[--only WHICH]",
                "[--if-expiring-within DAYS]",
                "[--then CMD]",
                "[--dry-run]",
            ],
        ),
        (
            "inspect",
            &[
                "[--dir DIR]",
                "[--connect HOST:PORT]...",
                "[--warn-days DAYS]",
                "[PATH]...",
            ],
        ),
        (
            "export-client",
            &[
                "[--dir DIR]",
                "[--mode 1|2]",
                "[--host NAME]",
                "[--port PORT]",
            ],
        ),
        ("completions", &["SHELL"]),
    ];
    for (cmd, wanted) in synopses {
        let page = d.path().join(format!("man1/milvus-certs-{cmd}.1"));
        let text = man_text(&page);
        let synopsis = man_section(&text, "SYNOPSIS").join(" ");
        let name = format!("milvus-certs {}", cmd.replace('-', " "));
        assert!(synopsis.starts_with(&name), "{synopsis}");
        for w in *wanted {
            assert!(synopsis.contains(w), "{cmd}: {w:?} not in {synopsis:?}");
        }
        // Every option that takes a value shows it.
        assert!(!synopsis.contains("[--dir]"), "{synopsis}");

        // EXAMPLES: the same commands as --help, in the same order.
        let mut help_args: Vec<&str> = cmd.splitn(2, '-').collect();
        help_args.push("--help");
        let help = String::from_utf8(run_ok(d.path(), &help_args).stdout).unwrap();
        let help_examples: Vec<String> = help
            .split("Examples:\n")
            .nth(1)
            .unwrap()
            .lines()
            .take_while(|l| !l.is_empty())
            .map(|l| l.trim().to_string())
            .collect();
        assert!(!help_examples.is_empty());
        let examples = man_section(&text, "EXAMPLES");
        assert_eq!(examples[..help_examples.len()], help_examples[..], "{cmd}");
        assert!(!text.contains("EXTRA"), "{cmd}");
    }
    // The exit statuses of inspect have their own section.
    let text = man_text(&d.path().join("man1/milvus-certs-inspect.1"));
    let status = man_section(&text, "EXIT STATUS");
    assert_eq!(status[0], "0  everything is healthy");
}

/// The README's examples run as written (those that need no live server
/// or system folder), and its quick-start commands are what CI runs.
#[test]
fn readme_examples_work_as_written() {
    let readme =
        fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    assert!(readme.contains("cargo run --release -- gen --dir cert"));
    assert!(readme.contains("\ncargo test\n"));
    let ci = fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(".ci/run")).unwrap();
    assert!(
        ci.contains("\ncargo test --locked\n"),
        "CI runs the README's test command"
    );
    let examples: Vec<&str> = readme
        .split("## One example per command")
        .nth(1)
        .unwrap()
        .lines()
        .filter(|l| l.starts_with("milvus-certs "))
        .filter(|l| !l.contains("--connect") && !l.contains(" > "))
        .collect();
    assert!(examples.len() >= 6, "{examples:?}");
    let t = Test::new();
    for line in examples {
        let cmd = line.split("  #").next().unwrap().trim_end();
        let script = cmd.replacen("milvus-certs", "\"$BIN\"", 1);
        shell_ok("sh", t.path(), &script, &[("BIN", BIN)]);
    }
}
