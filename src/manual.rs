//! Documentation generated from the code, so it cannot drift from it: shell completions and the
//! man page (from the clap definition) and the configuration reference (from the comments of
//! `config/default.toml`, the one place every key is documented).

use std::io::Write;

use clap::CommandFactory;

use crate::cli::Cli;
use crate::config::DEFAULT_TOML;

/// Where the generated configuration reference lives in the repository (a test compares it).
pub const CONFIG_REFERENCE_PATH: &str = "docs/configuration.md";

#[derive(Debug, thiserror::Error)]
pub enum ManualError {
    #[error("cannot write the output")]
    Io(#[from] std::io::Error),
    #[error("config/default.toml does not parse: {0}")]
    Toml(#[from] toml_edit::TomlError),
    #[error("config/default.toml: top-level key {0:?} is outside any [section]")]
    LooseKey(String),
}

/// Writes the completion script for `shell` (bash, zsh, fish, elvish, powershell).
pub(crate) fn completions(
    shell: clap_complete::Shell,
    out: &mut dyn Write,
) -> Result<(), ManualError> {
    let mut cmd = Cli::command();
    // Into memory first: clap_complete panics when its writer fails (a closed pipe).
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut cmd, "oneonone", &mut script);
    out.write_all(&script)?;
    Ok(())
}

/// Writes the man page (roff): the synopsis, every option and the list of commands, then one
/// section per command with its own options, so `man oneonone` answers without `--help`.
pub(crate) fn man_page(out: &mut dyn Write) -> Result<(), ManualError> {
    let mut cmd = Cli::command();
    // Built, so that each argument's action (flag or value) is known.
    cmd.build();
    let man = clap_mangen::Man::new(cmd.clone());
    man.render_title(out)?;
    man.render_name_section(out)?;
    man.render_synopsis_section(out)?;
    man.render_description_section(out)?;
    man.render_options_section(out)?;
    // One subsection per command here rather than clap_mangen's list of oneonone-CMD(1) pages,
    // which would name pages that are not installed.
    writeln!(out, ".SH COMMANDS")?;
    for sub in cmd.get_subcommands().filter(|s| s.get_name() != "help") {
        render_command_section(&mut vec![sub.get_name().to_string()], sub, out)?;
    }
    man.render_version_section(out)?;
    Ok(())
}

/// One `.SS` per command path ("connect caldav"), depth first, with its description and options.
fn render_command_section(
    path: &mut Vec<String>,
    cmd: &clap::Command,
    out: &mut dyn Write,
) -> Result<(), ManualError> {
    let name = path.join(" ");
    let leaf = cmd.get_subcommands().next().is_none();
    if leaf || cmd.get_arguments().any(|a| !a.is_global_set()) {
        writeln!(out, ".SS \"oneonone {}\"", roff_escape(&name))?;
        let about = cmd
            .get_long_about()
            .or(cmd.get_about())
            .map(ToString::to_string)
            .unwrap_or_default();
        writeln!(out, "{}", roff_escape(&about))?;
        for arg in cmd.get_arguments().filter(|a| !a.is_hide_set()) {
            let id = arg.get_id().as_str();
            if id == "help" || id == "version" || arg.is_global_set() {
                continue;
            }
            let flag = match (arg.get_long(), arg.get_short()) {
                (Some(l), _) => format!("--{l}"),
                (None, Some(s)) => format!("-{s}"),
                (None, None) => format!("<{}>", id.to_uppercase()),
            };
            let value = arg
                .get_value_names()
                .and_then(|v| v.first())
                .filter(|_| {
                    arg.get_long().is_some() && arg.get_num_args().is_none_or(|n| n.takes_values())
                })
                .map(|v| format!(" <{v}>"))
                .unwrap_or_default();
            writeln!(out, ".TP")?;
            writeln!(out, "\\fB{}\\fR{}", roff_escape(&flag), roff_escape(&value))?;
            let help = arg
                .get_long_help()
                .or(arg.get_help())
                .map(ToString::to_string)
                .unwrap_or_default();
            writeln!(out, "{}", roff_escape(&help))?;
        }
    }
    for sub in cmd.get_subcommands().filter(|s| s.get_name() != "help") {
        path.push(sub.get_name().to_string());
        render_command_section(path, sub, out)?;
        path.pop();
    }
    Ok(())
}

/// Text safe inside roff: a backslash is doubled, and a line may not start with `.` or `'`.
fn roff_escape(text: &str) -> String {
    text.lines()
        .map(|l| {
            let l = l.replace('\\', "\\e").replace('-', "\\-");
            if l.starts_with('.') || l.starts_with('\'') {
                format!("\\&{l}")
            } else {
                l
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The configuration reference (Markdown) generated from `config/default.toml`: each section
/// with its comment, then each key with its default, its environment variable and its comment.
pub fn config_reference() -> Result<String, ManualError> {
    config_reference_of(DEFAULT_TOML)
}

fn config_reference_of(source: &str) -> Result<String, ManualError> {
    let doc: toml_edit::DocumentMut = source.parse()?;
    let mut md = String::from(
        "# Configuration reference\n\n\
         <!-- Generated from config/default.toml by `oneonone config reference`: do not edit by \
         hand. A test fails when this file is stale; regenerate it with\n     \
         cargo run -q -- config reference > docs/configuration.md -->\n\n",
    );
    let mut first = true;
    for (name, item) in doc.as_table().iter() {
        let Some(table) = item.as_table() else {
            return Err(ManualError::LooseKey(name.to_string()));
        };
        let prefix = raw(table.decor().prefix());
        // The file's own introduction sits before the first section's header, separated from
        // that section's comment (if any) by a blank line.
        let (intro, about) = split_last_paragraph(prefix);
        if first {
            md.push_str(&paragraphs(&intro));
            md.push_str("## Sections\n\n");
            for (n, _) in doc.as_table().iter() {
                md.push_str(&format!("- [`[{n}]`](#{n})\n"));
            }
            md.push('\n');
            first = false;
        }
        md.push_str(&format!("## [{name}]\n\n"));
        if !about.is_empty() {
            md.push_str(&paragraphs(&about));
        }
        for (key, value) in table.iter() {
            let comment = table
                .key(key)
                .map(|k| raw(k.leaf_decor().prefix()))
                .unwrap_or_default();
            let default = value
                .as_value()
                .map(|v| v.to_string().trim().to_string())
                .unwrap_or_default();
            md.push_str(&format!(
                "### `{name}.{key}`\n\nDefault: `{default}` · environment: `ONEONONE__{}__{}`\n\n",
                name.to_uppercase(),
                key.to_uppercase()
            ));
            md.push_str(&paragraphs(&comment_lines(comment)));
        }
    }
    Ok(md)
}

fn raw(s: Option<&toml_edit::RawString>) -> &str {
    s.and_then(toml_edit::RawString::as_str).unwrap_or_default()
}

/// Comment lines without their `#`, blank lines kept as paragraph breaks.
fn comment_lines(prefix: &str) -> Vec<String> {
    prefix
        .lines()
        .map(|l| {
            let l = l.trim();
            l.strip_prefix('#')
                .map_or(l, |c| c.strip_prefix(' ').unwrap_or(c))
                .to_string()
        })
        .collect()
}

/// Splits a header's comment into what comes before its last paragraph, and that paragraph.
fn split_last_paragraph(prefix: &str) -> (Vec<String>, Vec<String>) {
    let mut lines = comment_lines(prefix.trim_end_matches(['\n', ' ']));
    while lines.last().is_some_and(String::is_empty) {
        lines.pop();
    }
    let cut = lines.iter().rposition(String::is_empty);
    // A commented header line belongs to its section only when no blank line separates them.
    let touching = prefix
        .trim_end_matches(' ')
        .strip_suffix('\n')
        .is_some_and(|p| !p.ends_with('\n'));
    match cut {
        Some(i) if touching => (lines[..i].to_vec(), lines[i + 1..].to_vec()),
        None if touching && prefix.contains('#') => (Vec::new(), lines),
        _ => (lines, Vec::new()),
    }
}

/// Comment lines joined into Markdown paragraphs; characters Markdown would take as markup are
/// escaped outside `code spans`.
fn paragraphs(lines: &[String]) -> String {
    let mut out = String::new();
    let mut para: Vec<&str> = Vec::new();
    let flush = |para: &mut Vec<&str>, out: &mut String| {
        if !para.is_empty() {
            out.push_str(&escape_markdown(&para.join(" ")));
            out.push_str("\n\n");
            para.clear();
        }
    };
    for l in lines {
        if l.trim().is_empty() {
            flush(&mut para, &mut out);
        } else {
            para.push(l.trim());
        }
    }
    flush(&mut para, &mut out);
    out
}

fn escape_markdown(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut in_code = false;
    for c in text.chars() {
        if c == '`' {
            in_code = !in_code;
        } else if !in_code && matches!(c, '\\' | '*' | '_' | '<' | '>' | '[' | ']' | '|') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_default_key_is_in_the_reference_with_its_env_name_and_comment() {
        let md = config_reference().unwrap();
        let table: toml::Table = toml::from_str(DEFAULT_TOML).unwrap();
        for (section, keys) in &table {
            assert!(md.contains(&format!("## [{section}]")), "{section}");
            for key in keys.as_table().unwrap().keys() {
                assert!(
                    md.contains(&format!("### `{section}.{key}`")),
                    "{section}.{key}"
                );
                let env = format!(
                    "ONEONONE__{}__{}",
                    section.to_uppercase(),
                    key.to_uppercase()
                );
                assert!(md.contains(&env), "{env}");
            }
        }
        assert!(md.contains("Address and port of the HTTP server"), "{md}");
        assert!(md.contains("Default: `\"127.0.0.1:8080\"`"), "{md}");
    }

    #[test]
    fn section_comment_and_file_introduction_are_told_apart() {
        let src = "# Intro line.\n#\n# More intro.\n\n[a]\n# About a.\nx = 1\n\n# About b.\n[b]\n\
                   # The y key: uses `a_b` and *stars*.\ny = \"s\"\n";
        let md = config_reference_of(src).unwrap();
        assert!(
            md.contains("Intro line.\n\nMore intro.\n\n## Sections"),
            "{md}"
        );
        assert!(md.contains("## [a]\n\n### `a.x`"), "{md}");
        assert!(md.contains("## [b]\n\nAbout b.\n\n### `b.y`"), "{md}");
        assert!(
            md.contains("The y key: uses `a_b` and \\*stars\\*."),
            "{md}"
        );
    }

    #[test]
    fn a_key_outside_any_section_is_an_error_naming_it() {
        let err = config_reference_of("loose = 1\n[a]\nx = 1\n").unwrap_err();
        assert!(err.to_string().contains("\"loose\""), "{err}");
    }

    #[test]
    fn man_page_has_every_command_and_roff_safe_text() {
        let mut out = Vec::new();
        man_page(&mut out).unwrap();
        let roff = String::from_utf8(out).unwrap();
        assert!(
            roff.starts_with(".ie") || roff.contains(".TH oneonone"),
            "{roff}"
        );
        for cmd in Cli::command().get_subcommands() {
            assert!(roff.contains(cmd.get_name()), "{}", cmd.get_name());
        }
        assert!(roff.contains(".SS \"oneonone connect caldav\""), "{roff}");
        assert!(
            !roff.contains("oneonone\\-run(1)"),
            "names a page that does not exist"
        );
        assert!(
            !roff.contains("json\\fR <JSON>"),
            "a flag shown with a value"
        );
        assert!(roff.contains("\\-\\-password\\-file"), "{roff}");
    }

    #[test]
    fn completions_name_the_commands() {
        for shell in [
            clap_complete::Shell::Bash,
            clap_complete::Shell::Zsh,
            clap_complete::Shell::Fish,
        ] {
            let mut out = Vec::new();
            completions(shell, &mut out).unwrap();
            let text = String::from_utf8(out).unwrap();
            assert!(
                text.contains("connect") && text.contains("history"),
                "{shell}"
            );
        }
    }
}
