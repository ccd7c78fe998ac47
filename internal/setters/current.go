package setters

import (
	"io/fs"
	"strings"

	yaml "go.yaml.in/yaml/v3"
)

// Current returns, for each policy ("<ns>/<name>") whose markers in fsys
// all agree, the image they hold now: the parts its full-image, :name,
// :tag and :digest markers set (a part no marker holds is empty). A policy
// whose markers disagree, or whose full-image marker holds no reference, is
// left out. It reads the files Update would, and writes nothing; a file that
// does not parse is passed over, as Update skips it.
//
// It is the state an ImagePolicy with digestReflectionPolicy IfNotPresent
// keeps: Flux keeps the digest in the policy's status while the tag stays,
// and Sluice, which has no status, keeps the digest Git holds.
func Current(fsys fs.FS) (map[string]Image, error) {
	seen := map[string]Image{}
	conflict := map[string]bool{}
	held := map[string]bool{} // key + "/" + part: a marker set it
	set := func(key, which string, part *string, v string) {
		switch {
		case !held[key+"/"+which]:
			held[key+"/"+which] = true
			*part = v
		case *part != v:
			conflict[key] = true
		}
	}
	err := walkMarked(fsys, func(_ string, src []byte) error {
		docs, err := parse(src)
		if err != nil {
			return nil
		}
		for _, obj := range objects(docs) {
			walk(obj.node, func(n *yaml.Node) {
				marker := markerName(n)
				ns, rest, ok := strings.Cut(marker, ":")
				if !ok || ns == "" {
					return
				}
				pname, part, _ := strings.Cut(rest, ":")
				key := ns + "/" + pname
				img := seen[key]
				switch part {
				case "":
					full, err := ParseImage(n.Value)
					if err != nil {
						conflict[key] = true
						return
					}
					set(key, "name", &img.Name, full.Name)
					set(key, "tag", &img.Tag, full.Tag)
					set(key, "digest", &img.Digest, full.Digest)
				case "name":
					set(key, "name", &img.Name, n.Value)
				case "tag":
					set(key, "tag", &img.Tag, n.Value)
				case "digest":
					set(key, "digest", &img.Digest, n.Value)
				default:
					return
				}
				seen[key] = img
			})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for key := range conflict {
		delete(seen, key)
	}
	return seen, nil
}
