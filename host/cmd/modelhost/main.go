// Command modelhost serves machine-learning models that run as plugin
// processes. See "modelhost help" and docs/ in the repository.
package main

import (
	"context"
	"os"

	"github.com/modelhost/modelhost/host/internal/cli"
)

func main() {
	os.Exit(cli.Main(context.Background(), os.Args[1:], os.Stdout, os.Stderr))
}
