package setters

import (
	"testing"
	"testing/fstest"

	yaml "go.yaml.in/yaml/v3"
)

// FuzzUpdate runs Update on arbitrary files and tags: it must not panic; a
// file it writes must parse, hold the new value at every marker of the policy,
// and need no change when updated again.
func FuzzUpdate(f *testing.F) {
	f.Add("image: app:1 # {\"$imagepolicy\": \"ns:p\"}\n", "2.0.0")
	f.Add("images:\n- name: x\n  newTag: \"1.0\" # {\"$imagepolicy\": \"ns:p:tag\"}\n  newName: 'x' # {\"$imagepolicy\": \"ns:p:name\"}\n", "1.10")
	f.Add("a: {b: c:1} # {\"$imagepolicy\": \"ns:p\"}\n---\nd:\n  # {\"$imagepolicy\": \"ns:p:tag\"}\n  - !!str &x e\n", "yes")
	f.Add("k: >\n  v # {\"$imagepolicy\": \"ns:p\"}\n", "it's")
	f.Add("x: [a, b # {\"$imagepolicy\": \"ns:p:tag\"}\n  ]\n", "a,b")
	f.Fuzz(func(t *testing.T, src, tag string) {
		img := Image{Name: "reg.example/app", Tag: tag}
		if img.validate() != nil {
			return
		}
		fsys := &memFS{MapFS: fstest.MapFS{"f.yaml": {Data: []byte(src)}}}
		images := map[string]Image{"ns/p": img}
		res, err := Update(fsys, images)
		if err != nil {
			t.Fatalf("Update: %v", err)
		}
		if len(fsys.writes) == 0 {
			return
		}
		out := fsys.MapFS["f.yaml"].Data
		docs, err := parse(out)
		if err != nil {
			t.Fatalf("written file does not parse: %v\n%s", err, out)
		}
		table, _ := setterTable(images)
		for _, d := range docs {
			walk(d, func(n *yaml.Node) {
				if s, ok := table[markerName(n)]; ok && n.Value != s.value {
					t.Fatalf("marker %q holds %q after update, want %q\n%s", markerName(n), n.Value, s.value, out)
				}
			})
		}
		again, err := Update(fsys, images)
		if err != nil || len(again.FileChanges) != 0 || len(res.FileChanges) != 1 {
			t.Fatalf("second Update = %v, %v after %v", again, err, res)
		}
	})
}
