package repoid

import (
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	tests := []struct {
		name, in, want string
		wantErr        bool
	}{
		{name: "https", in: "https://github.com/o/r", want: "github.com/o/r"},
		{name: "https .git and slash", in: "https://github.com/O/R.git/", want: "github.com/o/r"},
		{name: "ssh", in: "ssh://git@github.com/mamezou-tech/task-tool-cluster-config", want: "github.com/mamezou-tech/task-tool-cluster-config"},
		{name: "ssh default port", in: "ssh://git@github.com:22/o/r.git", want: "github.com/o/r"},
		{name: "scp form", in: "git@github.com:o/r.git", want: "github.com/o/r"},
		{name: "git protocol", in: "git://github.com/o/r.git", want: "github.com/o/r"},
		{name: "https user and token", in: "https://x-access-token:secret@github.com/o/r", want: "github.com/o/r"},
		{name: "other port kept", in: "http://127.0.0.1:8080/task-tool.git", want: "127.0.0.1:8080/task-tool"},
		{name: "file", in: "file:///tmp/Repos/r.git", want: "tmp/repos/r"},
		{name: "empty", in: "", wantErr: true},
		{name: "no path", in: "https://github.com/", wantErr: true},
		{name: "unknown scheme", in: "ftp://h/o/r", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse(tt.in)
			if (err != nil) != tt.wantErr {
				t.Fatalf("Parse(%q) error = %v, wantErr %v", tt.in, err, tt.wantErr)
			}
			if got != tt.want {
				t.Errorf("Parse(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestSame(t *testing.T) {
	forms := []string{"ssh://git@github.com/o/r", "git@github.com:o/r.git", "https://github.com/o/r", "https://GitHub.com/o/r.git"}
	for _, a := range forms {
		for _, b := range forms {
			if !Same(a, b) {
				t.Errorf("Same(%q, %q) = false", a, b)
			}
		}
	}
	if Same("https://github.com/o/r", "https://github.com/o/r2") {
		t.Error("different repositories reported the same")
	}
	if Same("", "") {
		t.Error("empty URLs reported the same repository")
	}
}

func TestRedact(t *testing.T) {
	tests := []struct{ in, want string }{
		{"https://x-access-token:s3cret@github.com/o/r", "https://***@github.com/o/r"},
		{"https://s3cret@github.com/o/r.git", "https://***@github.com/o/r.git"},
		{"http://u:s3cret@127.0.0.1:8080/r?x=1", "http://***@127.0.0.1:8080/r?x=1"},
		{"https://u:p@ss@host/r", "https://***@host/r"},
		{"ssh://git@github.com/o/r", "ssh://git@github.com/o/r"},
		{"ssh://deploy:s3cret@host:2222/r", "ssh://deploy:***@host:2222/r"},
		{"git@github.com:o/r.git", "git@github.com:o/r.git"},
		{"https://github.com/o/r@v1", "https://github.com/o/r@v1"},
		{"https://u:s3cret@host:bad port/r", "https://***@host:bad port/r"},
	}
	for _, tt := range tests {
		if got := Redact(tt.in); got != tt.want {
			t.Errorf("Redact(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestParseErrorsHideCredentials: a URL refused for any reason is named in
// the error without the token written into it.
func TestParseErrorsHideCredentials(t *testing.T) {
	for _, in := range []string{
		"ftp://u:s3cret@example.com/r",     // unsupported scheme
		"https://u:s3cret@host:bad port/r", // does not parse
		"https://u:s3cret@github.com/",     // no path
		"https://s3cret@github.com",        // no path, token as user
		"http://u:s3cret@/r",               // no host
		"https://u:s3cret@h/r\x00\x7f%zz",  // bad escape
	} {
		_, err := Parse(in)
		if err == nil {
			t.Errorf("Parse(%q) accepted it", in)
			continue
		}
		if strings.Contains(err.Error(), "s3cret") {
			t.Errorf("Parse(%q) error shows the credential: %v", in, err)
		}
	}
}
