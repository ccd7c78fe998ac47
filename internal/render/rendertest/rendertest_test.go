package rendertest_test

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/sluice-gitops/sluice/internal/render/rendertest"
)

func TestGenerateOverlay(t *testing.T) {
	tests := []struct {
		name      string
		n         int
		wantNames map[string]int // file → number of objects in it
		wantErr   string
	}{
		{"zero objects", 0, map[string]int{"configmaps.yaml": 0, "deployments.yaml": 0, "services.yaml": 0}, ""},
		{"seven objects", 7, map[string]int{"configmaps.yaml": 3, "deployments.yaml": 2, "services.yaml": 2}, ""},
		{"negative", -1, nil, "must not be negative"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			err := rendertest.GenerateOverlay(dir, tt.n)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("want an error containing %q, got %v", tt.wantErr, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]int{}
			for name := range tt.wantNames {
				data, err := os.ReadFile(filepath.Join(dir, "base", name))
				if err != nil {
					t.Fatal(err)
				}
				got[name] = strings.Count(string(data), "\nkind: ")
			}
			if diff := cmp.Diff(tt.wantNames, got); diff != "" {
				t.Errorf("objects per file (-want +got):\n%s", diff)
			}
			entries, err := os.ReadDir(filepath.Join(dir, rendertest.OverlayPath))
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, e := range entries {
				names = append(names, e.Name())
			}
			sort.Strings(names)
			if diff := cmp.Diff([]string{"annotations.patch.yml", "kustomization.yaml", "replicas.patch.yaml"}, names); diff != "" {
				t.Errorf("overlay files (-want +got):\n%s", diff)
			}
		})
	}
}
