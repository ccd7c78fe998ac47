// Command demo runs the Flux tutorial's whole story through Sluice's real
// function binaries, against a real kube-apiserver (or the cluster that
// SLUICE_DEMO_KUBECONFIG names: make demo KUBECONFIG=...) and a real Git server, with local stand-ins for GitHub's webhook
// delivery and statuses, SQS, EventBridge and ECR.
package main

import (
	"context"
	"fmt"
	"io"
	"log"
	"os"
	"os/signal"
)

func main() {
	// The Git server's library logs every request through the standard
	// logger; the story says what happens instead.
	log.SetOutput(io.Discard)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := Run(ctx, os.Stdout, os.Getenv("SLUICE_DEMO_KUBECONFIG")); err != nil {
		fmt.Fprintln(os.Stderr, "\ndemo FAILED:", err)
		os.Exit(1)
	}
}
