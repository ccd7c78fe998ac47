package render_test

import (
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// fixtureRoot is the fixture config repository, used in place: Build must
// not modify it (TestBuildLeavesTreeUnchanged checks that on a copy).
const fixtureRoot = "../../examples/task-tool-cluster-config"

// fixtureProd is the 9 objects the fixture's prod overlay yields, in the
// order kubectl kustomize prints them (fixtures/README.md lists them).
var fixtureProd = []string{
	"ConfigMap/prod/prod-task-reporter-config-fgmgm275tm",
	"ConfigMap/prod/prod-task-service-config-hb5m86c942",
	"Service/prod/prod-task-service",
	"Service/prod/prod-task-web",
	"Deployment/prod/prod-task-service",
	"Deployment/prod/prod-task-web",
	"CronJob/prod/prod-task-reporter",
	"Issuer/prod/prod-letsencrypt-issuer",
	"Ingress/prod/prod-app-ingress",
}

// writeTree writes files (path → content) into a new temporary folder.
func writeTree(t testing.TB, files map[string]string) string {
	t.Helper()
	root := t.TempDir()
	for name, content := range files {
		p := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

// copyTree copies the folder src into a new temporary folder.
func copyTree(t testing.TB, src string) string {
	t.Helper()
	dst := t.TempDir()
	err := filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), data, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	return dst
}

// snapshot lists every file and folder under root with a hash of its
// content, to tell whether a build changed the tree.
func snapshot(t testing.TB, root string) []string {
	t.Helper()
	var entries []string
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		if d.IsDir() {
			entries = append(entries, rel+"/")
			return nil
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(data)
		entries = append(entries, rel+" "+hex.EncodeToString(sum[:8]))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(entries)
	return entries
}

// ids names objects as Kind/namespace/name.
func ids(objects []*unstructured.Unstructured) []string {
	out := make([]string, 0, len(objects))
	for _, o := range objects {
		out = append(out, o.GetKind()+"/"+o.GetNamespace()+"/"+o.GetName())
	}
	return out
}

// byID finds the object named Kind/namespace/name.
func byID(objects []*unstructured.Unstructured, id string) *unstructured.Unstructured {
	for _, o := range objects {
		if o.GetKind()+"/"+o.GetNamespace()+"/"+o.GetName() == id {
			return o
		}
	}
	return nil
}

// field is one expected value in a built object: the object's id, a
// dot-separated path in it (a number indexes a list), and the value.
type field struct {
	id, path string
	want     any
}

// lookup returns the value at a dot-separated path, or "<missing>".
func lookup(obj *unstructured.Unstructured, path string) any {
	if obj == nil {
		return "<no such object>"
	}
	var cur any = obj.Object
	for _, key := range strings.Split(path, ".") {
		switch c := cur.(type) {
		case map[string]any:
			v, ok := c[key]
			if !ok {
				return "<missing>"
			}
			cur = v
		case []any:
			i := 0
			for _, r := range key {
				if r < '0' || r > '9' {
					return "<missing>"
				}
				i = i*10 + int(r-'0')
			}
			if i >= len(c) {
				return "<missing>"
			}
			cur = c[i]
		default:
			return "<missing>"
		}
	}
	return cur
}
