//! `milvus-certs schedule`: the systemd timer and the crontab line that run
//! `renew --if-expiring-within` every day (certbot's model), rendered with
//! every value checked and quoted for where it goes. What is due and the
//! `--then` hook are `renew`'s (`renew/due.rs`, `renew/hook.rs`).

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::shell::{absolute, cron_word, systemd_word};
use crate::store::{self, Output, PUBLIC_MODE};
use crate::validity::{MAX_DAYS, check_days};

/// What `schedule` writes.
#[derive(Clone, Debug)]
pub struct ScheduleOptions {
    /// The milvus-certs binary (made absolute: the units run from `/`).
    pub bin: PathBuf,
    /// The certificate directory (made absolute too).
    pub dir: PathBuf,
    /// Renew when a leaf expires within this many days.
    pub within: u32,
    /// `--days` for renew, if given (else renew keeps each lifetime).
    pub days: Option<u32>,
    /// The reload command, if any.
    pub then: Option<String>,
    /// The base name of the units, e.g. `milvus-certs-renew`.
    pub name: String,
}

/// A systemd service + timer pair and the equivalent crontab line.
#[derive(Clone, Debug)]
pub struct Units {
    /// `<name>.service`.
    pub service: String,
    /// `<name>.timer`.
    pub timer: String,
    /// One crontab line (for `crontab -e` or `/etc/cron.d`, without the user field).
    pub crontab: String,
}

/// The `renew` command line the schedule runs, as words.
fn renew_words(o: &ScheduleOptions) -> Vec<String> {
    let mut words = vec![
        o.bin.display().to_string(),
        "renew".into(),
        "--dir".into(),
        o.dir.display().to_string(),
        "--if-expiring-within".into(),
        o.within.to_string(),
    ];
    if let Some(days) = o.days {
        words.push("--days".into());
        words.push(days.to_string());
    }
    if let Some(cmd) = &o.then {
        words.push("--then".into());
        words.push(cmd.clone());
    }
    words
}

/// A control character named for an error message.
fn control_name(c: char) -> String {
    let name = match c {
        '\n' => "a newline",
        '\r' => "a carriage return",
        '\t' => "a tab",
        '\x1b' => "an escape character (ESC)",
        '\x7f' => "a delete character (DEL)",
        _ => "a control character",
    };
    format!("{name} (U+{:04X})", u32::from(c))
}

/// Refuses a value that cannot be written as is into the unit files and the
/// crontab line. Both are line-based: a newline in a value would end its
/// line and start a directive (`ExecStartPre=`) or a cron job of the
/// value's choosing, and the file runs as root. Other control characters
/// (carriage return, tab, ESC, DEL) are refused too: no path or command
/// needs them, and they hide what a file says when it is read.
fn writable(option: &'static str, value: &str, fix: &str) -> Result<()> {
    match value.chars().find(|&c| c < ' ' || c == '\x7f') {
        None => Ok(()),
        Some(c) => Err(Error::invalid(
            option,
            value,
            format!(
                "it holds {}, which `schedule` cannot write into a systemd unit or a crontab line \
                 (a newline would start a new directive or cron job); nothing was written: {fix}",
                control_name(c)
            ),
        )),
    }
}

/// A path for [`writable`]: also refused when it is not UTF-8, since the
/// unit would then name another path (its lossy spelling).
fn writable_path<'a>(option: &'static str, path: &'a Path, fix: &str) -> Result<&'a str> {
    let text = path.to_str().ok_or_else(|| {
        Error::invalid(
            option,
            &path.to_string_lossy(),
            format!(
                "it is not valid UTF-8, so the systemd unit and the crontab line cannot name it \
                 exactly; nothing was written: {fix}"
            ),
        )
    })?;
    writable(option, text, fix)?;
    Ok(text)
}

