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
// Kustomization (Drifted, Missing, Extra, Behind), dimensioned by
// Kustomization. Lambda sends stderr to CloudWatch Logs, which turns the
// lines into metrics without an SDK call.
func WriteMetrics(w io.Writer, rep *Report, now time.Time) error {
	for _, k := range rep.Kustomizations {
		d, m, e := k.Counts()
		behind := 0
		if k.Behind {
			behind = 1
		}
		line := map[string]any{
			"_aws": map[string]any{
				"Timestamp": now.UnixMilli(),
				"CloudWatchMetrics": []any{map[string]any{
					"Namespace":  MetricsNamespace,
					"Dimensions": [][]string{{"Kustomization"}},
					"Metrics": []map[string]string{
						{"Name": "Drifted", "Unit": "Count"}, {"Name": "Missing", "Unit": "Count"},
						{"Name": "Extra", "Unit": "Count"}, {"Name": "Behind", "Unit": "Count"},
					},
				}},
			},
			"Kustomization": k.Name,
			"Drifted":       d,
			"Missing":       m,
			"Extra":         e,
			"Behind":        behind,
		}
		b, err := json.Marshal(line)
		if err != nil {
			return err
		}
		if _, err := fmt.Fprintf(w, "%s\n", b); err != nil {
			return fmt.Errorf("writing metrics: %w", err)
		}
	}
	return nil
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
