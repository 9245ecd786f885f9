// Command fleetwatch is the live fleet monitor for the terminal.
package main

import (
	"os"

	"github.com/fleetwatch/fleetwatch/internal/cli"
)

func main() {
	os.Exit(cli.Fleetwatch(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}
