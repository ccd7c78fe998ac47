package policy

import (
	"fmt"
	"testing"
)

// registryTags returns n tags as a busy repository has them: versions, v
// prefixes, prereleases, signature tags and branch builds.
func registryTags(n int) []string {
	tags := make([]string, 0, n)
	for i := 0; len(tags) < n; i++ {
		switch i % 5 {
		case 0:
			tags = append(tags, fmt.Sprintf("%d.%d.%d", i/500, (i/25)%20, i%25))
		case 1:
			tags = append(tags, fmt.Sprintf("v%d.%d.%d", i/500, (i/25)%20, i%25))
		case 2:
			tags = append(tags, fmt.Sprintf("%d.%d.%d-rc.%d", i/500, (i/25)%20, i%25, i%7))
		case 3:
			tags = append(tags, fmt.Sprintf("sha256-%064x.sig", i))
		default:
			tags = append(tags, fmt.Sprintf("main-%07x-%d", i*7919, 1606234201+i))
		}
	}
	return tags
}

func BenchmarkLatest(b *testing.B) {
	tags := registryTags(2500)
	specs := map[string]Spec{
		"semver":            {SemverRange: "1.x"},
		"alphabetical":      {Alphabetical: Ascending},
		"numerical-extract": {Numerical: Ascending, FilterPattern: `^main-[a-f0-9]+-(?P<ts>[0-9]+)$`, FilterExtract: "$ts"},
		"semver-prerelease": {SemverRange: ">=1.0.0-0"},
	}
	for name, spec := range specs {
		b.Run(name, func(b *testing.B) {
			p, err := New(spec)
			if err != nil {
				b.Fatal(err)
			}
			ex, err := NewExclusions(nil)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := p.Latest(ex.Apply(tags)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
