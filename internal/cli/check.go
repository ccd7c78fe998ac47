package cli

import "github.com/spf13/cobra"

func newCheckCmd(app *App) *cobra.Command { return &cobra.Command{Use: "check"} }
