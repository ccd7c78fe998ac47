package policy

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestExclusions(t *testing.T) {
	tags := []string{"1.0.0", "sha256-abcd.sig", "1.1.0", "6.7.1", "1.1.0.att", "latest"}
	tests := []struct {
		name     string
		patterns []string
		want     []string
		wantErr  string
	}{
		{name: "default drops signatures", patterns: nil, want: []string{"1.0.0", "1.1.0", "6.7.1", "1.1.0.att", "latest"}},
		{name: "empty list is the default", patterns: []string{}, want: []string{"1.0.0", "1.1.0", "6.7.1", "1.1.0.att", "latest"}},
		// A list replaces the default, so signatures come back (Flux's GetExclusionList).
		{name: "list replaces default", patterns: []string{`^6\.7\.1$`}, want: []string{"1.0.0", "sha256-abcd.sig", "1.1.0", "1.1.0.att", "latest"}},
		{name: "several patterns", patterns: []string{`^.*\.sig$`, `^.*\.att$`, `^latest$`}, want: []string{"1.0.0", "1.1.0", "6.7.1"}},
		{name: "invalid pattern", patterns: []string{`^(`}, wantErr: `invalid exclusionList pattern "^("`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := NewExclusions(tt.patterns)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("NewExclusions(%q) error = %v, want %q", tt.patterns, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, e.Apply(tags)); diff != "" {
				t.Errorf("Apply (-want +got):\n%s", diff)
			}
		})
	}
}
