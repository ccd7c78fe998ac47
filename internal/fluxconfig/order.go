package fluxconfig

import (
	"fmt"
	"sort"
	"strings"
)

// Levels orders Kustomizations by dependsOn: every Kustomization of a level
// depends only on those of earlier levels, so a level's members can be
// applied concurrently. A Kustomization that cannot be ordered (it depends on
// one that is not defined, is part of a cycle, or depends on such a one) is
// left out of the levels and returned in blocked with the reason: it alone
// waits, and every other Kustomization goes on, as in Flux.
func Levels(ks []Kustomization) (levels [][]Kustomization, blocked map[Ref]string) {
	defined := make(map[Ref]bool, len(ks))
	for _, k := range ks {
		defined[k.Ref] = true
	}
	blocked = map[Ref]string{}
	for _, k := range ks {
		for _, d := range k.DependsOn {
			if !defined[d] {
				blocked[k.Ref] = fmt.Sprintf("dependency %s is not defined", d)
				break
			}
		}
	}
	placed := map[Ref]bool{}
	for {
		var level []Kustomization
		progress := false
		for _, k := range ks {
			if placed[k.Ref] || blocked[k.Ref] != "" {
				continue
			}
			ready := true
			for _, d := range k.DependsOn {
				if blocked[d] != "" {
					blocked[k.Ref] = fmt.Sprintf("dependency %s is blocked (%s)", d, blocked[d])
					progress = true
					ready = false
					break
				}
				ready = ready && placed[d]
			}
			if ready {
				level = append(level, k)
			}
		}
		if len(level) == 0 && !progress {
			break
		}
		sort.Slice(level, func(i, j int) bool { return level[i].Ref.String() < level[j].Ref.String() })
		for _, k := range level {
			placed[k.Ref] = true
		}
		if len(level) > 0 {
			levels = append(levels, level)
		}
	}
	done := map[Ref]bool{}
	for r := range placed {
		done[r] = true
	}
	for r := range blocked {
		done[r] = true
	}
	if len(done) < len(ks) {
		reason := "dependencies form a cycle: " + strings.Join(cycle(ks, done), " → ")
		for _, k := range ks {
			if !done[k.Ref] {
				blocked[k.Ref] = reason
			}
		}
	}
	return levels, blocked
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
