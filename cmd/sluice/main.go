// Command sluice shows and steers what Sluice did, with Flux's verbs and
// columns: get, tree, build, diff, reconcile, suspend, resume, check, uninstall.
package main

import (
	"context"
	"os"
	"os/signal"

	"github.com/sluice-gitops/sluice/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	code := cli.Run(ctx, os.Args[1:], cli.IO{In: os.Stdin, Out: os.Stdout, Err: os.Stderr}, os.LookupEnv)
	stop()
	os.Exit(code)
}
