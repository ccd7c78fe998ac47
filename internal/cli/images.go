package cli

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/sluice-gitops/sluice/internal/configrepo"
	"github.com/sluice-gitops/sluice/internal/fluxconfig"
	"github.com/sluice-gitops/sluice/internal/gitrepo"
	"github.com/sluice-gitops/sluice/internal/images"
)

// historyDepth is how many commits of an automation's push branch are read
// to find its last commit.
const historyDepth = 100

// now is the clock of LAST SCAN (tests fix it).
var now = time.Now

// ImageRepositoryStatus is a row of `sluice get images repository`: the
// ImageRepository's tags in ECR now.
type ImageRepositoryStatus struct {
	Name      string    `json:"name"`
	Namespace string    `json:"namespace"`
	Image     string    `json:"image"`
	LastScan  time.Time `json:"lastScan"`
	Tags      int       `json:"tags"`
	Suspended bool      `json:"suspended"`
	Ready     bool      `json:"ready"`
	Message   string    `json:"message"`
}

// ImagePolicyStatus is a row of `sluice get images policy`: the image the
// policy selects from ECR now, with the image-update function's code.
type ImagePolicyStatus struct {
	Name        string `json:"name"`
	Namespace   string `json:"namespace"`
	LatestImage string `json:"latestImage,omitempty"`
	Ready       bool   `json:"ready"`
	Message     string `json:"message"`
}

// ImageUpdateStatus is a row of `sluice get images update`: the last
// commit the automation made on its push branch.
type ImageUpdateStatus struct {
	Name       string     `json:"name"`
	Namespace  string     `json:"namespace"`
	PushBranch string     `json:"pushBranch,omitempty"`
	LastRun    *time.Time `json:"lastRun,omitempty"`
	LastCommit string     `json:"lastCommit,omitempty"`
	Suspended  bool       `json:"suspended"`
	Ready      bool       `json:"ready"`
	Message    string     `json:"message"`
}

// imageStatus computes the image tables from the config branch's head,
// ECR and Git history.
type imageStatus struct {
	app      *App
	repo     configrepo.Repository
	git      *gitrepo.Repo
	cfg      *fluxconfig.Config
	resolver *images.Resolver
	// prefix names rows Kind/name, as `get images all` does.
	prefix bool
}

func newGetImagesCmd(app *App) *cobra.Command {
	cmd := &cobra.Command{
		Use:     "images",
		Aliases: []string{"image"},
		Short:   "Show the image automation's state, computed now from ECR and Git",
	}
	kinds := []struct {
		use     string
		aliases []string
		short   string
		print   func(*imageStatus) func(context.Context) error
	}{
		{"repository", []string{"repositories", "repo"}, "The tags each ImageRepository holds in ECR now",
			func(s *imageStatus) func(context.Context) error { return s.printRepositories }},
		{"policy", []string{"policies"}, "The image each ImagePolicy selects from ECR now",
			func(s *imageStatus) func(context.Context) error { return s.printPolicies }},
		{"update", []string{"updates"}, "The last commit of each ImageUpdateAutomation on its push branch",
			func(s *imageStatus) func(context.Context) error { return s.printUpdates }},
		{"all", nil, "All three tables",
			func(s *imageStatus) func(context.Context) error { return s.printAll }},
	}
	for _, k := range kinds {
		cmd.AddCommand(&cobra.Command{
			Use: k.use, Aliases: k.aliases, Short: k.short, Args: cobra.NoArgs,
			RunE: func(cmd *cobra.Command, _ []string) error {
				ctx := cmd.Context()
				s, err := app.imageStatus(ctx)
				if err != nil {
					return err
				}
				return k.print(s)(ctx)
			},
		})
	}
	return cmd
}

func (a *App) imageStatus(ctx context.Context) (*imageStatus, error) {
	repo, git, snap, err := a.configSnapshot(ctx)
	if err != nil {
		return nil, err
	}
	defer snap.Close()
	for _, e := range snap.Config.ImageErrors {
		// An image object that cannot be read has no row: say so.
		fmt.Fprintln(a.Err, "✗", e)
	}
	awsCfg, err := a.AWS(ctx)
	if err != nil {
		return nil, err
	}
	return &imageStatus{app: a, repo: repo, git: git, cfg: snap.Config, resolver: images.NewResolver(images.ECRClients(awsCfg))}, nil
}

