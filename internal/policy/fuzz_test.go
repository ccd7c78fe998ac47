package policy

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

// FuzzPolicy feeds arbitrary ranges, orders, filters and tags through New and
// Latest: neither may panic, and a selected tag must be one of the inputs.
func FuzzPolicy(f *testing.F) {
	f.Add("1.1.x", "", "", "", "1.0.0\n1.1.0\nv1.1.1\n1.2.0-rc.1")
	f.Add(">=1.0.0-0", "", `^(v?\d+\.\d+\.\d+.*)$`, "$1", "1.0.0\n1.0.1-rc.1+b")
	f.Add("", "asc", `^main-[a-f0-9]+-(?P<ts>[0-9]+)`, "$ts", "main-fff-1606364286\nmain-aaa-1")
	f.Add("", "desc", "", "", "b\na\nc")
	f.Add("", "num", `^build-(\d+)$`, "${1}", "build-9\nbuild-10\nNaN\ninf")
	f.Add("*-*", "", "(", "", "x")
	f.Fuzz(func(t *testing.T, rng, order, pattern, extract, tagList string) {
		spec := Spec{SemverRange: rng, FilterPattern: pattern, FilterExtract: extract}
		if strings.HasPrefix(order, "num") {
			spec.Numerical = Order(strings.TrimPrefix(order, "num"))
		} else {
			spec.Alphabetical = Order(order)
		}
		p, err := New(spec)
		if err != nil {
			return
		}
		tags := strings.Split(tagList, "\n")
		got, err := p.Latest(tags)
		if err != nil {
			if errors.Is(err, ErrNoMatch) && got != "" {
				t.Fatalf("Latest returned %q with ErrNoMatch", got)
			}
			return
		}
		if !slices.Contains(tags, got) {
			t.Fatalf("Latest(%q) = %q, not one of the tags", tags, got)
		}
	})
}

// FuzzSemver checks the version parser and range check on arbitrary input:
// no panic, and any tag accepted is one Flux's parse accepts (three parts).
func FuzzSemver(f *testing.F) {
	for _, s := range []string{"1.0.0", "v1.2.3-rc.1+meta", "01.0.0", "2024.12.01", "1.0", "v", "", "1.0.0-", "99999999999999999999.0.0"} {
		f.Add(">=0.0.0-0", s)
	}
	f.Fuzz(func(t *testing.T, rng, tag string) {
		v, ok := parseVersion(tag)
		if ok && (v.Original() != tag || strings.Count(tag, ".") < 2) {
			t.Fatalf("parseVersion(%q) = %q: not the tag, or fewer than three parts", tag, v.Original())
		}
		s, err := newSemver(rng)
		if err != nil {
			return
		}
		got, err := s.latest([]string{tag})
		if err == nil && (!ok || got != tag) {
			t.Fatalf("latest([%q]) = %q for a tag parseVersion rejects", tag, got)
		}
	})
}
