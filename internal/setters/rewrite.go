package setters

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	yamlv2 "go.yaml.in/yaml/v2"
	yaml "go.yaml.in/yaml/v3"
)

// errBlockScalar reports a marker on a literal (|) or folded (>) scalar,
// which image references never need and which is not rewritten in place.
var errBlockScalar = errors.New("block scalar")

// edit is one marked scalar to set: the node, its new value, what to report,
// and (once located) the bytes that replace src[start:end].
type edit struct {
	node   *yaml.Node
	value  string
	object ObjectID
	change Change
	image  Image

	start, end int
	text       string
}

// rewrite returns src with only the edited scalars' bytes replaced, then
// checks that the result parses to the same documents (same structure,
// values, tags, comments and anchors) but for the new values; otherwise it
// returns an error and the file is left as it was.
func rewrite(src []byte, docs []*yaml.Node, edits []edit) ([]byte, error) {
	lines := lineStarts(src)
	inFlow := flowNodes(docs)
	for i := range edits {
		e := &edits[i]
		if err := locate(src, lines, e, inFlow[e.node]); err != nil {
			return nil, fmt.Errorf("line %d: cannot rewrite the value in place: %w", e.node.Line, err)
		}
	}
	slices.SortFunc(edits, func(a, b edit) int { return a.start - b.start })
	var out bytes.Buffer
	out.Grow(len(src) + 64*len(edits))
	pos := 0
	for _, e := range edits {
		if e.start < pos {
			return nil, fmt.Errorf("line %d: overlapping values", e.node.Line)
		}
		out.Write(src[pos:e.start])
		out.WriteString(e.text)
		pos = e.end
	}
	out.Write(src[pos:])
	if err := verify(out.Bytes(), docs, edits); err != nil {
		return nil, fmt.Errorf("rewriting in place would change more than the marked values: %w", err)
	}
	return out.Bytes(), nil
}

// lineStarts returns the offset of each line, as the YAML parser counts lines
// ("\n", "\r\n" or a lone "\r" ends one).
func lineStarts(src []byte) []int {
	starts := []int{0}
	for i := 0; i < len(src); i++ {
		switch {
		case src[i] == '\n':
			starts = append(starts, i+1)
		case src[i] == '\r' && (i+1 == len(src) || src[i+1] != '\n'):
			starts = append(starts, i+1)
		}
	}
	return starts
}

// flowNodes returns the nodes inside flow collections ([a, b], {k: v}), where
// a plain scalar ends at , ] or }.
func flowNodes(docs []*yaml.Node) map[*yaml.Node]bool {
	set := make(map[*yaml.Node]bool)
	var mark func(n *yaml.Node, flow bool)
	mark = func(n *yaml.Node, flow bool) {
		if flow {
			set[n] = true
		}
		flow = flow || n.Style&yaml.FlowStyle != 0
		for _, c := range n.Content {
			mark(c, flow)
		}
	}
	for _, d := range docs {
		mark(d, false)
	}
	return set
}

// locate finds the bytes of e's scalar in src and the text that replaces
// them, keeping its quoting style when the new value allows it.
func locate(src []byte, lines []int, e *edit, flow bool) error {
	n := e.node
	if n.Line < 1 || n.Line > len(lines) || n.Column < 1 {
		return fmt.Errorf("position %d:%d outside the file", n.Line, n.Column)
	}
	// Columns count characters, not bytes.
	off := lines[n.Line-1]
	for range n.Column - 1 {
		if off >= len(src) || src[off] == '\n' || src[off] == '\r' {
			return fmt.Errorf("column %d beyond the end of line %d", n.Column, n.Line)
		}
		_, size := utf8.DecodeRune(src[off:])
		off += size
	}
	off = skipProperties(src, off)
	if n.Value == "" {
		off = skipBlanks(src, off)
	}
	if off >= len(src) {
		return fmt.Errorf("value not found")
	}
	var end int
	switch src[off] {
	case '"':
		end = closingDouble(src, off)
		e.text = doubleQuoted(e.value)
	case '\'':
		end = closingSingle(src, off)
		e.text = singleQuoted(e.value)
	case '|', '>':
		return errBlockScalar
	default:
		end = plainEnd(src, off, flow)
		if string(src[off:end]) != n.Value {
			return fmt.Errorf("plain value %q spans lines", n.Value)
		}
		e.text = plain(e.value, flow)
		// A value set where there was none must not touch a comment.
		if end < len(src) && src[end] == '#' {
			e.text += " "
		}
	}
	if end < 0 {
		return fmt.Errorf("unterminated quoted value")
	}
	e.start, e.end = off, end
	return nil
}

// skipProperties steps over a node's tag (!!str) and anchor (&a), which the
// parser counts as the start of the node.
func skipProperties(src []byte, off int) int {
	for off < len(src) && (src[off] == '!' || src[off] == '&') {
		for off < len(src) && !isSpace(src[off]) {
			off++
		}
		off = skipBlanks(src, off)
	}
	return off
}