func (s *imageStatus) selected(ref fluxconfig.Ref) bool {
	return s.app.AllNamespaces || ref.Namespace == s.app.Namespace
}

// Repositories lists the ImageRepositories with their tags in ECR now.
func (s *imageStatus) Repositories(ctx context.Context) []ImageRepositoryStatus {
	var out []ImageRepositoryStatus
	for _, r := range s.cfg.ImageRepositories {
		if !s.selected(r.Ref) {
			continue
		}
		row := ImageRepositoryStatus{Name: r.Name, Namespace: r.Namespace, Image: r.Image, Suspended: r.Suspend, LastScan: now().UTC()}
		tags, err := s.resolver.Scan(ctx, r)
		if err != nil {
			row.Message = err.Error()
		} else {
			row.Ready, row.Tags = true, len(tags)
			row.Message = fmt.Sprintf("successful scan: found %d tags", len(tags))
		}
		out = append(out, row)
	}
	return out
}

// Policies lists the ImagePolicies with the image each selects now.
func (s *imageStatus) Policies(ctx context.Context) []ImagePolicyStatus {
	var out []ImagePolicyStatus
	for _, p := range s.cfg.ImagePolicies {
		if !s.selected(p.Ref) {
			continue
		}
		row := ImagePolicyStatus{Name: p.Name, Namespace: p.Namespace}
		img, skipped, err := s.resolver.Policy(ctx, s.cfg, p)
		switch {
		case err != nil:
			row.Message = err.Error()
		case skipped != "":
			row.Message = skipped
		default:
			row.Ready = true
			row.LatestImage = img.Name + ":" + img.Tag
			row.Message = fmt.Sprintf("Latest image tag for '%s' resolved to %s", img.Name, img.Tag)
		}
		out = append(out, row)
	}
	return out
}

// Updates lists the ImageUpdateAutomations with their last commit.
func (s *imageStatus) Updates(ctx context.Context) []ImageUpdateStatus {
	var out []ImageUpdateStatus
	for _, a := range s.cfg.ImageUpdateAutomations {
		if !s.selected(a.Ref) {
			continue
		}
		row := ImageUpdateStatus{Name: a.Name, Namespace: a.Namespace, Suspended: a.Suspend}
		// Resolved alone and as if resumed, so that its own error (or a
		// suspended one's last commit) shows on its row.
		one := *s.cfg
		a.Suspend = false
		one.ImageUpdateAutomations = []fluxconfig.ImageUpdateAutomation{a}
		usable, err := images.Automations(ctx, &one, s.repo.URL, s.repo.Branch)
		switch {
		case err != nil:
			row.Message = err.Error()
		case len(usable) == 0:
			row.Message = fmt.Sprintf("not run by this installation: it does not update branch %s of %s", s.repo.Branch, s.repo.ID())
		default:
			row.PushBranch = usable[0].PushBranch
			s.lastRun(ctx, usable[0], &row)
		}
		out = append(out, row)
	}
	return out
}

// lastRun fills row with the automation's last commit on its push branch:
// the newest one by its commit author.
func (s *imageStatus) lastRun(ctx context.Context, a images.Automation, row *ImageUpdateStatus) {
	log, err := s.git.Log(ctx, a.PushBranch, historyDepth)
	if err != nil {
		row.Message = err.Error()
		return
	}
	row.Ready = true
	for _, c := range log {
		if c.AuthorName == a.AuthorName && c.AuthorEmail == a.AuthorEmail {
			when := c.When.UTC()
			row.LastRun, row.LastCommit = &when, c.Hash
			subject, _, _ := strings.Cut(strings.TrimSpace(c.Message), "\n")
			row.Message = fmt.Sprintf("last commit %s to %s: %s", c.Hash[:7], a.PushBranch, subject)
			return
		}
	}
	row.Message = fmt.Sprintf("no commit by %s <%s> in the last %d commits of %s", a.AuthorName, a.AuthorEmail, len(log), a.PushBranch)
}