/// Checks every value [`units`] writes (see [`writable`]).
fn check_writable(o: &ScheduleOptions) -> Result<()> {
    writable_path(
        "binary path",
        &o.bin,
        "install milvus-certs at a path without control characters \
         (e.g. /usr/local/bin/milvus-certs) and run `schedule` from there",
    )?;
    writable_path(
        "--dir",
        &o.dir,
        "move the certificates to a directory whose path has no control characters \
         and pass it as --dir",
    )?;
    if let Some(then) = &o.then {
        writable(
            "--then",
            then,
            "put the commands (a multi-line hook too) in a script file and pass \
             --then /path/to/script",
        )?;
    }
    // --name has only letters, digits and -_.@ ([`check_values`]).
    Ok(())
}

/// The values the command line gives, checked before anything else: the
/// unit's base name (it names files), and the day counts `renew` accepts.
fn check_values(o: &ScheduleOptions) -> Result<()> {
    let name_ok = !o.name.is_empty()
        && o.name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.@".contains(c));
    if !name_ok {
        return Err(Error::invalid(
            "--name",
            &o.name,
            "use letters, digits, '-', '_', '.' or '@' (it names the unit files)",
        ));
    }
    if o.within == 0 || o.within > MAX_DAYS {
        return Err(Error::invalid(
            "--within",
            &o.within.to_string(),
            format!("must be between 1 and {MAX_DAYS} days"),
        ));
    }
    if let Some(days) = o.days {
        check_days("--days", days)?;
    }
    Ok(())
}

/// Renders the units. The crontab minute is spread by the directory's name
/// so that many hosts do not all renew at the same minute.
///
/// Fails, before anything is written, when a value is out of range or would
/// have to be written with a control character in it (a newline would add
/// a line of its own).
pub fn units(o: &ScheduleOptions) -> Result<Units> {
    let o = &ScheduleOptions {
        bin: absolute(&o.bin),
        dir: absolute(&o.dir),
        ..o.clone()
    };
    check_values(o)?;
    check_writable(o)?;
    let words = renew_words(o);
    let exec: Vec<String> = words.iter().map(|w| systemd_word(w)).collect();
    let cron: Vec<String> = words.iter().map(|w| cron_word(w)).collect();
    let dir = o.dir.display().to_string();
    let service = format!(
        "[Unit]\n\
         Description=Renew the Milvus TLS certificates in {} when due\n\
         After=network-online.target\n\
         \n\
         [Service]\n\
         Type=oneshot\n\
         ExecStart={}\n",
        dir.replace('%', "%%"),
        exec.join(" ")
    );
    let timer = format!(
        "[Unit]\n\
         Description=Check the Milvus TLS certificates in {} daily\n\
         \n\
         [Timer]\n\
         OnCalendar=daily\n\
         RandomizedDelaySec=1h\n\
         Persistent=true\n\
         Unit={}.service\n\
         \n\
         [Install]\n\
         WantedBy=timers.target\n",
        dir.replace('%', "%%"),
        o.name
    );
    let minute = dir
        .bytes()
        .fold(7u32, |h, b| h.wrapping_mul(31).wrapping_add(u32::from(b)))
        % 60;
    let crontab = format!("{minute} 3 * * * {}\n", cron.join(" "));
    Ok(Units {
        service,
        timer,
        crontab,
    })
}

