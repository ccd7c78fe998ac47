package webhook

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/sluice-gitops/sluice/internal/queue"
)

// BenchmarkHandle measures events/github-push.json (a signed push to the
// config branch, as GitHub sends it) from the Function URL event to the
// queued message: with an in-memory queue (the handler's own cost: verify,
// parse, decide), and through the real SQS client to the loopback SQS
// stand-in. Each delivery id is new, so every iteration really queues.
func BenchmarkHandle(b *testing.B) {
	sample, err := os.ReadFile(filepath.Join("..", "..", "events", "github-push.json"))
	if err != nil {
		b.Fatal(err)
	}
	var req events.LambdaFunctionURLRequest
	if err := json.Unmarshal(sample, &req); err != nil {
		b.Fatal(err)
	}
	// Logs are formatted as in Lambda (JSON) but not written, so the
	// terminal is not the bottleneck.
	defer slog.SetDefault(slog.Default())
	slog.SetDefault(slog.New(slog.NewJSONHandler(io.Discard, nil)))
	run := func(b *testing.B, h *Handler) {
		b.ReportAllocs()
		ctx := context.Background()
		for i := 0; b.Loop(); i++ {
			r := req
			r.Headers = map[string]string{}
			for k, v := range req.Headers {
				r.Headers[k] = v
			}
			r.Headers["x-github-delivery"] = fmt.Sprintf("bench-%d", i)
			resp, err := h.Handle(ctx, r)
			if err != nil || resp.StatusCode != http.StatusAccepted {
				b.Fatalf("%d %v", resp.StatusCode, err)
			}
		}
	}
	b.Run("memory-queue", func(b *testing.B) {
		run(b, newHandler(b, fixtureURL, "main", &recordingQueue{}))
	})
	b.Run("sqs-standin", func(b *testing.B) {
		srv, client := startSQS(b)
		run(b, newHandler(b, fixtureURL, "main", queue.NewSender(client, srv.QueueURL(queueName))))
	})
}
