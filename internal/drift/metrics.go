package drift

import (
	"encoding/json"
	"fmt"
	"io"
	"time"
)

// MetricsNamespace is the CloudWatch namespace of Sluice's metrics.
const MetricsNamespace = "Sluice"

// WriteMetrics writes one CloudWatch Embedded Metric Format line per
// Kustomization (Drifted, Missing, Extra, Behind, and CheckFailed: 1 when it
// could not be checked), dimensioned by Kustomization, and one line for the
// run (ChecksFailed: how many Kustomizations could not be checked),
// dimensioned by Repository. Lambda sends stderr to CloudWatch Logs, which
// turns the lines into metrics without an SDK call.
func WriteMetrics(w io.Writer, repo string, rep *Report, now time.Time) error {
	failed := 0
	for _, k := range rep.Kustomizations {
		d, m, e := k.Counts()
		if err := writeEMF(w, now, "Kustomization", k.Name, []metric{
			{"Drifted", d}, {"Missing", m}, {"Extra", e}, {"Behind", b2i(k.Behind)}, {"CheckFailed", b2i(k.Error != "")},
		}); err != nil {
			return err
		}
		failed += b2i(k.Error != "")
	}
	return WriteRunMetrics(w, repo, failed, now)
}

// WriteRunMetrics writes the run's line: ChecksFailed, dimensioned by
// Repository. A run that could not start (Git unreachable, say) writes it
// alone, with 1.
func WriteRunMetrics(w io.Writer, repo string, checksFailed int, now time.Time) error {
	return writeEMF(w, now, "Repository", repo, []metric{{"ChecksFailed", checksFailed}})
}

type metric struct {
	name  string
	value int
}

func writeEMF(w io.Writer, now time.Time, dim, dimValue string, metrics []metric) error {
	defs := make([]map[string]string, 0, len(metrics))
	line := map[string]any{dim: dimValue}
	for _, m := range metrics {
		defs = append(defs, map[string]string{"Name": m.name, "Unit": "Count"})
		line[m.name] = m.value
	}
	line["_aws"] = map[string]any{
		"Timestamp": now.UnixMilli(),
		"CloudWatchMetrics": []any{map[string]any{
			"Namespace":  MetricsNamespace,
			"Dimensions": [][]string{{dim}},
			"Metrics":    defs,
		}},
	}
	b, err := json.Marshal(line)
	if err != nil {
		return err
	}
	if _, err := fmt.Fprintf(w, "%s\n", b); err != nil {
		return fmt.Errorf("writing metrics: %w", err)
	}
	return nil
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// Summary is a person's one-paragraph account of rep, for notifications.
func Summary(rep *Report, repo string) string {
	s := fmt.Sprintf("Sluice drift check of %s: %d drifted, %d missing, %d extra object(s).", repo, rep.Drifted, rep.Missing, rep.Extra)
	for _, k := range rep.Kustomizations {
		d, m, e := k.Counts()
		if k.Error != "" {
			s += fmt.Sprintf("\n- %s: check failed: %s", k.Name, k.Error)
			continue
		}
		if d+m+e == 0 && !k.Behind {
			continue
		}
		s += fmt.Sprintf("\n- %s (%s): %d drifted, %d missing, %d extra", k.Name, k.Mode, d, m, e)
		if k.Behind {
			s += fmt.Sprintf("; behind: applied %s, head %s", short(k.Revision), short(k.Head))
		}
		for _, o := range k.Objects {
			if o.Status != "InSync" {
				s += fmt.Sprintf("\n    %s %s %v", o.Status, o.ID, o.Fields)
			}
		}
	}
	for _, k := range rep.Suspended {
		s += fmt.Sprintf("\n- %s: not checked: %s", k.Name, k.Reason)
	}
	if rep.Queued {
		s += "\nA reconcile was queued to correct it."
	}
	return s
}

func short(sha string) string {
	if len(sha) > 12 {
		return sha[:12]
	}
	if sha == "" {
		return "(never)"
	}
	return sha
}