/// Writes NAME.service, NAME.timer and NAME.cron into `dir` (0644), all or
/// none, through `store::write_outputs`: anything at one of those names,
/// a dangling symlink too, is replaced (the link itself, never its target)
/// only with `force`, and the folder must be one no other user can write.
/// Returns the paths written.
pub fn write_units(
    dir: &Path,
    o: &ScheduleOptions,
    u: &Units,
    force: bool,
) -> Result<Vec<PathBuf>> {
    let names = [
        (format!("{}.service", o.name), &u.service),
        (format!("{}.timer", o.name), &u.timer),
        (format!("{}.cron", o.name), &u.crontab),
    ];
    let outputs: Vec<Output<'_>> = names
        .iter()
        .map(|(name, text)| Output {
            rel: name,
            contents: text.as_bytes(),
            mode: PUBLIC_MODE,
        })
        .collect();
    store::write_outputs(dir, &outputs, force)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options(dir: &str, then: &str) -> ScheduleOptions {
        ScheduleOptions {
            bin: "/usr/local/bin/milvus-certs".into(),
            dir: dir.into(),
            within: 30,
            days: None,
            then: Some(then.into()),
            name: "milvus-certs-renew".into(),
        }
    }

    #[test]
    fn control_characters_are_refused_in_every_written_value() {
        let ok = options("/etc/milvus/tls", "systemctl restart milvus");
        assert!(units(&ok).is_ok());
        for c in ['\n', '\r', '\t', '\x1b', '\x7f', '\0', '\x1f'] {
            let bad = format!("a{c}b");
            let refused = [
                ("--dir", options(&format!("/etc/{bad}"), "true")),
                ("--then", options("/etc/milvus/tls", &bad)),
                (
                    "binary path",
                    ScheduleOptions {
                        bin: format!("/usr/{bad}").into(),
                        ..ok.clone()
                    },
                ),
            ];
            for (option, o) in refused {
                let message = units(&o).unwrap_err().to_string();
                assert!(
                    message.starts_with(&format!("invalid {option} ")),
                    "{message}"
                );
                assert!(
                    message.contains(&format!("U+{:04X}", u32::from(c))),
                    "{message}"
                );
                assert!(
                    !message.contains(c),
                    "shown escaped, on one line: {message}"
                );
            }
        }
        // Not control characters: kept (and quoted) as before.
        assert!(units(&options("/srv/tls ü %", "echo 'ü' \"$X\" ; x")).is_ok());
    }

    /// What `schedule` refuses before anything else, with the messages (and
    /// so the exit status 2) of every invalid value.
    #[test]
    fn names_and_day_counts_are_checked_first() {
        let ok = options("/etc/milvus/tls", "true");
        let refused = |o: ScheduleOptions| units(&o).unwrap_err().to_string();
        for name in ["", "a b", "a/b", "a\nb", "ü"] {
            let o = ScheduleOptions {
                name: name.into(),
                ..ok.clone()
            };
            assert_eq!(
                refused(o),
                format!(
                    "invalid --name {name:?}: use letters, digits, '-', '_', '.' or '@' \
                     (it names the unit files)"
                )
            );
        }
        for within in [0, MAX_DAYS + 1] {
            let o = ScheduleOptions {
                within,
                ..ok.clone()
            };
            assert_eq!(
                refused(o),
                format!("invalid --within \"{within}\": must be between 1 and 36500 days")
            );
        }
        let o = ScheduleOptions {
            days: Some(0),
            ..ok.clone()
        };
        assert!(refused(o).starts_with("invalid --days \"0\""));
        let largest = ScheduleOptions {
            within: MAX_DAYS,
            days: Some(MAX_DAYS),
            name: "a-b_c.d@e".into(),
            ..ok
        };
        assert!(units(&largest).is_ok());
    }

    #[test]
    fn a_path_that_is_not_utf8_is_refused() {
        use std::os::unix::ffi::OsStrExt;
        let dir = std::ffi::OsStr::from_bytes(b"/srv/\xff");
        let o = ScheduleOptions {
            dir: dir.into(),
            ..options("/", "true")
        };
        let message = units(&o).unwrap_err().to_string();
        assert!(
            message.starts_with("invalid --dir ") && message.contains("UTF-8"),
            "{message}"
        );
    }

    #[test]
    fn units_run_the_renew_command_with_absolute_paths() {
        let u = units(&ScheduleOptions {
            bin: "/usr/local/bin/milvus-certs".into(),
            dir: "/etc/milvus/tls".into(),
            within: 30,
            days: None,
            then: Some("systemctl restart milvus".into()),
            name: "milvus-certs-renew".into(),
        })
        .unwrap();
        assert!(u.service.contains(
            "ExecStart=/usr/local/bin/milvus-certs renew --dir /etc/milvus/tls --if-expiring-within 30 --then \"systemctl restart milvus\"\n"
        ));
        assert!(u.timer.contains("Persistent=true") && u.timer.contains("RandomizedDelaySec="));
        let fields: Vec<&str> = u.crontab.split_whitespace().collect();
        assert_eq!(&fields[1..5], ["3", "*", "*", "*"]);
        assert!(u.crontab.ends_with("--then 'systemctl restart milvus'\n"));
    }
}
