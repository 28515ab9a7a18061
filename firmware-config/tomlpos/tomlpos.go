// Package tomlpos finds the line of a key in a TOML file, so that
// validation errors can say "stations.toml:42: station cz-xb: parent: …".
//
// BurntSushi/toml's MetaData knows where each key is but keeps it private,
// and for arrays of tables ([[station]]) it keeps only the last element's
// position. This package scans the text itself: it follows table headers
// ([a.b], [[a]], [[a.b]]) and "key = value" lines, and records the first
// line of each key under a path with array indices, e.g.
// "station[2].staff[0].badge". It understands what person-edited config
// files contain (comments, multi-line arrays and strings are skipped over
// by their first line); for anything it cannot place it answers 0, and the
// error then names the file and field without a line.
package tomlpos

import (
	"fmt"
	"strings"
)

// Index maps key paths to 1-based line numbers.
type Index struct {
	lines  map[string]int
	counts map[string]int // array-of-tables path (without index) → elements so far
}

// New indexes text.
func New(text string) *Index {
	ix := &Index{lines: map[string]int{}, counts: map[string]int{}}
	table := "" // current table path with indices
	inMulti := ""
	depth := 0 // open brackets of a multi-line array value
	for n, raw := range strings.Split(text, "\n") {
		line := strings.TrimSpace(raw)
		if inMulti != "" { // inside a multi-line string
			if strings.Contains(line, inMulti) {
				inMulti = ""
			}
			continue
		}
		if depth > 0 {
			depth += bracketDelta(line)
			continue
		}
		if line == "" || line[0] == '#' {
			continue
		}
		switch {
		case strings.HasPrefix(line, "[["):
			name := strings.TrimSpace(strings.Trim(cutComment(line), "[] \t"))
			table = ix.element(name)
			ix.lines[table] = n + 1
		case line[0] == '[':
			name := strings.TrimSpace(strings.Trim(cutComment(line), "[] \t"))
			table = ix.resolve(name)
			ix.lines[table] = n + 1
		default:
			key, val, ok := strings.Cut(line, "=")
			if !ok {
				continue
			}
			key = strings.Trim(strings.TrimSpace(key), `"'`)
			path := key
			if table != "" {
				path = table + "." + key
			}
			if _, seen := ix.lines[path]; !seen {
				ix.lines[path] = n + 1
			}
			val = strings.TrimSpace(cutComment(val))
			for _, q := range []string{`"""`, `'''`} {
				if strings.HasPrefix(val, q) && !strings.Contains(val[3:], q) {
					inMulti = q
				}
			}
			if inMulti == "" {
				depth = bracketDelta(val)
			}
		}
	}
	return ix
}

// element starts a new element of the array of tables name ("station" or
// "station.staff") and returns its path.
func (ix *Index) element(name string) string {
	parent, last := "", name
	if i := strings.LastIndex(name, "."); i >= 0 {
		parent, last = ix.resolve(name[:i]), name[i+1:]
	}
	base := last
	if parent != "" {
		base = parent + "." + last
	}
	k := ix.counts[base]
	ix.counts[base] = k + 1
	return fmt.Sprintf("%s[%d]", base, k)
}

// resolve turns a dotted table name into a path, putting each array of
// tables on its last element.
func (ix *Index) resolve(name string) string {
	path := ""
	for _, part := range strings.Split(name, ".") {
		part = strings.Trim(strings.TrimSpace(part), `"'`)
		if path != "" {
			path += "."
		}
		path += part
		if k := ix.counts[path]; k > 0 {
			path = fmt.Sprintf("%s[%d]", path, k-1)
		}
	}
	return path
}

// Line returns the line of path, e.g. "station[1].parent" or
// "idcard.baud"; for a key that is absent, the line of the nearest table
// that holds it; 0 when nothing matches.
func (ix *Index) Line(path string) int {
	for p := path; p != ""; {
		if n, ok := ix.lines[p]; ok {
			return n
		}
		i := strings.LastIndexAny(p, ".[")
		if i < 0 {
			break
		}
		p = p[:i]
	}
	return 0
}

// Undecoded locates a key that BurntSushi/toml reported as undecoded
// (its Key has no array indices): the first line of it in any element.
func (ix *Index) Undecoded(dotted string) (path string, line int) {
	parts := strings.Split(dotted, ".")
	best := 0
	for p, n := range ix.lines {
		if stripIndices(p) == strings.Join(parts, ".") && (best == 0 || n < best) {
			best, path = n, p
		}
	}
	if best == 0 {
		return dotted, 0
	}
	return path, best
}

func stripIndices(p string) string {
	var b strings.Builder
	skip := false
	for _, r := range p {
		switch {
		case r == '[':
			skip = true
		case r == ']':
			skip = false
		case !skip:
			b.WriteRune(r)
		}
	}
	return b.String()
}

func cutComment(s string) string {
	inStr := byte(0)
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case inStr != 0 && c == '\\' && inStr == '"':
			i++
		case inStr != 0 && c == inStr:
			inStr = 0
		case inStr == 0 && (c == '"' || c == '\''):
			inStr = c
		case inStr == 0 && c == '#':
			return s[:i]
		}
	}
	return s
}

// bracketDelta counts [ minus ] outside strings and comments.
func bracketDelta(s string) int {
	s = cutComment(s)
	d := 0
	inStr := byte(0)
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case inStr != 0 && c == '\\' && inStr == '"':
			i++
		case inStr != 0 && c == inStr:
			inStr = 0
		case inStr == 0 && (c == '"' || c == '\''):
			inStr = c
		case inStr == 0 && c == '[':
			d++
		case inStr == 0 && c == ']':
			d--
		}
	}
	return d
}
