package cli

import (
	"cmp"
	"fmt"
	"io"
	"runtime/debug"
	"strings"

	"github.com/spf13/pflag"
)

// helpText is what a command's --help prints above its flags.
type helpText struct {
	usage    string // synopsis, without the leading "Usage: "
	summary  string // one line: what it does
	examples []string
}

// command is one line of a binary's command list; name "" is what runs
// without a command.
type command struct{ name, summary string }

// program is a binary's commands: its overview, `help COMMAND` and the
// unknown-command errors all read them here, so they cannot disagree.
type program struct {
	name     string
	commands []command
}

var watchProgram = program{name: prog, commands: []command{
	{"", "the live TUI; its flags are below"},
	{"snapshot", "consume, then print one frame or a JSON summary, and exit"},
	{"serve", "serve the TUI over SSH"},
	{"record", "record every stream into PostgreSQL, exactly once, in a consumer group"},
	{"replay", "the live screen, fed from the recorded history, with a time bar"},
	{"history", "recorded rows as a table, CSV or JSON: weather, stations, a vehicle's track"},
	{"alerts", "judge the fleet as dispatch tools do: alerts as JSON lines as they open and close"},
}}

var simProgram = program{name: simProg, commands: []command{
	{"run", "simulate and produce (the default); its flags are below"},
	{"broker", "run only the embedded broker (Kafka protocol) until stopped"},
	{"stations", "write the network's stations into a PostgreSQL table of the CTA's shape, for Kafka Connect"},
}}

// helpTexts are keyed by flag set name: a binary's own name for its
// overview, "NAME COMMAND" for a command.
var helpTexts = map[string]helpText{
	prog: {
		usage:   prog + " [COMMAND] [flags]",
		summary: "Watch a live transit fleet from Kafka in the terminal.",
		examples: []string{
			prog + " --demo",
			prog + " -b kafka:9092 --vehicles-topic busData",
			prog + " snapshot --json --until-caught-up",
			prog + " serve --authorized-keys ~/.ssh/authorized_keys",
		},
	},
	prog + " snapshot": {
		usage:   prog + " snapshot [flags]",
		summary: "Consume, then print one text frame or the JSON summary, and exit; without --after, read until caught up.",
		examples: []string{
			prog + " snapshot --json --until-caught-up",
			prog + " snapshot --demo --after 10s --width 100 --height 30",
			prog + " snapshot -b kafka:9092 --from 15m --json",
		},
	},
	prog + " serve": {
		usage:   prog + " serve [flags]",
		summary: "Serve the live TUI over SSH; every viewer shares one consumer and has its own view.",
		examples: []string{
			prog + " serve --authorized-keys ~/.ssh/authorized_keys",
			prog + " serve --demo --listen 0.0.0.0:2222 --authorized-keys keys.pub",
		},
	},
	prog + " record": {
		usage:   prog + " record --db URL [flags]",
		summary: "Consume the vehicle, station and weather topics into PostgreSQL; rows and offsets commit together, so a restart or rebalance loses nothing and writes nothing twice.",
		examples: []string{
			prog + " record --db postgres://fleet:fleet@localhost:5432/fleet -b kafka:9092",
			prog + " record --db $FLEETWATCH_DB --retain 30d --group fleet-history",
		},
	},
	prog + " replay": {
		usage:   prog + " replay --db URL [--from TIME] [--to TIME] [--speed X]",
		summary: "Play recorded history on the live screen: space pauses, [ ] seek a minute, { } ten minutes, < > change the speed.",
		examples: []string{
			prog + " replay --db $FLEETWATCH_DB --from 2026-11-22T08:00:00Z --speed 10",
			prog + " replay --db $FLEETWATCH_DB --from 2h",
		},
	},
	prog + " alerts": {
		usage:   prog + " alerts [flags] [--until-caught-up | --after D] [--to-topic TOPIC]",
		summary: "Print alerts (off route, no progress, late, early, bunched, gapped, stale, feed silent, zones) as JSON lines as they open and close; thresholds are flags.",
		examples: []string{
			prog + " alerts -b kafka:9092 --network routes.geojson --zones depots.geojson",
			prog + " alerts --until-caught-up --to-topic fleet.alerts --late 300",
		},
	},
	prog + " history": {
		usage:   prog + " history weather|stations|vehicle ID --db URL [--since D] [--format table|csv|json]",
		summary: "Print recorded rows: an area's weather, a station's events, a vehicle's track.",
		examples: []string{
			prog + " history weather chicago --since 1h",
			prog + " history vehicle blue-07 --since 2026-11-22T08:00:00Z --format csv",
		},
	},
	simProg: {
		usage:   simProg + " [COMMAND] [flags]",
		summary: "Simulate a transit fleet and produce its vehicles, station events and weather to Kafka.",
		examples: []string{
			simProg + " --embedded-broker 127.0.0.1:9092",
			simProg + " -b kafka:9092 --vehicles 200 --speedup 10",
			simProg + " --output jsonl --speedup max --duration 10m --seed 42",
			simProg + " --roam 500 --roam-area -74.05,40.68,-73.90,40.82 --vehicles 0",
			simProg + " --speedup 60 --duration 3h --seed 7 --incidents default --truth truth.jsonl",
			simProg + " broker --listen 127.0.0.1:9092",
		},
	},
	simProg + " run": {
		usage:   simProg + " run [flags]",
		summary: "Simulate the fleet and produce it to Kafka, or as JSON lines to stdout.",
		examples: []string{
			simProg + " run -b kafka:9092 --vehicles 200 --speedup 10",
			simProg + " run --output jsonl --speedup max --duration 10m --seed 42",
			simProg + " run --roam 500 --roam-area -74.05,40.68,-73.90,40.82 --vehicles 0",
			simProg + " run --speedup max --duration 3h --seed 7 --incidents off_route:4,late:2 --truth truth.jsonl",
		},
	},
	simProg + " broker": {
		usage:    simProg + " broker [flags]",
		summary:  "Run only the embedded broker (Kafka protocol) until stopped.",
		examples: []string{simProg + " broker --listen 127.0.0.1:9092"},
	},
	simProg + " stations": {
		usage: simProg + " stations --db URL [--network FILE | --gtfs FEED] [--if-empty | --prepare-only]",
		summary: "Upsert the network's stations into public.stations, one row per station in the CTA pipeline's shape " +
			"(stop_id, station_id, names, \"order\", a boolean column per line, lat, lon), creating the table when missing and " +
			"preparing it for Kafka Connect's Debezium source (REPLICA IDENTITY FULL, publication dbz_stations); " +
			"rows already as written are not touched. Prints {\"stations\",\"inserted\",\"updated\",\"unchanged\"} on stderr.",
		examples: []string{
			simProg + " stations --db postgres://fleet:fleet@127.0.0.1:5432/cta?sslmode=disable",
			simProg + " stations --db postgres://fleet:fleet@127.0.0.1:5432/cta?sslmode=disable --gtfs feed.zip",
		},
	},
}

