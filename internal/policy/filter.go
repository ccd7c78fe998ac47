package policy

import (
	"fmt"
	"regexp"
)

// filter is an ImagePolicy's filterTags: keep the tags that match pattern and,
// with extract, order them by the expansion of extract instead of the tag.
type filter struct {
	re      *regexp.Regexp
	extract string
}

func newFilter(pattern, extract string) (*filter, error) {
	re, err := regexp.Compile(pattern)
	if err != nil {
		return nil, fmt.Errorf("invalid filterTags pattern %q: %w", pattern, err)
	}
	return &filter{re: re, extract: extract}, nil
}

// apply returns the values to order and, for each value, the tag it came from.
// Several tags may extract to one value; Flux keeps the last one listed, which
// depends on the registry's order, so the greatest tag is kept instead.
func (f *filter) apply(tags []string) (values []string, originals map[string]string) {
	originals = make(map[string]string)
	for _, tag := range tags {
		m := f.re.FindStringSubmatchIndex(tag)
		if m == nil {
			continue
		}
		value := tag
		if f.extract != "" {
			value = string(f.re.ExpandString(nil, f.extract, tag, m))
		}
		prev, seen := originals[value]
		if !seen {
			values = append(values, value)
		}
		if !seen || tag > prev {
			originals[value] = tag
		}
	}
	return values, originals
}
