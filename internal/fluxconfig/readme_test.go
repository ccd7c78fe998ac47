package fluxconfig

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the README's field table from specFields")

const (
	tableBegin = "<!-- fields:begin (go test ./internal/fluxconfig -run TestReadmeListsEveryField -update) -->"
	tableEnd   = "<!-- fields:end -->"
)

// fieldTable is the README's table of how Sluice reads each Flux field.
func fieldTable() string {
	kinds := make([]string, 0, len(specFields))
	for k := range specFields {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	var b strings.Builder
	b.WriteString("| kind | used | obsolete by design (info) | not supported yet (warning) | refused (the object fails alone) |\n| --- | --- | --- | --- | --- |\n")
	for _, kind := range kinds {
		cols := map[use][]string{}
		for f, rule := range specFields[kind] {
			cols[rule.use] = append(cols[rule.use], "`"+f+"`")
		}
		fmt.Fprintf(&b, "| %s |", kind)
		for _, u := range []use{used, obsolete, unsupported, refused} {
			sort.Strings(cols[u])
			fmt.Fprintf(&b, " %s |", strings.Join(cols[u], ", "))
		}
		b.WriteString("\n")
	}
	return b.String()
}

// The README's field table is the classification the code applies.
func TestReadmeListsEveryField(t *testing.T) {
	path := filepath.Join("..", "..", "README.md")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	readme := string(b)
	begin, end := strings.Index(readme, tableBegin), strings.Index(readme, tableEnd)
	if begin < 0 || end < begin {
		t.Fatalf("README.md has no field table between %q and %q", tableBegin, tableEnd)
	}
	got, want := readme[begin+len(tableBegin)+1:end], fieldTable()
	if got == want {
		return
	}
	if *update {
		if err := os.WriteFile(path, []byte(readme[:begin+len(tableBegin)+1]+want+readme[end:]), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Errorf("README.md's field table is not what the code does; run with -update. Want:\n%s", want)
}
