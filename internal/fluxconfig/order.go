package fluxconfig

import (
	"fmt"
	"sort"
	"strings"
)

// Levels orders Kustomizations by dependsOn: every Kustomization of a level
// depends only on those of earlier levels, so a level's members can be
// applied concurrently. A dependency on a Kustomization not in ks, or a
// cycle, is an error naming them.
func Levels(ks []Kustomization) ([][]Kustomization, error) {
	byRef := make(map[Ref]Kustomization, len(ks))
	for _, k := range ks {
		byRef[k.Ref] = k
	}
	for _, k := range ks {
		for _, d := range k.DependsOn {
			if _, ok := byRef[d]; !ok {
				return nil, fmt.Errorf("Kustomization %s depends on %s, which is not defined", k.Ref, d)
			}
		}
	}
	done := map[Ref]bool{}
	var levels [][]Kustomization
	for len(done) < len(ks) {
		var level []Kustomization
		for _, k := range ks {
			if done[k.Ref] {
				continue
			}
			ready := true
			for _, d := range k.DependsOn {
				ready = ready && done[d]
			}
			if ready {
				level = append(level, k)
			}
		}
		if len(level) == 0 {
			return nil, fmt.Errorf("Kustomizations depend on each other in a cycle: %s", strings.Join(cycle(ks, done), " → "))
		}
		sort.Slice(level, func(i, j int) bool { return level[i].Ref.String() < level[j].Ref.String() })
		for _, k := range level {
			done[k.Ref] = true
		}
		levels = append(levels, level)
	}
	return levels, nil
}

// cycle finds one dependency cycle among the Kustomizations not yet done.
func cycle(ks []Kustomization, done map[Ref]bool) []string {
	deps := map[Ref][]Ref{}
	var start Ref
	for _, k := range ks {
		if !done[k.Ref] {
			deps[k.Ref] = k.DependsOn
			if start == (Ref{}) || k.Ref.String() < start.String() {
				start = k.Ref
			}
		}
	}
	// Every remaining node has an undone dependency, so walking them must
	// revisit a node; the path from its first visit is the cycle.
	seenAt := map[Ref]int{}
	var path []Ref
	for cur := start; ; {
		if i, ok := seenAt[cur]; ok {
			names := make([]string, 0, len(path)-i+1)
			for _, r := range path[i:] {
				names = append(names, r.String())
			}
			return append(names, cur.String())
		}
		seenAt[cur] = len(path)
		path = append(path, cur)
		for _, d := range deps[cur] {
			if !done[d] {
				cur = d
				break
			}
		}
	}
}
