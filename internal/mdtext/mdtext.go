// Package mdtext escapes text for Markdown files the tool writes (job-page
// summaries, docs/CASES.md): text from a target or a user cannot add
// Markdown or HTML of its own.
package mdtext

import "strings"

var cell = strings.NewReplacer(
	"\r\n", " ", "\n", " ", "\r", " ",
	`\`, `\\`, "|", `\|`, "<", "&lt;", ">", "&gt;", "`", "\\`", "*", `\*`, "[", `\[`, "]", `\]`,
)

// Cell escapes s for one cell of a Markdown table (or one line of text):
// line breaks become spaces; |, \, `, *, [ and ] are backslash-escaped; <
// and > become entities.
func Cell(s string) string { return cell.Replace(s) }