func (s *imageStatus) listRepositories(ctx context.Context, _ string, named bool) (listing, error) {
	rows := s.Repositories(ctx)
	t := s.app.newTable("NAME", "LAST SCAN", "SUSPENDED", "READY", "MESSAGE")
	for _, r := range rows {
		scan := ""
		if r.Ready {
			scan = r.LastScan.Format(time.RFC3339)
		}
		s.app.addRow(&t, "imagerepository", named, r.Namespace, r.Name, scan, title(r.Suspended), title(r.Ready), r.Message)
	}
	return listing{kind: "ImageRepository", items: rows, table: t, count: len(rows)}, nil
}

func (s *imageStatus) listPolicies(ctx context.Context, _ string, named bool) (listing, error) {
	rows := s.Policies(ctx)
	t := s.app.newTable("NAME", "LATEST IMAGE", "READY", "MESSAGE")
	for _, r := range rows {
		s.app.addRow(&t, "imagepolicy", named, r.Namespace, r.Name, r.LatestImage, title(r.Ready), r.Message)
	}
	return listing{kind: "ImagePolicy", items: rows, table: t, count: len(rows)}, nil
}

func (s *imageStatus) listUpdates(ctx context.Context, _ string, named bool) (listing, error) {
	rows := s.Updates(ctx)
	t := s.app.newTable("NAME", "LAST RUN", "SUSPENDED", "READY", "MESSAGE")
	for _, r := range rows {
		run := ""
		if r.LastRun != nil {
			run = r.LastRun.Format(time.RFC3339)
		}
		s.app.addRow(&t, "imageupdateautomation", named, r.Namespace, r.Name, run, title(r.Suspended), title(r.Ready), r.Message)
	}
	return listing{kind: "ImageUpdateAutomation", items: rows, table: t, count: len(rows)}, nil
}

func (s *imageStatus) printer(list lister) func(context.Context) error {
	return func(ctx context.Context) error {
		l, err := list(ctx, "", s.prefix)
		if err != nil {
			return err
		}
		return s.app.print(l.items, l.table)
	}
}

func (s *imageStatus) printRepositories(ctx context.Context) error {
	return s.printer(s.listRepositories)(ctx)
}

func (s *imageStatus) printPolicies(ctx context.Context) error {
	return s.printer(s.listPolicies)(ctx)
}

func (s *imageStatus) printUpdates(ctx context.Context) error {
	return s.printer(s.listUpdates)(ctx)
}

// printAll prints the three tables as `flux get images all` does: names
// prefixed with their kind, a blank line between tables; as JSON or YAML,
// one document holding the three lists.
func (s *imageStatus) printAll(ctx context.Context) error {
	if s.app.Output != "table" {
		return s.app.print(struct {
			Repositories []ImageRepositoryStatus `json:"repositories"`
			Policies     []ImagePolicyStatus     `json:"policies"`
			Updates      []ImageUpdateStatus     `json:"updates"`
		}{s.Repositories(ctx), s.Policies(ctx), s.Updates(ctx)}, table{})
	}
	s.prefix = true
	for i, p := range []func(context.Context) error{s.printRepositories, s.printPolicies, s.printUpdates} {
		if i > 0 {
			fmt.Fprintln(s.app.Out)
		}
		if err := p(ctx); err != nil {
			return err
		}
	}
	return nil
}

// imageListers are the image tables of `get all`: none when the config
// folder defines no image object.
func (a *App) imageListers(ctx context.Context) ([]lister, error) {
	s, err := a.imageStatus(ctx)
	if err != nil {
		return nil, err
	}
	c := s.cfg
	if len(c.ImageRepositories)+len(c.ImagePolicies)+len(c.ImageUpdateAutomations) == 0 {
		return nil, nil
	}
	return []lister{s.listRepositories, s.listPolicies, s.listUpdates}, nil
}
