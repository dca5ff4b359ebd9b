//! The exception of a Python traceback.

/// The exception type and message of a traceback's lines (header included): the first
/// unindented line after the last `  File "…"` frame is `Type: message`, and any lines after it
/// continue the message. Chained tracebacks name their last exception. A traceback cut off
/// before its exception line gives `("", "")`.
pub fn exception_of<S: AsRef<str>>(lines: &[S]) -> (String, String) {
    let lines: Vec<&str> = lines.iter().map(AsRef::as_ref).collect();
    let last_frame = lines.iter().rposition(|l| l.starts_with("  File "));
    let search_from = match last_frame {
        Some(i) => i + 1,
        None => match lines
            .iter()
            .position(|l| *l == super::parse::TRACEBACK_HEADER)
        {
            Some(i) => i + 1,
            None => 0,
        },
    };
    let Some(offset) = lines[search_from..]
        .iter()
        .position(|l| !l.is_empty() && !l.starts_with([' ', '\t']))
    else {
        return (String::new(), String::new());
    };
    let at = search_from + offset;
    let first = lines[at];
    let (exception, mut detail) = match first.split_once(": ") {
        Some((ty, msg)) if is_type_name(ty) => (ty.to_string(), msg.to_string()),
        _ if is_type_name(first.trim_end_matches(':')) => {
            (first.trim_end_matches(':').to_string(), String::new())
        }
        _ => (String::new(), first.to_string()),
    };
    for l in &lines[at + 1..] {
        detail.push('\n');
        detail.push_str(l);
    }
    let detail = detail.trim_end().to_string();
    (exception, detail)
}

/// `proxmoxer.core.ResourceException`, `KeyError`: a dotted Python name.
fn is_type_name(s: &str) -> bool {
    !s.is_empty()
        && s.split('.').all(|part| {
            let mut cs = part.chars();
            matches!(cs.next(), Some(c) if c.is_alphabetic() || c == '_')
                && cs.all(|c| c.is_alphanumeric() || c == '_')
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_the_exception_of_a_proxmoxer_crash() {
        let tb = [
            "Traceback (most recent call last):",
            "  File \"<frozen runpy>\", line 198, in _run_module_as_main",
            "  File \"/opt/venv/lib/python3.11/site-packages/proxlb/__main__.py\", line 106, in <module>",
            "    nodes = Nodes.get_nodes(proxmox_api, proxlb_config)",
            "            ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^",
            "proxmoxer.core.ResourceException: 500 Internal Server Error: boom",
        ];
        assert_eq!(
            exception_of(&tb),
            (
                "proxmoxer.core.ResourceException".to_string(),
                "500 Internal Server Error: boom".to_string()
            )
        );
    }

    #[test]
    fn chained_tracebacks_name_the_last_exception_and_keep_multiline_messages() {
        let tb = [
            "Traceback (most recent call last):",
            "  File \"a.py\", line 1, in f",
            "KeyError: 'x'",
            "",
            "During handling of the above exception, another exception occurred:",
            "",
            "Traceback (most recent call last):",
            "  File \"a.py\", line 3, in g",
            "pydantic_core._pydantic_core.ValidationError: 1 validation error for Config",
            "proxmox_api",
            "  Field required [type=missing]",
        ];
        let (ty, detail) = exception_of(&tb);
        assert_eq!(ty, "pydantic_core._pydantic_core.ValidationError");
        assert_eq!(
            detail,
            "1 validation error for Config\nproxmox_api\n  Field required [type=missing]"
        );
    }

    #[test]
    fn bare_exceptions_and_cut_off_tracebacks() {
        let tb = [
            "Traceback (most recent call last):",
            "  File \"a.py\", line 1, in f",
            "KeyboardInterrupt",
        ];
        assert_eq!(
            exception_of(&tb),
            ("KeyboardInterrupt".to_string(), String::new())
        );
        let cut = [
            "Traceback (most recent call last):",
            "  File \"a.py\", line 1, in f",
        ];
        assert_eq!(exception_of(&cut), (String::new(), String::new()));
        let empty: [&str; 0] = [];
        assert_eq!(exception_of(&empty), (String::new(), String::new()));
    }
}