// names lists the commands for error messages.
func (p *program) names() string {
	var names []string
	for _, c := range p.commands {
		if c.name != "" {
			names = append(names, c.name)
		}
	}
	return strings.Join(names, ", ")
}

// resolve turns the meta commands into what runs them: "help" into
// "--help", "help COMMAND" into "COMMAND --help", so each command prints
// its own help; "version" and "--version" report showVersion.
func (p *program) resolve(args []string) (rest []string, showVersion bool, err error) {
	if len(args) == 0 {
		return args, false, nil
	}
	switch args[0] {
	case "version", "--version":
		return nil, true, nil
	case "help":
		switch {
		case len(args) == 1:
			return []string{"--help"}, false, nil
		case len(args) > 2:
			return nil, false, usagef("help: want one command, got %d; commands: %s", len(args)-1, p.names())
		}
		for _, c := range p.commands {
			if c.name != "" && args[1] == c.name {
				return []string{c.name, "--help"}, false, nil
			}
		}
		return nil, false, usagef("help: unknown command %q; commands: %s", args[1], p.names())
	}
	return args, false, nil
}

// printHelp writes a flag set's help: what the command does, the
// binary's commands on its overview, examples, then the flags.
func printHelp(w io.Writer, fs *pflag.FlagSet) {
	h, ok := helpTexts[fs.Name()]
	if !ok {
		h = helpText{usage: fs.Name() + " [flags]"}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Usage: %s\n\n", h.usage)
	if h.summary != "" {
		fmt.Fprintf(&b, "%s\n\n", h.summary)
	}
	for _, p := range []*program{&watchProgram, &simProgram} {
		if fs.Name() != p.name {
			continue
		}
		b.WriteString("Commands:\n")
		for _, c := range p.commands {
			fmt.Fprintf(&b, "  %-10s %s\n", cmp.Or(c.name, "(none)"), c.summary)
		}
		fmt.Fprintf(&b, "  %-10s %s\n", "help", "help on a command: "+p.name+" help COMMAND, the same as "+p.name+" COMMAND --help")
		fmt.Fprintf(&b, "  %-10s %s\n\n", "version", "print the version (also --version)")
	}
	if len(h.examples) > 0 {
		b.WriteString("Examples:\n")
		for _, e := range h.examples {
			fmt.Fprintf(&b, "  %s\n", e)
		}
		b.WriteString("\n")
	}
	fmt.Fprintf(&b, "Flags:\n%s", fs.FlagUsages())
	io.WriteString(w, b.String())
}

// version is the binary's version from its build information: the module
// version of a release (`go install …@v1.2.3`, or a tagged `go build`),
// else the commit it was built from, else "devel".
func version() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "devel"
	}
	if v := bi.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	rev, dirty := "", false
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	if rev == "" {
		return "devel"
	}
	rev = rev[:min(len(rev), 12)]
	if dirty {
		rev += "-dirty"
	}
	return rev
}

func printVersion(w io.Writer, name string) error {
	_, err := fmt.Fprintf(w, "%s %s\n", name, version())
	return err
}
