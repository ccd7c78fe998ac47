package policy

import (
	"fmt"
	"regexp"
)

// DefaultExclusionList is what an ImageRepository excludes when its
// exclusionList is empty: cosign signature tags (Flux's default).
var DefaultExclusionList = []string{`^.*\.sig$`}

// Exclusions drops the tags an ImageRepository's exclusionList names, before
// any policy sees them.
type Exclusions struct {
	res []*regexp.Regexp
}

// NewExclusions compiles patterns; an empty list means DefaultExclusionList,
// as in Flux. An invalid pattern is an error naming it.
func NewExclusions(patterns []string) (*Exclusions, error) {
	if len(patterns) == 0 {
		patterns = DefaultExclusionList
	}
	e := &Exclusions{res: make([]*regexp.Regexp, 0, len(patterns))}
	for _, p := range patterns {
		re, err := regexp.Compile(p)
		if err != nil {
			return nil, fmt.Errorf("invalid exclusionList pattern %q: %w", p, err)
		}
		e.res = append(e.res, re)
	}
	return e, nil
}

// Apply returns the tags that no pattern matches, in their original order.
func (e *Exclusions) Apply(tags []string) []string {
	kept := make([]string, 0, len(tags))
	for _, tag := range tags {
		if !e.excluded(tag) {
			kept = append(kept, tag)
		}
	}
	return kept
}

func (e *Exclusions) excluded(tag string) bool {
	for _, re := range e.res {
		if re.MatchString(tag) {
			return true
		}
	}
	return false
}
