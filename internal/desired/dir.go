package desired

import (
	"context"
	"fmt"
)

// Dir is the working tree of the snapshot: the branch head as Git holds it,
// or the local folder OpenDir read. Callers read it; writing into it would
// change what Render builds.
func (s *Snapshot) Dir() string { return s.dir }

// OpenDir reads the Flux objects of repo's config folder from dir, a local
// checkout of the config repository (a pull request's, say), so that Render
// builds what the reconcile function would apply from it. Its Revision is
// empty: the folder may hold changes no commit has. Close leaves dir alone.
func OpenDir(ctx context.Context, dir string, repo Repository, opts ...Option) (*Snapshot, error) {
	cfg, err := readConfig(ctx, dir, repo.ConfigPath)
	if err != nil {
		return nil, fmt.Errorf("reading Flux objects from %s in %s: %w", repo.ConfigPath, dir, err)
	}
	snap := &Snapshot{Repository: repo, Config: cfg, dir: dir}
	for _, o := range opts {
		o(snap)
	}
	return snap, nil
}
