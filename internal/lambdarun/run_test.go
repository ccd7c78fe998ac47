package lambdarun

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

type greeting struct {
	Name string `json:"name"`
}

func greet(_ context.Context, g greeting) (map[string]string, error) {
	if g.Name == "" {
		return nil, errors.New("event has no name")
	}
	return map[string]string{"hello": g.Name}, nil
}

func TestRunLocal(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := write("good.json", `{"name":"sluice"}`)
	tests := []struct {
		name     string
		args     []string
		stdin    string
		wantCode int
		wantOut  string
	}{
		{name: "event file", args: []string{good}, wantCode: 0, wantOut: `{"hello":"sluice"}` + "\n"},
		{name: "stdin", stdin: `{"name":"stdin"}`, wantCode: 0, wantOut: `{"hello":"stdin"}` + "\n"},
		{name: "dash is stdin", args: []string{"-"}, stdin: `{"name":"dash"}`, wantCode: 0, wantOut: `{"hello":"dash"}` + "\n"},
		{name: "malformed", args: []string{write("bad.json", `{"name":`)}, wantCode: 1},
		{name: "handler error", args: []string{write("empty.json", `{}`)}, wantCode: 1},
		{name: "missing file", args: []string{filepath.Join(dir, "nope.json")}, wantCode: 2},
		{name: "too many args", args: []string{good, good}, wantCode: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			code := RunLocal(context.Background(), greet, tt.args, strings.NewReader(tt.stdin), &out)
			if code != tt.wantCode {
				t.Fatalf("exit code = %d, want %d (stdout %q)", code, tt.wantCode, out.String())
			}
			if out.String() != tt.wantOut {
				t.Errorf("stdout = %q, want %q", out.String(), tt.wantOut)
			}
		})
	}
}

func TestLogHandler(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(NewLogHandler(&buf, "JSON", "warn"))
	log.Info("dropped")
	log.Warn("kept", "k", "v")
	var rec map[string]any
	if err := json.Unmarshal(buf.Bytes(), &rec); err != nil {
		t.Fatalf("log line is not one JSON object: %q: %v", buf.String(), err)
	}
	if rec["msg"] != "kept" || rec["k"] != "v" {
		t.Errorf("record = %v", rec)
	}
	buf.Reset()
	slog.New(NewLogHandler(&buf, "", "")).Info("text line")
	if !strings.Contains(buf.String(), "msg=\"text line\"") {
		t.Errorf("text log = %q", buf.String())
	}
}
