package policy

import (
	"errors"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

func TestNew(t *testing.T) {
	tests := []struct {
		name    string
		spec    Spec
		wantErr string // substring; empty means valid
		noPol   bool   // want ErrNoPolicy
	}{
		// Flux semver_test.go TestNewSemVer, valid ranges.
		{name: "semver x range", spec: Spec{SemverRange: "1.0.x"}},
		{name: "semver caret", spec: Spec{SemverRange: "^1.0"}},
		{name: "semver equal", spec: Spec{SemverRange: "=1.0.0"}},
		{name: "semver tilde", spec: Spec{SemverRange: "~1.0"}},
		{name: "semver open", spec: Spec{SemverRange: ">=1.0"}},
		{name: "semver and", spec: Spec{SemverRange: ">0,<2.0"}},
		{name: "semver space and", spec: Spec{SemverRange: ">=1.0 <2.0"}},
		{name: "semver or", spec: Spec{SemverRange: "1.1.x || 2.x"}},
		{name: "semver prerelease", spec: Spec{SemverRange: ">=1.0.0-0"}},
		// Flux semver_test.go TestNewSemVer, invalid ranges ("" is no policy here).
		{name: "semver trailing letter", spec: Spec{SemverRange: "1.0.0p"}, wantErr: `invalid semver range "1.0.0p"`},
		{name: "semver 1x", spec: Spec{SemverRange: "1x"}, wantErr: `invalid semver range "1x"`},
		{name: "semver x1", spec: Spec{SemverRange: "x1"}, wantErr: `invalid semver range "x1"`},
		{name: "semver negative", spec: Spec{SemverRange: "-1"}, wantErr: `invalid semver range "-1"`},
		{name: "semver word", spec: Spec{SemverRange: "a"}, wantErr: `invalid semver range "a"`},
		{name: "semver star prerelease", spec: Spec{SemverRange: "*-*"}, wantErr: `invalid semver range "*-*"`},
		// Flux alphabetical_test.go / numerical_test.go TestNew*.
		{name: "alphabetical asc", spec: Spec{Alphabetical: Ascending}},
		{name: "alphabetical desc upper", spec: Spec{Alphabetical: "DESC"}},
		{name: "alphabetical invalid", spec: Spec{Alphabetical: "invalid"}, wantErr: `invalid alphabetical order "invalid": must be one of asc, desc`},
		{name: "numerical asc upper", spec: Spec{Numerical: "ASC"}},
		{name: "numerical desc", spec: Spec{Numerical: Descending}},
		{name: "numerical invalid", spec: Spec{Numerical: "up"}, wantErr: `invalid numerical order "up"`},
		// Flux factory_test.go: an empty choice is invalid.
		{name: "no policy", spec: Spec{}, wantErr: "policy sets none of semver", noPol: true},
		{name: "filter only", spec: Spec{FilterPattern: ".*"}, wantErr: "policy sets none", noPol: true},
		{name: "semver wins over alphabetical", spec: Spec{SemverRange: "1.x", Alphabetical: "bogus"}},
		{name: "filter valid", spec: Spec{Alphabetical: Ascending, FilterPattern: `^main-(?P<ts>\d+)$`, FilterExtract: "$ts"}},
		{name: "filter invalid", spec: Spec{Alphabetical: Ascending, FilterPattern: `^main-(\d+`}, wantErr: "invalid filterTags pattern \"^main-(\\\\d+\": error parsing regexp"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := New(tt.spec)
			if tt.wantErr == "" {
				if err != nil || p == nil {
					t.Fatalf("New(%+v) = %v, %v; want a policer", tt.spec, p, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("New(%+v) error = %v; want it to contain %q", tt.spec, err, tt.wantErr)
			}
			if p != nil {
				t.Errorf("New returned a policer with its error")
			}
			if got := errors.Is(err, ErrNoPolicy); got != tt.noPol {
				t.Errorf("errors.Is(err, ErrNoPolicy) = %v, want %v", got, tt.noPol)
			}
		})
	}
}

// latestCase is one selection: the tags a registry lists and what the policy picks.
type latestCase struct {
	name    string
	spec    Spec
	tags    []string
	want    string
	noMatch bool   // want ErrNoMatch
	wantErr string // want another error containing this
}

func TestLatestSemver(t *testing.T) {
	runLatest(t, []latestCase{
		// Flux semver_test.go TestSemVer_Latest.
		{name: "valid format", spec: Spec{SemverRange: "1.0.x"}, tags: []string{"1.0.0", "1.0.0.1", "1.0.0p", "1.0.1", "1.2.0", "0.1.0"}, want: "1.0.1"},
		{name: "v prefix kept", spec: Spec{SemverRange: "1.0.x"}, tags: []string{"v1.2.3", "v1.0.0", "v0.1.0"}, want: "v1.0.0"},
		{name: "other prefix is no version", spec: Spec{SemverRange: "1.0.x"}, tags: []string{"b1.2.3", "b1.0.0", "b0.1.0"}, noMatch: true},
		{name: "empty list", spec: Spec{SemverRange: "1.0.x"}, tags: []string{}, noMatch: true},
		{name: "nothing in range", spec: Spec{SemverRange: "1.0.x"}, tags: []string{"1.2.0"}, noMatch: true},
		// The fixture's walk-through.
		{name: "seed before push", spec: Spec{SemverRange: "1.1.x"}, tags: []string{"1.0.0", "1.1.0"}, want: "1.1.0"},
		{name: "seed after push", spec: Spec{SemverRange: "1.1.x"}, tags: []string{"1.0.0", "1.1.0", "1.1.1"}, want: "1.1.1"},
		{name: "seed ignores 1.2.0 and 2.0.0", spec: Spec{SemverRange: "1.1.x"}, tags: []string{"1.0.0", "1.1.0", "1.1.1", "1.2.0", "2.0.0"}, want: "1.1.1"},
		{name: "seed after 1.1.1 deleted", spec: Spec{SemverRange: "1.1.x"}, tags: []string{"1.0.0", "1.1.0", "1.2.0"}, want: "1.1.0"},
		// Prereleases: only when the range has a prerelease part (Masterminds).
		{name: "prerelease excluded", spec: Spec{SemverRange: "1.0.x"}, tags: []string{"1.0.0", "1.0.1-rc.1"}, want: "1.0.0"},
		{name: "prerelease excluded from open range", spec: Spec{SemverRange: ">=1.0.0"}, tags: []string{"1.0.0", "2.0.0-alpha"}, want: "1.0.0"},
		{name: "prerelease range admits prereleases", spec: Spec{SemverRange: ">=1.0.0-0"}, tags: []string{"1.0.0", "1.0.1-rc.1"}, want: "1.0.1-rc.1"},
		{name: "prerelease ordering", spec: Spec{SemverRange: ">=1.0.0-0"}, tags: []string{"1.0.0-rc.2", "1.0.0-rc.10", "1.0.0-beta"}, want: "1.0.0-rc.10"},
		{name: "release beats its prerelease", spec: Spec{SemverRange: ">=1.0.0-0"}, tags: []string{"1.0.0-rc.1", "1.0.0"}, want: "1.0.0"},
		{name: "only prereleases, plain range", spec: Spec{SemverRange: "1.x"}, tags: []string{"1.0.0-rc.1", "1.1.0-beta"}, noMatch: true},
		// v prefixes, mixed.
		{name: "mixed v prefix", spec: Spec{SemverRange: ">=1.0.0"}, tags: []string{"v1.2.0", "1.10.0", "v1.9.9"}, want: "1.10.0"},
		{name: "double v is no version", spec: Spec{SemverRange: "*"}, tags: []string{"vv2.0.0", "1.0.0"}, want: "1.0.0"},
		{name: "v with prerelease", spec: Spec{SemverRange: ">=1.2.0-0"}, tags: []string{"v1.2.0-x.Y.0+metadata", "v1.1.0"}, want: "v1.2.0-x.Y.0+metadata"},
		// Forms Flux's parse rejects: not three parts, or not a version.
		{name: "other forms skipped", spec: Spec{SemverRange: "*"}, tags: []string{"v1.0", "v1", "v1.2.beta", "v1.2-5", "v1.2.3.4", "\nv1.2", "1.0.0p", "0.0.1"}, want: "0.0.1"},
		// Three parts are parsed loosely, as fluxcd/pkg/version does since
		// v0.5: zero-padded CalVer tags are versions.
		{name: "calver", spec: Spec{SemverRange: ">=2024.0.0"}, tags: []string{"2023.12.31", "2024.12.01", "v2025.07.03", "2025.06.30"}, want: "v2025.07.03"},
		{name: "calver in range", spec: Spec{SemverRange: "2024.x"}, tags: []string{"2024.12.01", "2024.02.15", "v2025.07.03"}, want: "2024.12.01"},
		{name: "zero-padded major", spec: Spec{SemverRange: "*"}, tags: []string{"01.2.3", "0.0.1"}, want: "01.2.3"},
		// Build metadata does not order versions; the tag breaks the tie.
		{name: "build metadata accepted", spec: Spec{SemverRange: "1.0.x"}, tags: []string{"1.0.0+build.7", "0.9.0"}, want: "1.0.0+build.7"},
		{name: "build metadata tie", spec: Spec{SemverRange: "1.0.x"}, tags: []string{"1.0.1+b", "1.0.1+a", "1.0.0"}, want: "1.0.1+b"},
		{name: "v and bare tie", spec: Spec{SemverRange: "1.0.x"}, tags: []string{"v1.0.1", "1.0.1"}, want: "v1.0.1"},
		{name: "hyphens in prerelease", spec: Spec{SemverRange: ">=1.2.3-0"}, tags: []string{"v1.2.3-rc1-with-hypen"}, want: "v1.2.3-rc1-with-hypen"},
		// Signature tags and other non-semver tags are skipped, not errors.
		{name: "non-semver skipped", spec: Spec{SemverRange: "^1"}, tags: []string{"latest", "sha256-abc.sig", "main-1a2b3c", "1.4.2"}, want: "1.4.2"},
		{name: "or range", spec: Spec{SemverRange: "1.1.x || 2.x"}, tags: []string{"1.1.3", "1.5.0", "2.3.0", "3.0.0"}, want: "2.3.0"},
	})
}

func TestLatestAlphabetical(t *testing.T) {
	calver := []string{"16.04", "16.04.1", "16.10", "20.04", "20.10"}
	names := []string{"xenial", "yakkety", "zesty", "artful", "bionic"}
	stamps := []string{"1606234201", "1606364286", "1606334092", "1606334284", "1606334201"}
	rfc3339 := []string{"2021-01-08T21-18-21Z", "2020-05-08T21-18-21Z", "2021-01-08T19-20-00Z", "1990-01-08T00-20-00Z", "2023-05-08T00-20-00Z"}
	runLatest(t, []latestCase{
		// Flux alphabetical_test.go TestAlphabetical_Latest.
		{name: "ubuntu calver", spec: Spec{Alphabetical: Ascending}, tags: calver, want: "20.10"},
		{name: "ubuntu calver desc", spec: Spec{Alphabetical: Descending}, tags: calver, want: "16.04"},
		{name: "ubuntu code names", spec: Spec{Alphabetical: "asc"}, tags: names, want: "zesty"},
		{name: "ubuntu code names desc", spec: Spec{Alphabetical: "DESC"}, tags: names, want: "artful"},
		{name: "timestamps", spec: Spec{Alphabetical: Ascending}, tags: stamps, want: "1606364286"},
		{name: "timestamps desc", spec: Spec{Alphabetical: Descending}, tags: stamps, want: "1606234201"},
		{name: "timestamps prefix", spec: Spec{Alphabetical: Ascending}, tags: prefixed("rel-", stamps), want: "rel-1606364286"},
		{name: "rfc3339", spec: Spec{Alphabetical: Ascending}, tags: rfc3339, want: "2023-05-08T00-20-00Z"},
		{name: "rfc3339 desc", spec: Spec{Alphabetical: Descending}, tags: rfc3339, want: "1990-01-08T00-20-00Z"},
		{name: "empty list", spec: Spec{Alphabetical: Ascending}, tags: nil, noMatch: true},
		// Byte order: upper case sorts before lower case, "10" before "9".
		{name: "byte order", spec: Spec{Alphabetical: Ascending}, tags: []string{"9", "10", "Zulu", "alpha"}, want: "alpha"},
		// filterTags with extract (Flux's documented main-<sha>-<ts> pattern).
		{name: "extract timestamp", spec: Spec{Alphabetical: Ascending, FilterPattern: `^main-[a-f0-9]+-(?P<ts>[0-9]+)`, FilterExtract: "$ts"},
			tags: []string{"main-fff-1606364286", "main-aaa-1606334092", "dev-zzz-1706364286", "latest"}, want: "main-fff-1606364286"},
		{name: "extract timestamp desc", spec: Spec{Alphabetical: Descending, FilterPattern: `^main-[a-f0-9]+-(?P<ts>[0-9]+)`, FilterExtract: "${ts}"},
			tags: []string{"main-fff-1606364286", "main-aaa-1606334092", "dev-zzz-1506364286"}, want: "main-aaa-1606334092"},
		{name: "filter without extract", spec: Spec{Alphabetical: Ascending, FilterPattern: "^ver"}, tags: []string{"ver1", "ver2", "ver3", "rel9"}, want: "ver3"},
		{name: "filter keeps none", spec: Spec{Alphabetical: Ascending, FilterPattern: "^ver"}, tags: []string{"rel1"}, noMatch: true},
		// Flux filter_test.go complex regexes.
		{name: "complex regex named group", spec: Spec{Alphabetical: Ascending, FilterPattern: `^(?P<tag>123-[0-9]+\.[0-9]+\.[a-z0-9]+$)`, FilterExtract: "$tag"},
			tags: []string{"123-123.123.abcd123-debug", "123-123.123.abcd123", "123-123.123.abcd456-debug", "123-123.123.abcd456"}, want: "123-123.123.abcd456"},
		{name: "complex regex debug only", spec: Spec{Alphabetical: Descending, FilterPattern: `^(123-[0-9]+\.[0-9]+\.[a-z0-9]+-debug)`},
			tags: []string{"123-123.123.abcd123-debug", "123-123.123.abcd123", "123-123.123.abcd456-debug", "123-123.123.abcd456"}, want: "123-123.123.abcd123-debug"},
		// Two tags extracting to one value: the greatest tag is returned.
		{name: "extract collision", spec: Spec{Alphabetical: Ascending, FilterPattern: `^(?:a|b)-(\d+)$`, FilterExtract: "$1"},
			tags: []string{"b-2", "a-2", "a-1"}, want: "b-2"},
	})
}

func TestLatestNumerical(t *testing.T) {
	runLatest(t, []latestCase{
		// Flux numerical_test.go TestNumerical_Latest.
		{name: "integers", spec: Spec{Numerical: Ascending}, tags: []string{"-62", "-88", "73", "72", "15", "16", "15", "29", "-33", "-91"}, want: "73"},
		{name: "integers desc", spec: Spec{Numerical: Descending}, tags: []string{"5", "-8", "-78", "25", "70", "-4", "80", "92", "-20", "-24"}, want: "-78"},
		{name: "floats", spec: Spec{Numerical: Ascending}, tags: []string{"47.40896403322944", "-27.8520927455902", "-27.930666514224427", "-31.352485948094568", "-50.41072694704882", "-21.962849842263736", "24.71884721436865", "-39.99177354004344", "53.47333823144817", "3.2008658570411086"}, want: "53.47333823144817"},
		{name: "floats desc", spec: Spec{Numerical: Descending}, tags: []string{"-65.27202780220686", "57.82948329142309", "22.40184684363291", "-86.36934305697784", "-90.29082099756083", "-12.041712603564264", "77.70488240399305", "-38.98425003883552", "16.06867070412028", "53.735674335181216"}, want: "-90.29082099756083"},
		{name: "timestamps", spec: Spec{Numerical: Ascending}, tags: []string{"1606234201", "1606364286", "1606334092", "1606334284", "1606334201"}, want: "1606364286"},
		{name: "timestamps desc", spec: Spec{Numerical: Descending}, tags: []string{"1606234201", "1606364286", "1606334092", "1606334284", "1606334201"}, want: "1606234201"},
		{name: "single", spec: Spec{Numerical: Ascending}, tags: []string{"1"}, want: "1"},
		{name: "single desc", spec: Spec{Numerical: Descending}, tags: []string{"1"}, want: "1"},
		{name: "not a number", spec: Spec{Numerical: Ascending}, tags: []string{"0", "1a", "b"}, wantErr: "is not a number"},
		{name: "empty list", spec: Spec{Numerical: Ascending}, tags: []string{}, noMatch: true},
		// Numeric, not string, order: 10 > 9.
		{name: "numeric not lexical", spec: Spec{Numerical: Ascending}, tags: []string{"9", "10", "2"}, want: "10"},
		// Equal values: the tag breaks the tie, whatever the listing order.
		{name: "equal values", spec: Spec{Numerical: Ascending}, tags: []string{"1.0", "1", "0.5"}, want: "1.0"},
		// filterTags with extract makes mixed tags usable.
		{name: "extract build number", spec: Spec{Numerical: Ascending, FilterPattern: `^build-(\d+)$`, FilterExtract: "$1"},
			tags: []string{"build-9", "build-10", "latest", "build-10.sig"}, want: "build-10"},
		{name: "extract build number desc", spec: Spec{Numerical: Descending, FilterPattern: `^build-(?P<n>\d+)$`, FilterExtract: "$n"},
			tags: []string{"build-9", "build-10", "latest"}, want: "build-9"},
		{name: "extract semver part", spec: Spec{SemverRange: ">=1.0.0", FilterPattern: `^app-(v?\d+\.\d+\.\d+)$`, FilterExtract: "$1"},
			tags: []string{"app-1.2.0", "app-v1.10.0", "other-9.9.9"}, want: "app-v1.10.0"},
	})
}

func runLatest(t *testing.T, tests []latestCase) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := New(tt.spec)
			if err != nil {
				t.Fatalf("New(%+v): %v", tt.spec, err)
			}
			// The choice must not depend on the registry's listing order.
			for i := range 5 {
				tags := slices.Clone(tt.tags)
				if i > 0 {
					rand.Shuffle(len(tags), func(a, b int) { tags[a], tags[b] = tags[b], tags[a] })
				}
				got, err := p.Latest(tags)
				checkLatest(t, tt, tags, got, err)
			}
		})
	}
}

func checkLatest(t *testing.T, tt latestCase, tags []string, got string, err error) {
	t.Helper()
	switch {
	case tt.noMatch:
		if !errors.Is(err, ErrNoMatch) {
			t.Fatalf("Latest(%q) = %q, %v; want ErrNoMatch", tags, got, err)
		}
	case tt.wantErr != "":
		if err == nil || !strings.Contains(err.Error(), tt.wantErr) || errors.Is(err, ErrNoMatch) {
			t.Fatalf("Latest(%q) = %q, %v; want an error containing %q", tags, got, err, tt.wantErr)
		}
	case err != nil:
		t.Fatalf("Latest(%q): %v", tags, err)
	case got != tt.want:
		t.Fatalf("Latest(%q) = %q, want %q", tags, got, tt.want)
	}
}

func prefixed(prefix string, tags []string) []string {
	out := make([]string, len(tags))
	for i, t := range tags {
		out[i] = prefix + t
	}
	return out
}
