package lambdarun

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
)

// runtimeAPIVar is what aws-lambda-go itself checks to know it runs in Lambda.
const runtimeAPIVar = "AWS_LAMBDA_RUNTIME_API"

// Start runs handler (any handler lambda.Start accepts). Under Lambda it hands
// over to lambda.Start. Otherwise it invokes the handler once on the event in
// the file named by the first argument (standard input when none), writes the
// JSON result to standard output and exits non-zero if the handler fails.
func Start(handler any) {
	if os.Getenv(runtimeAPIVar) != "" {
		lambda.Start(handler)
		return
	}
	os.Exit(RunLocal(context.Background(), handler, os.Args[1:], os.Stdin, os.Stdout))
}

// RunLocal invokes handler once on the event named by args (a file path) or
// read from stdin, writes the result to stdout and returns the exit code.
func RunLocal(ctx context.Context, handler any, args []string, stdin io.Reader, stdout io.Writer) int {
	payload, source, err := readEvent(args, stdin)
	if err != nil {
		slog.ErrorContext(ctx, "reading event", "error", err)
		return 2
	}
	ctx = lambdacontext.NewContext(ctx, &lambdacontext.LambdaContext{AwsRequestID: "local"})
	out, err := lambda.NewHandler(handler).Invoke(ctx, payload)
	if err != nil {
		slog.ErrorContext(ctx, "handler failed", "event", source, "error", err)
		return 1
	}
	if _, err := fmt.Fprintf(stdout, "%s\n", out); err != nil {
		slog.ErrorContext(ctx, "writing result", "error", err)
		return 1
	}
	return 0
}

func readEvent(args []string, stdin io.Reader) ([]byte, string, error) {
	if len(args) > 1 {
		return nil, "", fmt.Errorf("expected at most one argument, the event file; got %d", len(args))
	}
	if len(args) == 1 && args[0] != "-" {
		b, err := os.ReadFile(args[0])
		if err != nil {
			return nil, args[0], fmt.Errorf("reading event file: %w", err)
		}
		return b, args[0], nil
	}
	b, err := io.ReadAll(stdin)
	if err != nil {
		return nil, "stdin", fmt.Errorf("reading event from standard input: %w", err)
	}
	return b, "stdin", nil
}

// ExitOnError ends a function's start-up with exit code 2 when err is not nil:
// a missing setting or an unreachable dependency is reported once, clearly,
// instead of failing every invocation.
func ExitOnError(err error, what string) {
	if err != nil {
		slog.Error(what, "error", err)
		os.Exit(2)
	}
}
