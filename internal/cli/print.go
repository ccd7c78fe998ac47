package cli

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"sigs.k8s.io/yaml"
)

// table is what a `get` prints: columns in Flux's order and words, rows of
// plain text.
type table struct {
	headers []string
	rows    [][]string
}

func (t *table) add(cells ...string) { t.rows = append(t.rows, cells) }

// print writes items as --output asks: t as an aligned table (Flux's
// layout: upper-case headers, columns three spaces apart), or items
// themselves as JSON or YAML for scripts.
func (a *App) print(items any, t table) error {
	switch a.Output {
	case "json":
		b, err := json.MarshalIndent(items, "", "  ")
		if err != nil {
			return fmt.Errorf("encoding JSON: %w", err)
		}
		_, err = fmt.Fprintf(a.Out, "%s\n", b)
		return err
	case "yaml":
		b, err := yaml.Marshal(items)
		if err != nil {
			return fmt.Errorf("encoding YAML: %w", err)
		}
		_, err = a.Out.Write(b)
		return err
	}
	w := tabwriter.NewWriter(a.Out, 0, 0, 3, ' ', 0)
	fmt.Fprintln(w, strings.Join(t.headers, "\t"))
	for _, r := range t.rows {
		fmt.Fprintln(w, strings.Join(r, "\t"))
	}
	return w.Flush()
}

// nonNil makes an empty listing print as [] rather than null.
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// sortByNamespaceName sorts items as Flux lists objects.
func sortByNamespaceName[T any](items []T, key func(T) (string, string)) {
	sort.SliceStable(items, func(i, j int) bool {
		ni, mi := key(items[i])
		nj, mj := key(items[j])
		if ni != nj {
			return ni < nj
		}
		return mi < mj
	})
}

// timeString writes a recorded time as RFC 3339, or nothing when unknown.
func timeString(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// title writes a boolean as Flux's tables do: True, False.
func title(b bool) string {
	if b {
		return "True"
	}
	return "False"
}
