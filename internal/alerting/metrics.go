package alerting

import (
	"encoding/json"
	"fmt"
	"io"
	"time"
)

// MetricFailed is the EMF metric counting notifications not delivered,
// in the namespace Sluice, with no dimensions (one alarm covers them all).
const MetricFailed = "NotificationsFailed"

func writeFailedMetric(w io.Writer, now time.Time, providerType string) error {
	line := map[string]any{
		MetricFailed:   1,
		"ProviderType": providerType, // a property, searchable in Logs Insights
		"_aws": map[string]any{
			"Timestamp": now.UnixMilli(),
			"CloudWatchMetrics": []any{map[string]any{
				"Namespace":  "Sluice",
				"Dimensions": [][]string{{}},
				"Metrics":    []map[string]string{{"Name": MetricFailed, "Unit": "Count"}},
			}},
		},
	}
	b, err := json.Marshal(line)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "%s\n", b)
	return err
}