func skipBlanks(src []byte, off int) int {
	for off < len(src) && isSpace(src[off]) {
		off++
	}
	return off
}

func isSpace(b byte) bool {
	return b == ' ' || b == '\t' || b == '\n' || b == '\r'
}

// closingDouble returns the offset after the closing quote of the
// double-quoted scalar at off, or -1.
func closingDouble(src []byte, off int) int {
	for i := off + 1; i < len(src); i++ {
		switch src[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
	return -1
}

// closingSingle does the same for single quotes, where a doubled quote
// stands for one.
func closingSingle(src []byte, off int) int {
	for i := off + 1; i < len(src); i++ {
		if src[i] != '\'' {
			continue
		}
		if i+1 < len(src) && src[i+1] == '\'' {
			i++
			continue
		}
		return i + 1
	}
	return -1
}

// plainEnd returns where the one-line plain scalar at off ends: before a
// comment, a ": " (which would have made it a key), the line end, or, in a
// flow collection, a flow indicator; trailing blanks are not part of it.
func plainEnd(src []byte, off int, flow bool) int {
	i := off
scan:
	for ; i < len(src); i++ {
		switch c := src[i]; {
		case c == '\n' || c == '\r':
			break scan
		case c == '#' && i > off && (src[i-1] == ' ' || src[i-1] == '\t'):
			break scan
		case c == ':' && (i+1 == len(src) || isSpace(src[i+1]) || (flow && strings.IndexByte(",[]{}", src[i+1]) >= 0)):
			break scan
		case flow && strings.IndexByte(",[]{}", c) >= 0:
			break scan
		}
	}
	for i > off && (src[i-1] == ' ' || src[i-1] == '\t') {
		i--
	}
	return i
}

// plain writes v unquoted when it reads back as the same string in YAML 1.2
// and 1.1 (so "1.10", "yes" or "1:20" are quoted, as kyaml quotes them), else
// double-quoted.
func plain(v string, flow bool) string {
	if v == "" || (flow && strings.ContainsAny(v, ",[]{}")) {
		return doubleQuoted(v)
	}
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	if enc.Encode(&yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: v}) != nil || enc.Close() != nil || b.String() != v+"\n" {
		return doubleQuoted(v)
	}
	var old any
	if yamlv2.Unmarshal([]byte(v), &old) != nil {
		return doubleQuoted(v)
	}
	if s, ok := old.(string); !ok || s != v {
		return doubleQuoted(v)
	}
	return v
}

// singleQuoted keeps single quotes unless v has characters they cannot hold.
func singleQuoted(v string) string {
	for _, r := range v {
		if r == '\n' || r == '\r' || !unicode.IsPrint(r) {
			return doubleQuoted(v)
		}
	}
	return "'" + strings.ReplaceAll(v, "'", "''") + "'"
}

// doubleQuoted escapes v with YAML's double-quoted escapes.
func doubleQuoted(v string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range v {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\r':
			b.WriteString(`\r`)
		case r > 0xFFFF && !unicode.IsPrint(r):
			fmt.Fprintf(&b, `\U%08X`, r)
		case !unicode.IsPrint(r):
			fmt.Fprintf(&b, `\u%04X`, r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// verify parses out and compares it with the original documents, expecting
// each edited scalar to hold its new value as a string and every other node,
// comment, tag and anchor to be as it was.
func verify(out []byte, docs []*yaml.Node, edits []edit) error {
	got, err := parse(out)
	if err != nil {
		return err
	}
	if len(got) != len(docs) {
		return fmt.Errorf("%d documents instead of %d", len(got), len(docs))
	}
	want := make(map[*yaml.Node]string, len(edits))
	for _, e := range edits {
		want[e.node] = e.value
	}
	for i := range docs {
		if err := sameNode(docs[i], got[i], want); err != nil {
			return err
		}
	}
	return nil
}

func sameNode(a, b *yaml.Node, want map[*yaml.Node]string) error {
	if a.Kind != b.Kind || len(a.Content) != len(b.Content) || a.Anchor != b.Anchor ||
		a.HeadComment != b.HeadComment || a.LineComment != b.LineComment || a.FootComment != b.FootComment {
		return fmt.Errorf("node at line %d differs", a.Line)
	}
	if v, edited := want[a]; edited {
		if b.Value != v || b.ShortTag() != "!!str" {
			return fmt.Errorf("value at line %d reads back as %s %q, not %q", a.Line, b.ShortTag(), b.Value, v)
		}
	} else if a.Value != b.Value || a.Tag != b.Tag || a.Style != b.Style {
		return fmt.Errorf("value at line %d differs", a.Line)
	}
	for i := range a.Content {
		if err := sameNode(a.Content[i], b.Content[i], want); err != nil {
			return err
		}
	}
	return nil
}
