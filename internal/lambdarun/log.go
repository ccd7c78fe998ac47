package lambdarun

import (
	"context"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/aws/aws-lambda-go/lambdacontext"
)

// SetupLogging makes slog's default logger write to stderr as Lambda's own
// logger would: JSON when AWS_LAMBDA_LOG_FORMAT=JSON, text otherwise, at the
// level of AWS_LAMBDA_LOG_LEVEL, each record carrying the request id. Stdout is
// left to the local runner's result.
func SetupLogging() {
	slog.SetDefault(slog.New(NewLogHandler(os.Stderr, os.Getenv("AWS_LAMBDA_LOG_FORMAT"), os.Getenv("AWS_LAMBDA_LOG_LEVEL"))))
}

// NewLogHandler returns the slog handler SetupLogging installs, writing to w.
func NewLogHandler(w io.Writer, format, level string) slog.Handler {
	opts := &slog.HandlerOptions{Level: parseLevel(level)}
	var h slog.Handler
	if strings.EqualFold(format, "JSON") {
		h = slog.NewJSONHandler(w, opts)
	} else {
		h = slog.NewTextHandler(w, opts)
	}
	return requestIDHandler{h}
}

func parseLevel(s string) slog.Level {
	switch strings.ToUpper(s) {
	case "DEBUG", "TRACE":
		return slog.LevelDebug
	case "WARN":
		return slog.LevelWarn
	case "ERROR", "FATAL":
		return slog.LevelError
	default:
		return slog.LevelInfo
	}
}

// requestIDHandler adds the Lambda request id, so one invocation's lines can
// be found among a warm container's.
type requestIDHandler struct{ slog.Handler }

func (h requestIDHandler) Handle(ctx context.Context, r slog.Record) error {
	if lc, ok := lambdacontext.FromContext(ctx); ok && lc.AwsRequestID != "" {
		r.AddAttrs(slog.String("requestId", lc.AwsRequestID))
	}
	return h.Handler.Handle(ctx, r)
}

func (h requestIDHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return requestIDHandler{h.Handler.WithAttrs(attrs)}
}

func (h requestIDHandler) WithGroup(name string) slog.Handler {
	return requestIDHandler{h.Handler.WithGroup(name)}
}
