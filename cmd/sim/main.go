// Command fleetsim simulates a transit fleet and produces its streams to
// Kafka (or stdout), and can run a standalone embedded broker.
package main

import (
	"os"

	"github.com/fleetwatch/fleetwatch/internal/cli"
)

func main() {
	os.Exit(cli.Fleetsim(os.Args[1:], os.Stdout, os.Stderr))
}
