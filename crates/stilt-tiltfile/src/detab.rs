//! Go Starlark accepts tabs in indentation (each advances to the next multiple of 8 columns)
//! and between tokens; starlark-rust rejects them. Before parsing, tabs outside string
//! literals are turned into spaces; tabs inside strings are kept. Lines do not move, so error
//! lines stay exact.

/// The source with tabs outside strings replaced, or `None` when there are no tabs.
pub(crate) fn detab(src: &str) -> Option<String> {
    if !src.contains('\t') {
        return None;
    }
    let chars: Vec<char> = src.chars().collect();
    let mut out = String::with_capacity(src.len() + 64);
    let mut i = 0;
    let mut col = 0usize;
    let mut at_line_start = true;
    // (quote char, triple)
    let mut string: Option<(char, bool)> = None;
    let mut comment = false;
    while i < chars.len() {
        let c = chars[i];
        if let Some((q, triple)) = string {
            out.push(c);
            i += 1;
            col += 1;
            if c == '\\' && i < chars.len() {
                out.push(chars[i]);
                if chars[i] == '\n' {
                    col = 0;
                }
                i += 1;
                continue;
            }
            if c == '\n' {
                col = 0;
                if !triple {
                    string = None;
                }
                continue;
            }
            if c == q {
                if !triple {
                    string = None;
                } else if chars.get(i) == Some(&q) && chars.get(i + 1) == Some(&q) {
                    out.push(q);
                    out.push(q);
                    i += 2;
                    string = None;
                }
            }
            continue;
        }
        match c {
            '\n' => {
                out.push(c);
                comment = false;
                at_line_start = true;
                col = 0;
                i += 1;
                continue;
            }
            '\t' => {
                let width = if at_line_start { 8 - col % 8 } else { 1 };
                out.extend(std::iter::repeat_n(' ', width));
                col += width;
                i += 1;
                continue;
            }
            '#' => comment = true,
            '"' | '\'' if !comment => {
                let triple = chars.get(i + 1) == Some(&c) && chars.get(i + 2) == Some(&c);
                string = Some((c, triple));
                out.push(c);
                if triple {
                    out.push(c);
                    out.push(c);
                    i += 2;
                    col += 2;
                }
                i += 1;
                col += 1;
                at_line_start = false;
                continue;
            }
            _ => {}
        }
        if c != ' ' {
            at_line_start = false;
        }
        out.push(c);
        col += 1;
        i += 1;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::detab;

    #[test]
    fn tabs_outside_strings_only() {
        assert_eq!(detab("a = 1\n"), None);
        assert_eq!(
            detab("def f():\n\tx =\t'a\tb'\n\treturn x\n").unwrap(),
            "def f():\n        x = 'a\tb'\n        return x\n"
        );
        assert_eq!(detab("s = \"\"\"\n\tkeep\n\"\"\"\n\ty\n").unwrap(), "s = \"\"\"\n\tkeep\n\"\"\"\n        y\n");
        assert_eq!(detab("# c\t\n").unwrap(), "# c \n");
    }
}
