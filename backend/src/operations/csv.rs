//! CSV as RFC 4180 has it (comma-separated, `"` quotes, `""` inside quotes), written so that a
//! spreadsheet never runs a cell: a cell starting with `=`, `+`, `-`, `@`, a tab or a carriage
//! return is a formula to Excel and LibreOffice, so it is written with a leading `'`.

use std::borrow::Cow;

/// Appends one record and its CRLF line end.
pub fn write_record<'a>(out: &mut String, cells: impl IntoIterator<Item = &'a str>) {
    for (index, value) in cells.into_iter().enumerate() {
        if index > 0 {
            out.push(',');
        }
        let value = defused(value);
        if value.contains([',', '"', '\n', '\r']) {
            out.push('"');
            out.push_str(&value.replace('"', "\"\""));
            out.push('"');
        } else {
            out.push_str(&value);
        }
    }
    out.push_str("\r\n");
}

/// The cell as a spreadsheet shows it without evaluating it.
fn defused(value: &str) -> Cow<'_, str> {
    if value.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        Cow::Owned(format!("'{value}"))
    } else {
        Cow::Borrowed(value)
    }
}

/// One record of a parsed document and the line it starts on (1 is the first line).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub line: u64,
    pub cells: Vec<String>,
}

/// A document that is not CSV: a quote never closed, or text after a closing quote.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {problem}")]
pub struct CsvError {
    pub line: u64,
    pub problem: &'static str,
}

/// Every record of the text, blank lines left out. Accepts CRLF and LF line ends.
pub fn parse(text: &str) -> Result<Vec<Record>, CsvError> {
    let mut records = Vec::new();
    let mut cells = Vec::new();
    let mut cell = String::new();
    let mut line = 1u64;
    let mut start = 1u64;
    let mut chars = text.chars().peekable();
    // Whether the current cell was quoted (its quotes are closed when this is reached again).
    let mut after_quote = false;
    loop {
        match chars.next() {
            Some('"') if cell.is_empty() && !after_quote => {
                loop {
                    match chars.next() {
                        Some('"') if chars.peek() == Some(&'"') => {
                            chars.next();
                            cell.push('"');
                        }
                        Some('"') => break,
                        Some(c) => {
                            if c == '\n' {
                                line += 1;
                            }
                            cell.push(c);
                        }
                        None => return Err(CsvError { line: start, problem: "a quoted cell is never closed" }),
                    }
                }
                after_quote = true;
            }
            Some(',') => {
                cells.push(std::mem::take(&mut cell));
                after_quote = false;
            }
            Some('\r') if chars.peek() == Some(&'\n') => {}
            Some('\n') | None => {
                let end = chars.peek().is_none();
                if !(cells.is_empty() && cell.is_empty() && !after_quote) {
                    cells.push(std::mem::take(&mut cell));
                    records.push(Record { line: start, cells: std::mem::take(&mut cells) });
                }
                after_quote = false;
                line += 1;
                start = line;
                if end {
                    return Ok(records);
                }
            }
            Some(_) if after_quote => {
                return Err(CsvError { line, problem: "text follows a closing quote; quote the whole cell" });
            }
            Some(c) => cell.push(c),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn written(cells: &[&str]) -> String {
        let mut out = String::new();
        write_record(&mut out, cells.iter().copied());
        out
    }

    #[test]
    fn cells_are_quoted_only_when_needed_and_formulas_are_defused() {
        assert_eq!(
            written(&["plain", "a,b", "say \"hi\"", "two\nlines"]),
            "plain,\"a,b\",\"say \"\"hi\"\"\",\"two\nlines\"\r\n"
        );
        assert_eq!(written(&["=1+2", "+7 916", "-x", "@SUM(A1)", "a=b"]), "'=1+2,'+7 916,'-x,'@SUM(A1),a=b\r\n");
        assert_eq!(written(&["=HYPERLINK(\"x\",\"y\")"]), "\"'=HYPERLINK(\"\"x\"\",\"\"y\"\")\"\r\n");
    }

    #[test]
    fn what_is_written_parses_back() {
        let cells = ["plain", "a,b", "say \"hi\"", "two\r\nlines", ""];
        let mut out = written(&["h1", "h2", "h3", "h4", "h5"]);
        write_record(&mut out, cells);
        let records = parse(&out).unwrap();
        assert_eq!(records.len(), 2);
        assert_eq!(records[1], Record { line: 2, cells: cells.iter().map(|c| (*c).to_owned()).collect() });
    }

    #[test]
    fn lines_are_counted_across_quoted_breaks_and_blank_lines() {
        let records = parse("a,b\n\n\"x\ny\",z\nlast,\"\"").unwrap();
        let lines: Vec<u64> = records.iter().map(|r| r.line).collect();
        assert_eq!(lines, [1, 3, 5]);
        assert_eq!(records[2].cells, ["last", ""]);
    }

    #[test]
    fn broken_quotes_are_refused_with_their_line() {
        assert_eq!(parse("a\n\"open,b\nc").unwrap_err().line, 2);
        assert_eq!(parse("a\n\"x\"y,b").unwrap_err().line, 2);
    }
}
